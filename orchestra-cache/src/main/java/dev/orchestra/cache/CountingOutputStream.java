package dev.orchestra.cache;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;

/**
 * Counts the bytes that pass, stops at the first write after the thread was interrupted (a copy
 * that never blocks would otherwise run to its end), and does not close the stream it wraps: that
 * stream belongs to the store.
 */
final class CountingOutputStream extends FilterOutputStream {

  private long count;

  CountingOutputStream(OutputStream out) {
    super(out);
  }

  long count() {
    return count;
  }

  @Override
  public void write(int b) throws IOException {
    checkInterrupt();
    out.write(b);
    count++;
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    checkInterrupt();
    out.write(b, off, len);
    count += len;
  }

  /** Flushes only: the wrapped stream stays open. */
  @Override
  public void close() throws IOException {
    flush();
  }

  /** Closes the wrapped stream (a compressor, to finish its format). */
  void closeWrapped() throws IOException {
    out.close();
  }

  static void checkInterrupt() throws InterruptedIOException {
    if (Thread.currentThread().isInterrupted()) {
      throw new InterruptedIOException("the cache copy was interrupted");
    }
  }
}
