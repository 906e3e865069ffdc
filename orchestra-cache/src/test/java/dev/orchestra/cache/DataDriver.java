package dev.orchestra.cache;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.Driver;
import dev.orchestra.OrchestraException;
import dev.orchestra.Task;
import dev.orchestra.Volume;
import dev.orchestra.spi.Exceptions;
import dev.orchestra.spi.Tar;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * A test double of a driver with {@link Capability#VOLUME_DATA}: volumes are directories under a
 * root, moved in and out with the SPI's {@link Tar}. It runs no tasks.
 */
final class DataDriver implements Driver {

  private final Path root;
  private final boolean declaresVolumeData;
  private final Map<String, DirVolume> volumes = new ConcurrentHashMap<>();

  DataDriver(Path root) {
    this(root, true);
  }

  DataDriver(Path root, boolean declaresVolumeData) {
    this.root = root;
    this.declaresVolumeData = declaresVolumeData;
  }

  @Override
  public String name() {
    return "data-double";
  }

  @Override
  public Set<Capability> capabilities() {
    return declaresVolumeData
        ? EnumSet.of(Capability.VOLUME_DATA)
        : EnumSet.noneOf(Capability.class);
  }

  @Override
  public Container runContainer(Task task) {
    throw new UnsupportedOperationException("the volume data double runs no tasks");
  }

  @Override
  public DirVolume createVolume(String name, long sizeBytes) {
    return volumes.computeIfAbsent(
        name,
        n -> {
          Path dir = root.resolve(n);
          try {
            Files.createDirectories(dir);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
          return new DirVolume(n, dir);
        });
  }

  @Override
  public void close() {
    volumes.values().forEach(DirVolume::cleanup);
    volumes.clear();
  }

  /** A volume that is a directory. */
  final class DirVolume implements Volume {
    private final String name;
    private final Path dir;

    DirVolume(String name, Path dir) {
      this.name = name;
      this.dir = dir;
    }

    Path dir() {
      return dir;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public void cleanup() {
      volumes.remove(name, this);
      deleteTree(dir);
    }

    @Override
    public void copyIn(InputStream tar) {
      try {
        Tar.extract(tar, dir);
      } catch (IOException e) {
        throw Exceptions.launder("copying into volume " + name, e);
      }
    }

    @Override
    public void copyOut(OutputStream tar) {
      try {
        Tar.write(dir, tar);
      } catch (IOException e) {
        throw Exceptions.launder("copying out of volume " + name, e);
      }
    }
  }

  static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    } catch (IOException e) {
      throw new OrchestraException("deleting " + dir + " failed", e);
    }
  }
}
