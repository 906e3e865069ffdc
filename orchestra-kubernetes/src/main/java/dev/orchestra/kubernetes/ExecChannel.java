package dev.orchestra.kubernetes;

import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.StatusCause;
import io.fabric8.kubernetes.client.http.WebSocket;
import io.fabric8.kubernetes.client.http.WebSocketHandshakeException;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One exec in a pod's container, over a WebSocket that speaks {@value #PROTOCOL} (KEP-4006), opened
 * through the client's own HTTP client so that its configured authentication applies.
 *
 * <p>fabric8's own exec speaks {@code v4.channel.k8s.io}, which cannot close the process's stdin
 * without closing the whole connection (kubernetes#89899): here stdin ends with the v5 close
 * message (channel 255, then the stdin channel 0), and the output and the status still arrive
 * afterwards.
 *
 * <p>Every message starts with its channel: 0 stdin, 1 stdout, 2 stderr, 3 the exec's status (a
 * {@code Status}: {@code Success}, or {@code Failure} with reason {@code NonZeroExitCode} and the
 * code in the cause {@code ExitCode}). The exit code comes from that status only: a connection that
 * closes without one is a failure, never a success.
 */
final class ExecChannel implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ExecChannel.class);

  static final String PROTOCOL = "v5.channel.k8s.io";

  /** How long one stdin message may wait for the previous one to leave. */
  private static final Duration SEND_PATIENCE = Duration.ofMinutes(2);

  /** Receives the exec's output, one message at a time, in order. */
  interface Sink {
    void write(boolean stderr, byte[] bytes, int offset, int length) throws IOException;
  }

  private final String what;
  private final WebSocket ws;
  private final CompletableFuture<Integer> exit;

  ExecChannel(String what, WebSocket ws, CompletableFuture<Integer> exit) {
    this.what = what;
    this.ws = ws;
    this.exit = exit;
  }

  /**
   * Starts the exec and returns once the API server accepted it.
   *
   * @param stdin whether the process gets a stdin (else it reads end of file at once)
   * @throws IllegalStateException if the API server refuses it because the pod or its container
   *     does not run (400, 404 or 409)
   * @throws OrchestraException if the exec could not be started otherwise
   */
  static ExecChannel open(
      KubeContext ctx,
      String podName,
      List<String> command,
      boolean stdin,
      Sink sink,
      Duration bound,
      String what) {
    StringBuilder path =
        new StringBuilder("api/v1/namespaces/")
            .append(encode(ctx.settings.kubeNamespace()))
            .append("/pods/")
            .append(encode(podName))
            .append("/exec?container=")
            .append(encode(KubeNames.CONTAINER))
            .append("&stdout=true&stderr=true&stdin=")
            .append(stdin);
    command.forEach(c -> path.append("&command=").append(encode(c)));
    String base = ctx.client.getMasterUrl().toString();
    URI uri = URI.create(base + (base.endsWith("/") ? "" : "/") + path);
    CompletableFuture<Integer> exit = new CompletableFuture<>();
    Listener listener = new Listener(ctx.client.getKubernetesSerialization(), sink, exit, what);
    CompletableFuture<WebSocket> opening =
        ctx.client
            .getHttpClient()
            .newWebSocketBuilder()
            .subprotocol(PROTOCOL)
            .uri(uri)
            .connectTimeout(bound.toMillis(), TimeUnit.MILLISECONDS)
            .buildAsync(listener);
    WebSocket ws;
    try {
      ws = opening.get(bound.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      opening.thenAccept(w -> w.sendClose(1000, "interrupted"));
      Thread.currentThread().interrupt();
      throw new OrchestraInterruptedException(what + " was interrupted", e);
    } catch (TimeoutException e) {
      opening.thenAccept(w -> w.sendClose(1000, "timed out"));
      throw new OrchestraException(
          what + " failed: the API server did not accept the exec within " + bound, e);
    } catch (ExecutionException e) {
      throw refused(what, e.getCause());
    }
    return new ExecChannel(what, ws, exit);
  }

  private static RuntimeException refused(String what, Throwable cause) {
    if (cause instanceof WebSocketHandshakeException h && h.getResponse() != null) {
      int code = h.getResponse().code();
      String body = h.getMessage() == null ? "" : ": " + h.getMessage();
      if (code == 400 || code == 404 || code == 409) {
        return new IllegalStateException(
            what
                + " failed: the pod's container does not run (the API server answered "
                + code
                + body
                + ")",
            h);
      }
      return new OrchestraException(what + " failed: the API server answered " + code + body, h);
    }
    return new OrchestraException(what + " failed: " + cause, cause);
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** Completed with the exit code, or exceptionally if the exec ended without a status. */
  CompletableFuture<Integer> exit() {
    return exit;
  }

  /**
   * The process's stdin: each write is one message (callers write at most {@link
   * StdinFeeder#MESSAGE_BYTES} at once, see {@link StdinFeeder#copy}); a write waits until the
   * previous message has left, for the JDK WebSocket queues only a few. Closing it sends end of
   * file.
   */
  OutputStream stdin() {
    return new OutputStream() {
      private boolean closed;

      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        if (closed) {
          throw new IOException("the stdin of " + what + " is closed");
        }
        if (len == 0) {
          return;
        }
        ByteBuffer message = ByteBuffer.allocate(len + 1);
        message.put((byte) 0).put(b, off, len).flip();
        send(message);
      }

      @Override
      public void close() throws IOException {
        if (!closed) {
          closed = true;
          send(ByteBuffer.wrap(new byte[] {(byte) 255, 0}));
        }
      }
    };
  }

  private void send(ByteBuffer message) throws IOException {
    long deadline = System.nanoTime() + SEND_PATIENCE.toNanos();
    long pauseMillis = 1;
    while (ws.queueSize() > 0) {
      if (exit.isDone()) {
        throw new IOException("the exec of " + what + " ended");
      }
      if (System.nanoTime() - deadline > 0) {
        throw new IOException("the stdin of " + what + " was not taken within " + SEND_PATIENCE);
      }
      try {
        Thread.sleep(pauseMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("sending the stdin of " + what);
      }
      pauseMillis = Math.min(50, pauseMillis * 2);
    }
    if (!ws.send(message)) {
      throw new IOException("the WebSocket of " + what + " refused stdin: it is closed");
    }
  }

  /**
   * Closes the connection unless it has ended (the server closes it after the status); a process
   * that still runs is left to the caller.
   */
  @Override
  public void close() {
    if (exit.isDone()) {
      return;
    }
    try {
      ws.sendClose(1000, "done");
    } catch (RuntimeException e) {
      LOG.debug("closing the WebSocket of {} failed: {}", what, e.toString());
    }
  }

  /** Demultiplexes the channels; completes the exit when the connection ends. */
  static final class Listener implements WebSocket.Listener {
    private final KubernetesSerialization serialization;
    private final Sink sink;
    private final CompletableFuture<Integer> exit;
    private final String what;
    private volatile Integer code;
    private volatile RuntimeException failure;
    private volatile IOException sinkFailure;

    Listener(
        KubernetesSerialization serialization,
        Sink sink,
        CompletableFuture<Integer> exit,
        String what) {
      this.serialization = serialization;
      this.sink = sink;
      this.exit = exit;
      this.what = what;
    }

    @Override
    public void onOpen(WebSocket ws) {
      ws.request();
    }

    @Override
    public void onMessage(WebSocket ws, String text) {
      LOG.debug("{}: unexpected text message ignored", what);
      ws.request();
    }

    @Override
    public void onMessage(WebSocket ws, ByteBuffer bytes) {
      try {
        if (!bytes.hasRemaining()) {
          return;
        }
        int channel = bytes.get() & 0xff;
        byte[] data = new byte[bytes.remaining()];
        bytes.get(data);
        switch (channel) {
          case 1, 2 -> {
            if (data.length > 0 && sinkFailure == null) {
              try {
                sink.write(channel == 2, data, 0, data.length);
              } catch (IOException e) {
                sinkFailure = e;
                LOG.warn("recording the output of {} failed: {}", what, e.toString());
              }
            }
          }
          case 3 -> {
            if (data.length > 0) {
              status(new String(data, StandardCharsets.UTF_8));
            }
          }
          default -> LOG.trace("{}: message on channel {} ignored", what, channel);
        }
      } finally {
        ws.request();
      }
    }

    private void status(String json) {
      Status s;
      try {
        s = serialization.unmarshal(json, Status.class);
      } catch (RuntimeException e) {
        failure = new OrchestraException(what + " failed: unreadable status " + json, e);
        return;
      }
      if ("Success".equals(s.getStatus())) {
        code = 0;
        return;
      }
      if ("NonZeroExitCode".equals(s.getReason()) && s.getDetails() != null) {
        for (StatusCause c : s.getDetails().getCauses()) {
          if ("ExitCode".equals(c.getReason())) {
            try {
              code = Integer.parseInt(c.getMessage().trim());
              return;
            } catch (RuntimeException e) {
              break;
            }
          }
        }
      }
      failure =
          new OrchestraException(
              what + " failed: the API server reports " + s.getReason() + ": " + s.getMessage());
    }

    @Override
    public void onClose(WebSocket ws, int status, String reason) {
      end(null);
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      end(error);
    }

    private void end(Throwable error) {
      Integer c = code;
      if (c != null && sinkFailure == null) {
        exit.complete(c);
        return;
      }
      if (sinkFailure != null) {
        exit.completeExceptionally(
            new OrchestraException(
                what + " failed: its output could not be recorded: " + sinkFailure, sinkFailure));
        return;
      }
      RuntimeException f = failure;
      if (f == null) {
        f =
            new OrchestraException(
                what
                    + " failed: its connection ended without the exec's status"
                    + (error == null ? "" : ": " + error),
                error);
      }
      exit.completeExceptionally(f);
    }
  }
}
