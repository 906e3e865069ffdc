package dev.orchestra.local;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies a task's input into its process on a daemon thread of its own, then closes the process's
 * standard input (so the task reads end of file) and the source stream.
 */
final class StdinPump implements Runnable {

  private static final Logger LOG = LoggerFactory.getLogger(StdinPump.class);

  private static final int BUFFER_BYTES = 64 * 1024;

  private final String taskId;
  private final InputStream source;
  private final OutputStream sink;
  private final Thread thread;

  private StdinPump(String taskId, InputStream source, OutputStream sink) {
    this.taskId = taskId;
    this.source = source;
    this.sink = sink;
    this.thread = new Thread(this, "orchestra-local-stdin-" + taskId);
    this.thread.setDaemon(true);
  }

  /**
   * Starts pumping.
   *
   * @param taskId the task's id, for the thread name and the log
   * @param source the task's input; closed when done
   * @param sink the process's standard input; closed when done
   * @return the running pump
   */
  static StdinPump start(String taskId, InputStream source, OutputStream sink) {
    StdinPump pump = new StdinPump(taskId, source, sink);
    pump.thread.start();
    return pump;
  }

  @Override
  public void run() {
    long copied = 0;
    byte[] buffer = new byte[BUFFER_BYTES];
    try (source;
        sink) {
      while (!Thread.currentThread().isInterrupted()) {
        int n;
        try {
          n = source.read(buffer);
        } catch (IOException e) {
          LOG.warn(
              "reading the standard input of task '{}' failed after {} bytes; the task gets end of"
                  + " file: {}",
              taskId,
              copied,
              e.toString());
          return;
        }
        if (n < 0) {
          LOG.debug("delivered {} bytes of standard input to task '{}'", copied, taskId);
          return;
        }
        try {
          sink.write(buffer, 0, n);
        } catch (IOException e) {
          // The task ended, or closed its input, before reading all of it: its own business.
          LOG.debug(
              "task '{}' stopped taking standard input after {} bytes: {}",
              taskId,
              copied,
              e.toString());
          return;
        }
        copied += n;
      }
      LOG.debug("standard input of task '{}' stopped after {} bytes", taskId, copied);
    } catch (IOException e) {
      LOG.debug("closing the standard input of task '{}' failed: {}", taskId, e.toString());
    }
  }

  /**
   * Stops the pump of a task that is being removed: interrupts it and closes both streams, which
   * also unblocks a read from a source that never ends.
   */
  void stop() {
    thread.interrupt();
    closeQuietly(sink, "the process's standard input");
    closeQuietly(source, "the standard input source");
  }

  private void closeQuietly(Closeable stream, String what) {
    try {
      stream.close();
    } catch (IOException e) {
      LOG.debug("closing {} of task '{}' failed: {}", what, taskId, e.toString());
    }
  }
}
