package dev.orchestra.docker;

import com.github.dockerjava.api.model.Frame;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Routes the frames of a container's log to the caller's two streams as they arrive: stdout frames
 * (and raw frames, which only a TTY produces) to one, stderr frames to the other, payload bytes
 * untouched. Nothing is buffered beyond one frame; when following, each frame is flushed as it
 * arrives. Frames that arrive after the stream was closed (an interrupted follow) are dropped.
 *
 * <p>Counts the bytes it delivers on each stream, and can skip a number of leading bytes of each: a
 * follow that the engine ended early reads the log again and delivers only what it had missed.
 */
final class LogDemuxer extends StreamCallback<Frame> {

  private final OutputStream stdout;
  private final OutputStream stderr;
  private final boolean flushEachFrame;

  /** Bytes of stdout and stderr still to skip, then delivered; written by the stream's thread. */
  private final long[] skip;

  private final long[] delivered = new long[2];
  private volatile IOException writeFailure;

  LogDemuxer(OutputStream stdout, OutputStream stderr, boolean flushEachFrame) {
    this(stdout, stderr, flushEachFrame, 0, 0);
  }

  LogDemuxer(
      OutputStream stdout,
      OutputStream stderr,
      boolean flushEachFrame,
      long skipStdout,
      long skipStderr) {
    this.stdout = stdout;
    this.stderr = stderr;
    this.flushEachFrame = flushEachFrame;
    this.skip = new long[] {skipStdout, skipStderr};
  }

  @Override
  public void onNext(Frame frame) {
    if (writeFailure != null || isFinished()) {
      return;
    }
    int stream =
        switch (frame.getStreamType()) {
          case STDOUT, RAW -> 0;
          case STDERR -> 1;
          case STDIN -> -1;
        };
    if (stream < 0) {
      return;
    }
    byte[] payload = frame.getPayload();
    int from = (int) Math.min(payload.length, skip[stream]);
    skip[stream] -= from;
    if (from == payload.length) {
      return;
    }
    OutputStream target = stream == 0 ? stdout : stderr;
    try {
      target.write(payload, from, payload.length - from);
      if (flushEachFrame) {
        target.flush();
      }
    } catch (IOException e) {
      writeFailure = e;
      close();
      return;
    }
    synchronized (delivered) {
      delivered[stream] += payload.length - from;
    }
  }

  /** The bytes delivered so far on stdout (index 0) and stderr (index 1), skipped ones excluded. */
  long[] delivered() {
    synchronized (delivered) {
      return delivered.clone();
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
