package dev.orchestra.spi;

import java.io.IOException;
import java.io.InputStream;

/** An input stream whose single-byte {@link #read()} goes through its bulk read. */
abstract class BulkInputStream extends InputStream {

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public abstract int read(byte[] b, int off, int len) throws IOException;
}
