package dev.orchestra.cli;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Forwards only the bytes that earlier passes have not forwarded yet, so that a log read again from
 * its first byte on every pass reaches the terminal once.
 *
 * <p>Call {@link #rewind()} before each pass; every byte written in a pass at a position below the
 * number already forwarded is dropped, every later one is forwarded. {@link #close()} flushes but
 * never closes the target, which is the terminal's stream.
 */
final class SkippingOutputStream extends OutputStream {

  private final OutputStream target;
  private long forwarded;
  private long position;

  SkippingOutputStream(OutputStream target) {
    this.target = target;
  }

  /** Starts a new pass: the next byte written is the log's first. */
  synchronized void rewind() {
    position = 0;
  }

  /**
   * How many bytes have reached the target over all passes.
   *
   * @return the number of bytes forwarded
   */
  synchronized long forwarded() {
    return forwarded;
  }

  @Override
  public synchronized void write(int b) throws IOException {
    if (position++ >= forwarded) {
      target.write(b);
      forwarded++;
    }
  }

  @Override
  public synchronized void write(byte[] b, int off, int len) throws IOException {
    if (off < 0 || len < 0 || len > b.length - off) {
      throw new IndexOutOfBoundsException(
          "offset " + off + " and length " + len + " do not fit " + b.length + " bytes");
    }
    long alreadyForwarded = Math.min(len, Math.max(0, forwarded - position));
    position += len;
    int fresh = len - (int) alreadyForwarded;
    if (fresh > 0) {
      target.write(b, off + (int) alreadyForwarded, fresh);
      forwarded += fresh;
    }
  }

  @Override
  public void flush() throws IOException {
    target.flush();
  }

  @Override
  public void close() throws IOException {
    flush();
  }
}
