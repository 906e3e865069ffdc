package dev.orchestra.kubernetes;

import io.fabric8.kubernetes.client.dsl.ExecWatch;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a task's stdin: once its container runs, attaches to it ({@code stdin: true, stdinOnce:
 * true}), writes every byte and closes the session, which the kubelet turns into end of file (with
 * {@code stdinOnce}, the container's stdin closes when the first attach ends). One daemon thread
 * per task with stdin, ended with the feeding.
 *
 * <p>The JDK WebSocket under fabric8's JDK client queues only a few messages; fabric8 sends each
 * write as one message, so the bytes go in writes of up to {@value #MESSAGE_BYTES} bytes (see
 * {@link #copy}).
 */
final class StdinFeeder {

  private static final Logger LOG = LoggerFactory.getLogger(StdinFeeder.class);

  /** The largest write, hence WebSocket message, sent to the attach session. */
  static final int MESSAGE_BYTES = 4 * 1024 * 1024;

  private StdinFeeder() {}

  static void start(KubernetesContainer c, InputStream stdin) {
    Thread t = new Thread(() -> feed(c, stdin), "orchestra-k8s-stdin-" + c.podName());
    t.setDaemon(true);
    t.start();
  }

  private static void feed(KubernetesContainer c, InputStream stdin) {
    try (stdin) {
      try {
        CompletableFuture.anyOf(c.started(), c.onExit()).get();
      } catch (ExecutionException e) {
        LOG.debug("stdin of {} not sent: {}", c, e.getCause().toString());
        return;
      }
      if (c.onExit().isDone()) {
        LOG.debug("stdin of {} not sent: the task ended first", c);
        return;
      }
      try (ExecWatch attach =
          c.context()
              .pod(c.podName())
              .inContainer(KubeNames.CONTAINER)
              .redirectingInput()
              .attach()) {
        OutputStream in = attach.getInput();
        long sent = copy(stdin, in);
        in.flush();
        LOG.debug("sent {} bytes of stdin to {}", sent, c);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException | RuntimeException e) {
      if (c.onExit().isDone()) {
        LOG.debug("stdin of {} not sent whole: the task ended first ({})", c, e.toString());
      } else {
        // the task may now wait for input that never comes, until its timeout or a stop
        LOG.warn("sending stdin to {} failed: {}", c, e.toString());
      }
    }
  }

  /**
   * Copies everything in writes of up to {@value #MESSAGE_BYTES} bytes, each filled as far as the
   * input allows: the one helper for every stdin the driver sends.
   *
   * @return the number of bytes copied
   */
  static long copy(InputStream from, OutputStream to) throws IOException {
    byte[] buffer = new byte[Math.min(MESSAGE_BYTES, 64 * 1024)];
    long total = 0;
    int filled = 0;
    while (true) {
      int n = from.read(buffer, filled, buffer.length - filled);
      if (n < 0) {
        break;
      }
      filled += n;
      if (filled == buffer.length) {
        if (buffer.length < MESSAGE_BYTES) {
          buffer = java.util.Arrays.copyOf(buffer, Math.min(MESSAGE_BYTES, buffer.length * 4));
          continue;
        }
        to.write(buffer, 0, filled);
        total += filled;
        filled = 0;
      }
    }
    if (filled > 0) {
      to.write(buffer, 0, filled);
      total += filled;
    }
    return total;
  }
}
