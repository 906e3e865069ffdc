package dev.orchestra.docker;

import com.github.dockerjava.api.exception.DockerException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers a task's standard input to an engine reached over {@code tcp://}, or to one that loses
 * the end of an attach's input when the attach is closed ({@link
 * EngineFlavour#closedAttachKeepsInput()}: Podman), through an attach on a socket of its own.
 *
 * <p>The HttpClient 5 transport can only end an attach by aborting the connection, and over TCP an
 * abortive close (a reset) discards input still in flight, so a task would miss the end of its
 * input. This feeder speaks the attach protocol itself ({@link EngineSocket}: an HTTP upgrade, then
 * raw bytes), and after the last byte half-closes the socket: the engine reads everything, sees end
 * of file, and, as the container was created with {@code StdinOnce}, closes the task's standard
 * input. The socket is closed once the engine ends the attach.
 */
final class SocketStdinFeeder implements StdinDelivery {

  private static final Logger LOG = LoggerFactory.getLogger(SocketStdinFeeder.class);

  private final EngineSocket socket;
  private final InputStream input;
  private final String task;
  private volatile boolean abandoned;

  private SocketStdinFeeder(EngineSocket socket, InputStream input, String task) {
    this.socket = socket;
    this.input = input;
    this.task = task;
  }

  /**
   * Attaches to a created container's standard input and starts pumping {@code input} into it on a
   * thread of its own. Returns once the engine accepted the attach.
   *
   * @param connection the engine
   * @param containerId the created container
   * @param input the caller's input; closed when delivered or abandoned
   * @param task the task, for messages
   * @return the feeder
   * @throws DockerException as the engine answered, if it refused the attach
   * @throws java.io.UncheckedIOException if the engine cannot be reached or does not answer within
   *     the request timeout
   */
  static SocketStdinFeeder attach(
      DockerConnection connection, String containerId, InputStream input, String task) {
    EngineSocket socket = null;
    try {
      socket = connection.socket();
      LOG.debug(
          "attaching the stdin of container {} of {} over {}",
          containerId,
          task,
          connection.describe());
      socket.upgrade(
          "POST",
          "/containers/" + containerId + "/attach?stream=1&stdin=1&stdout=0&stderr=0",
          null);
    } catch (IOException e) {
      closeQuietly(socket);
      throw new java.io.UncheckedIOException(
          "attaching the standard input of " + task + " over " + connection.describe() + " failed",
          e);
    } catch (RuntimeException e) {
      closeQuietly(socket);
      throw e;
    }
    SocketStdinFeeder feeder = new SocketStdinFeeder(socket, input, task);
    Thread pump = new Thread(feeder::pump, "orchestra-stdin " + task);
    pump.setDaemon(true);
    pump.start();
    return feeder;
  }

  @Override
  public void abandon() {
    abandoned = true;
    closeQuietly(socket);
    closeInput();
  }

  private void pump() {
    long delivered = 0;
    try {
      OutputStream out = socket.output();
      byte[] buffer = new byte[64 * 1024];
      int n;
      while ((n = input.read(buffer)) >= 0) {
        out.write(buffer, 0, n);
        out.flush();
        delivered += n;
      }
      closeInput();
      socket.shutdownOutput();
      LOG.debug("delivered {} bytes of stdin to {}; waiting for the engine", delivered, task);
      // The engine ends the attach once the task's stdin is closed (or the task ended).
      InputStream in = socket.input();
      while (in.read(buffer) >= 0) {
        // a stdin-only attach carries no output
      }
    } catch (IOException e) {
      if (abandoned) {
        LOG.debug("stdin of {} abandoned after {} bytes", task, delivered);
      } else {
        LOG.debug(
            "{} stopped taking stdin after {} bytes (it ended?): {}",
            task,
            delivered,
            e.toString());
      }
    } finally {
      closeInput();
      closeQuietly(socket);
    }
  }

  private void closeInput() {
    try {
      input.close();
    } catch (IOException e) {
      LOG.warn("closing the stdin stream of {} failed: {}", task, e.toString());
    }
  }

  private static void closeQuietly(EngineSocket socket) {
    if (socket != null) {
      socket.close();
    }
  }
}
