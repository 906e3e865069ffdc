package dev.orchestra.tck;

import java.io.OutputStream;

/** Checks, without keeping it, that what is written repeats a pattern from its first byte. */
final class PatternStream extends OutputStream {
  private final byte[] pattern;
  private long count;
  private long mismatch = -1;

  PatternStream(byte[] pattern) {
    this.pattern = pattern;
  }

  @Override
  public void write(int b) {
    check((byte) b);
  }

  @Override
  public void write(byte[] b, int off, int len) {
    for (int i = off; i < off + len; i++) {
      check(b[i]);
    }
  }

  private void check(byte b) {
    if (mismatch < 0 && b != pattern[(int) (count % pattern.length)]) {
      mismatch = count;
    }
    count++;
  }

  long count() {
    return count;
  }

  long mismatch() {
    return mismatch;
  }
}
