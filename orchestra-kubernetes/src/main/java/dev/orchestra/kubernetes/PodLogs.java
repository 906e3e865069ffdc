package dev.orchestra.kubernetes;

import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.spi.Exceptions;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.http.AsyncBody;
import io.fabric8.kubernetes.client.http.HttpClient;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;
import java.io.OutputStream;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A task's output through the log API, one request per stream: {@code GET
 * /api/v1/namespaces/{ns}/pods/{name}/log?container=task&stream=Stdout} (and {@code Stderr}), with
 * {@code follow=true} to follow. The {@code stream} parameter needs Kubernetes 1.32+ with the
 * feature gate {@code PodLogsQuerySplitStreams}; fabric8 8.0.0 does not expose it, so the request
 * goes through the client's own HTTP client (its authentication included), streamed chunk by chunk,
 * never read whole.
 *
 * <p>A server without the feature ignores the parameter and answers both requests with both streams
 * merged. The driver does not pretend: before its first read it asks once for a stream value that
 * does not exist; a server that knows the parameter refuses it (400, naming {@code stream}), one
 * that ignores it answers 200, and then every read of logs fails with an {@link OrchestraException}
 * naming the missing feature gate.
 */
final class PodLogs {

  private static final Logger LOG = LoggerFactory.getLogger(PodLogs.class);
  static final String PROBE_VALUE = "OrchestraProbe";

  private PodLogs() {}

  static void copy(KubernetesContainer c, OutputStream out, OutputStream err, boolean follow) {
    Pod pod = c.currentPod();
    if (!KubernetesContainer.hasStarted(pod)) {
      if (!follow) {
        return;
      }
      waitStarted(c);
    }
    requireSplitStreams(c);
    AtomicLong lastBytes = new AtomicLong(System.nanoTime());
    CompletableFuture<Void> o = stream(c, "Stdout", follow, out, lastBytes);
    CompletableFuture<Void> e = stream(c, "Stderr", follow, err, lastBytes);
    try {
      awaitStreams(c, CompletableFuture.allOf(o, e), lastBytes);
    } catch (InterruptedException ie) {
      o.cancel(true);
      e.cancel(true);
      Thread.currentThread().interrupt();
      throw new OrchestraInterruptedException("reading the logs of " + c + " was interrupted", ie);
    } catch (ExecutionException ee) {
      o.cancel(true);
      e.cancel(true);
      throw Exceptions.launder("reading the logs of " + c, ee);
    } catch (RuntimeException re) {
      o.cancel(true);
      e.cancel(true);
      throw re;
    }
    // the log API names the pod only by name: a pod re-created under it meanwhile would have
    // served its own log, which must not pass for this one's
    c.currentPod();
    if (follow) {
      // the log API ends a followed stream when the container ends, and the status follows
      // through the watch; a stream the server ended early (the kubelet's streaming idle timeout,
      // a kubelet restart) must not pass for the end of the task
      if (!c.endsWithin(c.context().settings.requestTimeout())) {
        throw new OrchestraException(
            "the API server ended the log streams of "
                + c
                + " while the task still runs; follow() cannot resume a stream where it stopped");
      }
      LOG.debug("followed {} to its end", c);
    }
  }

  /**
   * Waits for the log streams to end. A stream may stay quiet as long as its task does, so quiet
   * alone ends nothing; but nothing bounds the read of a response body that the server stopped
   * sending, so once the streams delivered nothing for the request timeout the API server is asked
   * (one call, bounded by the request timeout) for the pod. While it answers, quiet streams are
   * waited on; when it does not, the read ends with an {@link OrchestraException}: the server
   * stopped answering, and a later call opens new streams.
   */
  private static void awaitStreams(
      KubernetesContainer c, CompletableFuture<Void> streams, AtomicLong lastBytes)
      throws InterruptedException, ExecutionException {
    KubeContext ctx = c.context();
    long quietNanos = ctx.settings.requestTimeout().toNanos();
    long period = Math.max(100, ctx.settings.requestTimeout().toMillis() / 2);
    long lastAnswer = System.nanoTime();
    while (true) {
      try {
        streams.get(period, TimeUnit.MILLISECONDS);
        return;
      } catch (TimeoutException quiet) {
        long now = System.nanoTime();
        if (now - Math.max(lastBytes.get(), lastAnswer) < quietNanos) {
          continue;
        }
        LOG.debug(
            "the log streams of {} quiet for {}: asking for the pod",
            c,
            Duration.ofNanos(now - lastBytes.get()));
        try {
          ctx.bounded("reading pod " + c.podName(), () -> c.context().pod(c.podName()).get());
        } catch (OrchestraInterruptedException ie) {
          throw ie;
        } catch (OrchestraException noAnswer) {
          if (streams.isDone()) {
            continue;
          }
          OrchestraException failure =
              new OrchestraException(
                  "reading the logs of "
                      + c
                      + " failed: the streams were quiet for "
                      + Duration.ofNanos(System.nanoTime() - lastBytes.get())
                          .truncatedTo(ChronoUnit.MILLIS)
                      + " and the API server at "
                      + KubeNames.shown(ctx.client.getMasterUrl())
                      + " did not answer a read of the pod: "
                      + noAnswer.getMessage());
          failure.addSuppressed(noAnswer);
          throw failure;
        }
        lastAnswer = now;
      }
    }
  }

  private static void waitStarted(KubernetesContainer c) {
    try {
      CompletableFuture.anyOf(c.started(), c.onExit()).get();
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
      throw new OrchestraInterruptedException("waiting for " + c + " to start was interrupted", ie);
    } catch (ExecutionException ee) {
      throw Exceptions.launder("waiting for " + c + " to start", ee);
    }
  }

  /** Checks once per driver that the server separates the streams; see the class comment. */
  static void requireSplitStreams(KubernetesContainer c) {
    KubeContext ctx = c.context();
    Boolean known = ctx.splitLogs.get();
    if (known == null) {
      known = probe(c);
      if (known != null) {
        ctx.splitLogs.set(known);
      }
    }
    if (Boolean.FALSE.equals(known)) {
      throw new OrchestraException(
          "the Kubernetes API server at "
              + KubeNames.shown(ctx.client.getMasterUrl())
              + " merges a pod's stdout and stderr: it ignores the log query parameter 'stream'"
              + " (Stdout|Stderr), which needs Kubernetes 1.32 or later with the feature gate"
              + " PodLogsQuerySplitStreams enabled; the kubernetes driver does not deliver merged"
              + " output as separate streams, so it cannot read the logs of "
              + c);
    }
  }

  private static Boolean probe(KubernetesContainer c) {
    KubeContext ctx = c.context();
    HttpRequest request =
        ctx.client
            .getHttpClient()
            .newHttpRequestBuilder()
            .uri(logUri(c, PROBE_VALUE, false))
            .timeout(ctx.settings.requestTimeout().toMillis(), TimeUnit.MILLISECONDS)
            .build();
    HttpResponse<String> answer;
    try {
      answer =
          ctx.client
              .getHttpClient()
              .sendAsync(request, String.class)
              .get(ctx.settings.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
      throw new OrchestraInterruptedException(
          "asking the log API of " + c + " was interrupted", ie);
    } catch (ExecutionException | TimeoutException e) {
      throw Exceptions.launder("asking the log API of " + c, e);
    }
    String body = String.valueOf(answer.body());
    if (answer.code() == 200) {
      LOG.warn(
          "the API server at {} ignores the log parameter 'stream' (PodLogsQuerySplitStreams)",
          KubeNames.shown(ctx.client.getMasterUrl()));
      return false;
    }
    if ((answer.code() == 400 || answer.code() == 422) && body.contains("stream")) {
      return true;
    }
    LOG.debug("log probe of {} inconclusive: {} {}", c, answer.code(), body);
    return null;
  }

  private static CompletableFuture<Void> stream(
      KubernetesContainer c,
      String stream,
      boolean follow,
      OutputStream sink,
      AtomicLong lastBytes) {
    KubeContext ctx = c.context();
    HttpClient http = ctx.client.getHttpClient();
    HttpRequest request =
        http.newHttpRequestBuilder().uri(logUri(c, stream, follow)).forStreaming().build();
    AsyncBody.Consumer<List<ByteBuffer>> consumer =
        (buffers, body) -> {
          lastBytes.set(System.nanoTime());
          for (ByteBuffer b : buffers) {
            byte[] bytes = new byte[b.remaining()];
            b.get(bytes);
            sink.write(bytes);
          }
          sink.flush();
          body.consume();
        };
    CompletableFuture<Void> result = new CompletableFuture<>();
    http.consumeBytes(request, consumer)
        .whenComplete(
            (response, failure) -> {
              if (failure != null) {
                result.completeExceptionally(failure);
                return;
              }
              if (response.code() != 200) {
                response.body().cancel();
                result.completeExceptionally(
                    response.code() == 404
                        ? c.notFound("has no logs any more (404)")
                        : new OrchestraException(
                            "reading "
                                + stream
                                + " of "
                                + c
                                + " failed: the API server answered "
                                + response.code()));
                return;
              }
              result.whenComplete(
                  (v, t) -> {
                    if (t != null) {
                      response.body().cancel();
                    }
                  });
              response.body().consume();
              response
                  .body()
                  .done()
                  .whenComplete(
                      (v, t) -> {
                        if (t != null) {
                          result.completeExceptionally(t);
                        } else {
                          result.complete(null);
                        }
                      });
            });
    return result;
  }

  static String logUri(KubernetesContainer c, String stream, boolean follow) {
    KubeContext ctx = c.context();
    String master = ctx.client.getMasterUrl().toString();
    if (!master.endsWith("/")) {
      master += "/";
    }
    return master
        + "api/v1/namespaces/"
        + enc(ctx.settings.kubeNamespace())
        + "/pods/"
        + enc(c.podName())
        + "/log?container="
        + KubeNames.CONTAINER
        + "&stream="
        + enc(stream)
        + (follow ? "&follow=true" : "");
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
