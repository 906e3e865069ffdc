package dev.orchestra.kubernetes;

import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.spi.Durations;
import dev.orchestra.spi.Exceptions;
import dev.orchestra.spi.Schedulers;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.PodResource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * What the driver's collaborators share: the client, the settings, the orchestra namespace and its
 * label value, and the one pod watch.
 */
final class KubeContext {

  final String namespace;
  final KubernetesClient client;
  final KubernetesDriverProvider.Settings settings;
  final String namespaceLabel;

  /** Whether the API server separates the log streams: null until known. */
  final AtomicReference<Boolean> splitLogs = new AtomicReference<>();

  PodEvents events;

  /** Runs the timeouts of sandbox steps; its threads end when idle. */
  private final ScheduledThreadPoolExecutor timers =
      Schedulers.idleStopping(KubeContext.class, "orchestra-k8s-timer", 1, Duration.ofSeconds(30));

  /** Where the steps' output is recorded; created on first use, deleted by {@link #close}. */
  private Path scratch;

  /** Runs the calls of {@link #bounded}: daemon threads that end when idle. */
  private final ThreadPoolExecutor boundedCalls;

  KubeContext(
      String namespace, KubernetesClient client, KubernetesDriverProvider.Settings settings) {
    this.namespace = namespace;
    this.client = client;
    this.settings = settings;
    this.namespaceLabel = KubeNames.labelValue(namespace);
    AtomicInteger threads = new AtomicInteger();
    this.boundedCalls =
        new ThreadPoolExecutor(
            0,
            Integer.MAX_VALUE,
            5,
            TimeUnit.SECONDS,
            new SynchronousQueue<>(),
            r -> {
              Thread t =
                  new Thread(
                      r,
                      "orchestra-kubernetes-call-" + namespace + "-" + threads.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Makes one API call as {@link #call} does, but gives up waiting for it after the request
   * timeout: fabric8 retries a request that timed out (once, see {@link
   * KubernetesDriverProvider#config}), so a call to a server that accepts connections and never
   * answers would otherwise take twice the timeout and more. The call given up on is interrupted,
   * which makes fabric8 abandon its request.
   *
   * @throws OrchestraException on a failure, or when the server did not answer in time: then its
   *     cause is a {@link TimeoutException} (see {@link #unanswered})
   * @throws OrchestraInterruptedException when the caller is interrupted while it waits
   */
  <T> T bounded(String what, Supplier<T> call) {
    Duration timeout = settings.requestTimeout();
    Future<T> f = boundedCalls.submit(() -> call(what, call));
    try {
      return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      f.cancel(true);
      throw new OrchestraException(
          what
              + " failed: the API server at "
              + KubeNames.shown(client.getMasterUrl())
              + " did not answer within "
              + timeout,
          e);
    } catch (InterruptedException e) {
      f.cancel(true);
      Thread.currentThread().interrupt();
      throw new OrchestraInterruptedException(what + " was interrupted", e);
    } catch (ExecutionException e) {
      throw Exceptions.launder(what, e);
    }
  }

  /** Whether a failure of {@link #bounded} is the server's silence. */
  static boolean unanswered(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof TimeoutException
          || c instanceof java.net.http.HttpTimeoutException
          || c instanceof java.net.SocketTimeoutException) {
        return true;
      }
    }
    return false;
  }

  PodResource pod(String name) {
    return client.pods().inNamespace(settings.kubeNamespace()).withName(name);
  }

  /** The pod of that name, or null; an API failure as {@link #call} throws it. */
  Pod getPod(String name) {
    return call("reading pod " + name, () -> pod(name).get());
  }

  /**
   * Makes one API call: a failure becomes an {@link OrchestraException} saying what failed and what
   * the server answered, an interrupted call an {@link OrchestraInterruptedException}.
   */
  static <T> T call(String what, Supplier<T> call) {
    try {
      return call.get();
    } catch (KubernetesClientException e) {
      rethrowInterruption(what, e);
      throw new OrchestraException(
          what
              + " failed: "
              + (e.getCode() > 0 ? "the API server answered " + e.getCode() + ": " : "")
              + e.getMessage(),
          e);
    }
  }

  /**
   * Throws {@link OrchestraInterruptedException} (the interrupt flag set again) when a client call
   * failed because its thread was interrupted; fabric8 reports that as a {@link
   * KubernetesClientException}.
   */
  /**
   * Runs {@code work} with the interrupt flag cleared and sets it again after: the clean-up after
   * an interrupted call must still reach the API server.
   */
  static void uninterrupted(Runnable work) {
    boolean interrupted = Thread.interrupted();
    try {
      work.run();
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  static void rethrowInterruption(String what, KubernetesClientException e) {
    Throwable cause = e.getCause();
    if (Thread.currentThread().isInterrupted()
        || (cause != null && Exceptions.isInterruption(cause))) {
      Thread.currentThread().interrupt();
      throw new OrchestraInterruptedException(what + " was interrupted", e);
    }
  }

  /**
   * The directory of this driver instance on the client's disk, for the output of sandbox steps.
   *
   * @throws IOException if it cannot be created
   */
  synchronized Path scratch() throws IOException {
    if (scratch == null) {
      scratch = Files.createTempDirectory("orchestra-k8s-steps-");
    }
    return scratch;
  }

  /** Runs {@code work} once after {@code delay}, on the driver's timer thread. */
  void schedule(Runnable work, Duration delay) {
    try {
      timers.schedule(work, Durations.saturatedNanos(delay), TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // the driver is closing: its steps go with their pods
    }
  }

  /** Stops the timers and deletes the scratch directory; the driver's close calls it last. */
  synchronized void close() {
    timers.shutdownNow();
    if (scratch == null) {
      return;
    }
    try (Stream<Path> all = Files.walk(scratch)) {
      all.sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    } catch (IOException | UncheckedIOException e) {
      org.slf4j.LoggerFactory.getLogger(KubeContext.class)
          .warn("deleting the steps' output in {} failed: {}", scratch, e.toString());
    }
  }

  String describe(String taskId) {
    return "task '" + taskId + "' of namespace '" + namespace + "'";
  }

  /** How long a removal may take: the pods' grace and a minute for the API and the kubelet. */
  Duration removalBound() {
    return settings.stopGrace().plusSeconds(60);
  }

  /**
   * Reads something every 200 ms while it is still there, at most {@code bound}.
   *
   * @param read one bounded read (a call to the API server)
   * @param present whether what was read is still there
   * @param bound how long to keep reading
   * @param what the wait, for the message of an interruption
   * @return {@code null} once it is gone; what was read last when it was still there after the
   *     bound
   * @throws OrchestraInterruptedException if the thread is interrupted
   */
  static <T> T readWhilePresent(
      Supplier<T> read, Predicate<T> present, Duration bound, String what) {
    long deadline = System.nanoTime() + bound.toNanos();
    while (true) {
      T now = read.get();
      if (!present.test(now)) {
        return null;
      }
      if (System.nanoTime() - deadline > 0) {
        return now;
      }
      sleep(Duration.ofMillis(200), what);
    }
  }

  static void sleep(Duration d, String what) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new OrchestraInterruptedException(what + " was interrupted", e);
    }
  }
}
