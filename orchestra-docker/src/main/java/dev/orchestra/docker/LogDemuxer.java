package dev.orchestra.docker;

import com.github.dockerjava.api.model.Frame;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Routes the frames of a container's log to the caller's two streams as they arrive: stdout frames
 * (and raw frames, which only a TTY produces) to one, stderr frames to the other, payload bytes
 * untouched. Nothing is buffered beyond one frame. Frames that arrive after the stream was closed
 * (an interrupted read) are dropped.
 */
final class LogDemuxer extends StreamCallback<Frame> {

  private final OutputStream stdout;
  private final OutputStream stderr;
  private volatile IOException writeFailure;

  LogDemuxer(OutputStream stdout, OutputStream stderr) {
    this.stdout = stdout;
    this.stderr = stderr;
  }

  @Override
  public void onNext(Frame frame) {
    if (writeFailure != null || isFinished()) {
      return;
    }
    OutputStream target =
        switch (frame.getStreamType()) {
          case STDOUT, RAW -> stdout;
          case STDERR -> stderr;
          case STDIN -> null;
        };
    if (target == null) {
      return;
    }
    try {
      target.write(frame.getPayload());
    } catch (IOException e) {
      writeFailure = e;
      close();
    }
  }

  /**
   * Flushes both streams.
   *
   * @throws IOException if a write or the flush failed
   */
  void finish() throws IOException {
    IOException failure = writeFailure;
    if (failure != null) {
      throw failure;
    }
    stdout.flush();
    stderr.flush();
  }
}
