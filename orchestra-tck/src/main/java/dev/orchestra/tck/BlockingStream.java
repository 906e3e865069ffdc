package dev.orchestra.tck;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.concurrent.CountDownLatch;

/** An output stream that blocks every write until its thread is interrupted. */
final class BlockingStream extends OutputStream {
  private final CountDownLatch never = new CountDownLatch(1);

  /** Lets every write through: a driver may write from a thread of its own, never interrupted. */
  void release() {
    never.countDown();
  }

  @Override
  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    try {
      never.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("write interrupted");
    }
  }
}
