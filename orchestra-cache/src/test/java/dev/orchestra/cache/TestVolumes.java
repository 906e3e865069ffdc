package dev.orchestra.cache;

import dev.orchestra.Volume;
import dev.orchestra.spi.Exceptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;

/**
 * Test data shared by this module's tests and the S3 store's (through this module's test jar): a
 * volume whose tar stream never ends, and a deterministic byte stream that is generated, never
 * held.
 */
public final class TestVolumes {

  private TestVolumes() {}

  /**
   * Writes {@code size} bytes of a cheap xorshift stream of a seed, six random bits a byte
   * (compressible, as build outputs are, but not trivially).
   *
   * @param size how many bytes
   * @param seed the stream's seed
   * @param out where they go, or {@code null} to compute the CRC-32 only
   * @return the CRC-32 of the bytes
   * @throws IOException if writing fails
   */
  public static long generate(long size, long seed, OutputStream out) throws IOException {
    var crc = new CRC32();
    byte[] buffer = new byte[1 << 16];
    long x = seed | 1;
    for (long left = size; left > 0; left -= buffer.length) {
      int n = (int) Math.min(buffer.length, left);
      for (int i = 0; i < n; i += 8) {
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        for (int j = 0; j < 8 && i + j < n; j++) {
          buffer[i + j] = (byte) ((x >>> (8 * j)) & 0x3f);
        }
      }
      crc.update(buffer, 0, n);
      if (out != null) {
        out.write(buffer, 0, n);
      }
    }
    return crc.getValue();
  }

  /**
   * Reads a stream to its end.
   *
   * @param in the stream
   * @return its length and CRC-32
   * @throws IOException if reading fails
   */
  public static long[] lengthAndCrc(InputStream in) throws IOException {
    var crc = new CRC32();
    byte[] buffer = new byte[1 << 16];
    long count = 0;
    for (int n; (n = in.read(buffer)) >= 0; ) {
      crc.update(buffer, 0, n);
      count += n;
    }
    return new long[] {count, crc.getValue()};
  }

  /** A volume whose tar stream never ends; it counts what it has written. */
  public static class EndlessVolume implements Volume {
    private final AtomicLong written = new AtomicLong();

    /** Creates the volume. */
    public EndlessVolume() {}

    /**
     * The bytes written so far.
     *
     * @return the count
     */
    public long written() {
      return written.get();
    }

    @Override
    public String name() {
      return "endless";
    }

    @Override
    public void cleanup() {}

    @Override
    public void copyOut(OutputStream tar) {
      byte[] block = new byte[1 << 16];
      try {
        while (true) {
          tar.write(block);
          written.addAndGet(block.length);
        }
      } catch (IOException e) {
        throw Exceptions.launder("copying out of volume endless", e);
      }
    }
  }
}
