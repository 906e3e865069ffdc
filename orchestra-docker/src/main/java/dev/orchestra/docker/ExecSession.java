package dev.orchestra.docker;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One started exec ({@code POST /exec/{id}/start}) on a connection of its own ({@link
 * EngineSocket}): its standard input delivered on a thread of its own and then half-closed, so that
 * the process reads end of file after every byte while its output still arrives; its output
 * demultiplexed ({@link FrameDemux}) into a {@link Sink}.
 *
 * <p>The engine ends the stream once the process has exited and its output is delivered (it waits
 * up to two seconds for background children that hold the output open).
 */
final class ExecSession implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ExecSession.class);
  private static final int CHUNK = 64 * 1024;

  /** Where the output of an exec goes. */
  interface Sink {
    /**
     * Takes bytes of one stream.
     *
     * @param stderr whether they come from standard error (else standard output)
     */
    void write(boolean stderr, byte[] bytes, int offset, int length) throws IOException;
  }

  private final EngineSocket socket;
  private final String what;

  private ExecSession(EngineSocket socket, String what) {
    this.socket = socket;
    this.what = what;
  }

  /**
   * Starts a created exec. Returns once the engine accepted the start; the process runs.
   *
   * @param connection the engine
   * @param execId the exec, created with stdout and stderr attached (and stdin when {@code stdin}
   *     is given), without a TTY
   * @param stdin the input to deliver, closed when delivered; {@code null} for none
   * @param what the exec, for messages and the name of the input's thread
   * @return the session; read its output with {@link #copyOutput(Sink)}
   * @throws IOException if the engine cannot be reached
   * @throws com.github.dockerjava.api.exception.DockerException if the engine refused
   */
  static ExecSession start(
      DockerConnection connection, String execId, InputStream stdin, String what)
      throws IOException {
    EngineSocket socket = connection.socket();
    try {
      socket.upgrade("POST", "/exec/" + execId + "/start", "{\"Detach\":false,\"Tty\":false}");
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
    ExecSession session = new ExecSession(socket, what);
    if (stdin != null) {
      Thread pump = new Thread(() -> session.deliver(stdin), "orchestra-stdin " + what);
      pump.setDaemon(true);
      pump.start();
    }
    return session;
  }

  /**
   * Reads the output until the engine ends the stream (the process has ended), frame by frame.
   *
   * @throws IOException if the connection fails or the sink cannot take the bytes
   */
  void copyOutput(Sink sink) throws IOException {
    String output = "the output of " + what;
    InputStream in = socket.input();
    FrameDemux.copy(
        AnswerBody.untilEnd(in::read, output),
        new FrameDemux.Streams() {
          @Override
          public boolean write(int stream, byte[] bytes, int offset, int length)
              throws IOException {
            switch (stream) {
              case FrameReader.STDOUT -> sink.write(false, bytes, offset, length);
              case FrameReader.STDERR -> sink.write(true, bytes, offset, length);
              default -> LOG.debug("skipping {} bytes of stream {} of {}", length, stream, what);
            }
            return true;
          }

          @Override
          public boolean engineMessage(String message) throws IOException {
            LOG.warn("the engine reports about {}: {}", what, message);
            byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
            sink.write(true, bytes, 0, bytes.length);
            return true;
          }
        },
        output);
  }

  @Override
  public void close() {
    socket.close();
  }

  private void deliver(InputStream stdin) {
    long delivered = 0;
    try (stdin) {
      OutputStream out = socket.output();
      byte[] buffer = new byte[CHUNK];
      int n;
      while ((n = stdin.read(buffer)) >= 0) {
        out.write(buffer, 0, n);
        out.flush();
        delivered += n;
      }
      socket.shutdownOutput();
      LOG.debug("delivered {} bytes of stdin to {}, then end of file", delivered, what);
    } catch (IOException e) {
      // The process ended without reading all its input, or the connection was closed.
      LOG.debug("{} stopped taking stdin after {} bytes: {}", what, delivered, e.toString());
    }
  }
}
