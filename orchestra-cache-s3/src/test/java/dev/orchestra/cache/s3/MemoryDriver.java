package dev.orchestra.cache.s3;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.Driver;
import dev.orchestra.Task;
import dev.orchestra.Volume;
import dev.orchestra.cache.TestVolumes;
import dev.orchestra.spi.Exceptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A test double of a driver with {@link Capability#VOLUME_DATA} whose volumes are generated
 * streams: a volume's "tar" is {@code size} bytes of {@link TestVolumes#generate} of a seed,
 * written without being held; a copy in is counted and checksummed without being kept. The cache
 * does not look inside the stream, so the store sees exactly what a real volume of that size would
 * give.
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
      try {
        long[] received = TestVolumes.lengthAndCrc(tar);
        receivedBytes = received[0];
        receivedCrc = received[1];
      } catch (IOException e) {
        throw Exceptions.launder("copying into volume " + name, e);
      }
    }

    @Override
    public void copyOut(OutputStream tar) {
      try {
        TestVolumes.generate(size, seed, tar);
      } catch (IOException e) {
        throw Exceptions.launder("copying out of volume " + name, e);
      }
    }
  }
}
