package dev.orchestra.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Frame;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers a task's standard input through docker-java's attach, made before its container starts:
 * for engines on a local socket, where ending the attach loses nothing. (Over {@code tcp://} see
 * {@link SocketStdinFeeder}.)
 *
 * <p>The HttpClient 5 transport pumps the input into the hijacked connection but never half-closes
 * it at the end, so the engine would wait for more. The container is therefore created with {@code
 * StdinOnce}, and the feeder ends the attach as soon as the input is exhausted: the engine then
 * closes the task's standard input, which reads end of file after every byte. Output is never read
 * through this attach (the logs API serves it), so nothing is lost by ending it.
 */
final class StdinFeeder extends StreamCallback<Frame> implements StdinDelivery {

  private static final Logger LOG = LoggerFactory.getLogger(StdinFeeder.class);

  private final InputStream input;
  private final String task;
  private final AtomicLong delivered = new AtomicLong();

  private StdinFeeder(InputStream input, String task) {
    this.input = input;
    this.task = task;
  }

  /**
   * Attaches to a created container's standard input and starts pumping {@code input} into it.
   * Returns once the engine accepted the attach, so that starting the container next loses nothing.
   *
   * @param streams the client for streaming calls
   * @param containerId the created container
   * @param input the caller's input; closed by the feeder when done
   * @param task the task, for messages
   * @return the feeder; close it to abandon the input
   * @throws RuntimeException what docker-java threw if the engine refused the attach
   */
  static StdinFeeder attach(
      DockerClient streams, String containerId, InputStream input, String task) {
    StdinFeeder feeder = new StdinFeeder(input, task);
    LOG.debug("attaching the stdin of container {} of {}", containerId, task);
    streams
        .attachContainerCmd(containerId)
        .withStdIn(feeder.new EndSignallingInput(input))
        .withStdOut(false)
        .withStdErr(false)
        .withLogs(false)
        .withFollowStream(true)
        .exec(feeder);
    feeder.awaitStarted("attaching the standard input of " + task);
    return feeder;
  }

  @Override
  public void abandon() {
    close();
  }

  @Override
  protected void onEnd() {
    try {
      input.close();
    } catch (IOException e) {
      LOG.warn("closing the stdin stream of {} failed: {}", task, e.toString());
    }
  }

  /**
   * Ends the attach when the input is exhausted (or fails), so that the engine closes stdin.
   *
   * <p>It is read by the transport's pump thread, which dies with an uncaught exception when the
   * attach closes under a write (a task that exits without reading all its input). That thread is
   * not ours to create, so the first read gives it a handler that logs instead of printing a stack
   * trace on the standard error of the application.
   */
  private final class EndSignallingInput extends FilterInputStream {

    private boolean handlerSet;

    EndSignallingInput(InputStream in) {
      super(in);
    }

    private void pumpFailed(Thread pump, Throwable e) {
      if (isFinished()) {
        LOG.debug(
            "{} ended before reading all its stdin ({} bytes delivered): {}",
            task,
            delivered.get(),
            e.toString());
      } else {
        LOG.warn(
            "delivering stdin to {} failed after {} bytes; the task reads end of file: {}",
            task,
            delivered.get(),
            EngineErrors.rootCause(e));
      }
      StdinFeeder.this.close();
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (!handlerSet) {
        handlerSet = true;
        Thread.currentThread().setUncaughtExceptionHandler(this::pumpFailed);
      }
      if (isFinished()) {
        return -1;
      }
      int n;
      try {
        n = in.read(b, off, len);
      } catch (IOException e) {
        LOG.warn(
            "reading the stdin stream of {} failed after {} bytes; the task reads end of file: {}",
            task,
            delivered.get(),
            e.toString());
        close();
        return -1;
      }
      if (n < 0) {
        LOG.debug("delivered {} bytes of stdin to {}; ending the attach", delivered.get(), task);
        StdinFeeder.this.close();
        return -1;
      }
      delivered.addAndGet(n);
      return n;
    }

    @Override
    public void close() {
      StdinFeeder.this.close();
    }
  }
}
