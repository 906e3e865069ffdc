package dev.orchestra.cache.s3;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.Driver;
import dev.orchestra.Task;
import dev.orchestra.Volume;
import dev.orchestra.spi.Exceptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.CRC32;

/**
 * A test double of a driver with {@link Capability#VOLUME_DATA} whose volumes are generated
 * streams: a volume's "tar" is {@code size} deterministic pseudo-random bytes of a seed, written
 * without being held; a copy in is counted and checksummed without being kept. The cache does not
 * look inside the stream, so the store sees exactly what a real volume of that size would give.
 */
final class MemoryDriver implements Driver {

  private final Map<String, GeneratedVolume> volumes = new ConcurrentHashMap<>();

  @Override
  public String name() {
    return "generated";
  }

  @Override
  public Set<Capability> capabilities() {
    return EnumSet.of(Capability.VOLUME_DATA);
  }

  @Override
  public Container runContainer(Task task) {
    throw new UnsupportedOperationException("the generated-volume double runs no tasks");
  }

  @Override
  public GeneratedVolume createVolume(String name, long sizeBytes) {
    return volumes.computeIfAbsent(name, GeneratedVolume::new);
  }

  @Override
  public void close() {
    volumes.clear();
  }

  /** See {@link MemoryDriver}. */
  final class GeneratedVolume implements Volume {
    private final String name;
    private volatile long size;
    private volatile long seed;
    private volatile long receivedBytes;
    private volatile long receivedCrc;

    GeneratedVolume(String name) {
      this.name = name;
    }

    /** Makes this volume's contents {@code size} bytes of the seed's stream. */
    GeneratedVolume contents(long size, long seed) {
      this.size = size;
      this.seed = seed;
      return this;
    }

    long receivedBytes() {
      return receivedBytes;
    }

    long receivedCrc() {
      return receivedCrc;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public void cleanup() {
      volumes.remove(name, this);
      receivedBytes = 0;
      receivedCrc = 0;
    }

    @Override
    public void copyIn(InputStream tar) {
      var crc = new CRC32();
      byte[] buffer = new byte[1 << 16];
      long count = 0;
      try {
        for (int n; (n = tar.read(buffer)) >= 0; ) {
          crc.update(buffer, 0, n);
          count += n;
        }
      } catch (IOException e) {
        throw Exceptions.launder("copying into volume " + name, e);
      }
      receivedBytes = count;
      receivedCrc = crc.getValue();
    }

    @Override
    public void copyOut(OutputStream tar) {
      try {
        generate(size, seed, tar);
      } catch (IOException e) {
        throw Exceptions.launder("copying out of volume " + name, e);
      }
    }
  }

  /** Writes {@code size} bytes of a cheap xorshift stream; returns their CRC-32. */
  static long generate(long size, long seed, OutputStream out) throws IOException {
    var crc = new CRC32();
    byte[] buffer = new byte[1 << 16];
    long x = seed | 1;
    long left = size;
    while (left > 0) {
      int n = (int) Math.min(buffer.length, left);
      for (int i = 0; i < n; i += 8) {
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        for (int j = 0; j < 8 && i + j < n; j++) {
          buffer[i + j] = (byte) (x >>> (8 * j));
        }
      }
      crc.update(buffer, 0, n);
      if (out != null) {
        out.write(buffer, 0, n);
      }
      left -= n;
    }
    return crc.getValue();
  }

  static long crcOf(long size, long seed) throws IOException {
    return generate(size, seed, null);
  }
}
