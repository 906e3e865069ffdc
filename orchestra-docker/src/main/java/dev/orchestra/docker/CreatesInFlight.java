package dev.orchestra.docker;

import dev.orchestra.spi.Exceptions;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates of unnamed containers (the volume-data helpers) that go on when their caller is
 * interrupted.
 *
 * <p>An interrupt that cuts a create request off does not stop the engine: it creates the container
 * anyway, and the driver never learns its id. A loaded engine (Podman especially) may take seconds
 * to do so, so that {@link NamespaceRemoval} could list the namespace's containers before the
 * container exists, and leave it behind. So each create runs on a thread of its own, bounded by the
 * request timeout as every request is: an interrupted caller returns at once with {@link
 * dev.orchestra.OrchestraInterruptedException}, and the container is removed as soon as the engine
 * answers with its id. {@link #closeAndAwait} makes close() wait for the creates in flight before
 * it lists the namespace's containers; no create starts after it.
 *
 * <p>A task's container has a name of its own, which settles an interrupted create instead (see
 * {@link ContainerCreation}).
 */
final class CreatesInFlight {

  private static final Logger LOG = LoggerFactory.getLogger(CreatesInFlight.class);

  private final DockerNamespace namespace;

  /** The creates sent and not yet settled; guarded by {@code this}. */
  private final Set<CompletableFuture<String>> running = new HashSet<>();

  /** Whether close() began; guarded by {@code this}. */
  private boolean closing;

  CreatesInFlight(DockerNamespace namespace) {
    this.namespace = namespace;
  }

  /**
   * Sends a create and waits for its answer.
   *
   * @param request the create; returns the new container's id
   * @param what the container, for messages ({@code "helper container of volume 'data' ..."})
   * @return the container's id
   * @throws dev.orchestra.OrchestraInterruptedException if the caller was interrupted first (its
   *     flag is set again); the container the engine then creates is removed
   * @throws IllegalStateException if the driver is closing
   * @throws RuntimeException what the request threw
   */
  String create(Supplier<String> request, String what) {
    CompletableFuture<String> answer = new CompletableFuture<>();
    synchronized (this) {
      if (closing) {
        throw new IllegalStateException(
            "the docker driver of namespace '" + namespace.name() + "' is closed");
      }
      running.add(answer);
    }
    Thread sender = new Thread(() -> send(request, answer, what), "orchestra-docker create");
    sender.setDaemon(true);
    sender.setContextClassLoader(CreatesInFlight.class.getClassLoader());
    sender.start();
    try {
      answer.get();
    } catch (InterruptedException e) {
      if (answer.cancel(false)) {
        throw Exceptions.launder("creating the " + what, e);
      }
      // Answered just as the interrupt came: returned with the flag set, as a call that completes.
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      // Reported below.
    }
    try {
      return answer.join();
    } catch (CompletionException e) {
      throw Exceptions.launder("creating the " + what, e);
    }
  }

  private void send(Supplier<String> request, CompletableFuture<String> answer, String what) {
    try {
      String id = request.get();
      if (!answer.complete(id)) {
        LOG.debug("removing the {}, created after its caller was interrupted", what);
        removeAbandoned(id, what);
      }
    } catch (RuntimeException | Error e) {
      answer.completeExceptionally(e);
    } finally {
      synchronized (this) {
        running.remove(answer);
        notifyAll();
      }
    }
  }

  private void removeAbandoned(String id, String what) {
    try {
      ContainerRemoval.remove(namespace.api(), id, what + " " + id);
    } catch (RuntimeException e) {
      LOG.warn(
          "could not remove the {} {}, created after its caller was interrupted; close() removes"
              + " it: {}",
          what,
          id,
          e.getMessage());
    }
  }

  /**
   * close() began: no create starts any more, and this waits until those in flight are answered and
   * what their interrupted callers left is removed, or until {@code bound} passed.
   *
   * @param bound the longest wait
   * @throws dev.orchestra.OrchestraInterruptedException if interrupted meanwhile (flag set again)
   */
  synchronized void closeAndAwait(Duration bound) {
    closing = true;
    long deadline = System.nanoTime() + bound.toNanos();
    while (!running.isEmpty()) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        LOG.warn(
            "closing namespace '{}': {} container create(s) still unanswered after {}; the"
                + " containers they make may be left",
            namespace.name(),
            running.size(),
            bound);
        return;
      }
      try {
        wait(Math.max(1, left / 1_000_000));
      } catch (InterruptedException e) {
        throw Exceptions.launder("waiting for the container creates in flight", e);
      }
    }
  }
}
