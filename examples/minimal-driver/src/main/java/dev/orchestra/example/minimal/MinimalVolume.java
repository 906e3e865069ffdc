package dev.orchestra.example.minimal;

import dev.orchestra.OrchestraException;
import dev.orchestra.Volume;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A volume of the minimal driver: a directory of its namespace, of unlimited size. A task that
 * mounts it gets a symbolic link to the directory.
 */
final class MinimalVolume implements Volume {

  private final String name;
  private final Path dir;

  private MinimalVolume(String name, Path dir) {
    this.name = name;
    this.dir = dir;
  }

  /**
   * Creates the volume's directory unless it exists, and returns the volume with its data.
   *
   * @param name the caller's name, already checked
   * @param dir the volume's directory
   * @throws OrchestraException if the directory cannot be created
   */
  static MinimalVolume open(String name, Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new OrchestraException("creating volume '" + name + "' in " + dir + " failed: " + e, e);
    }
    return new MinimalVolume(name, dir);
  }

  @Override
  public String name() {
    return name;
  }

  Path dir() {
    return dir;
  }

  /** Deletes the directory with its data. Idempotent. */
  @Override
  public void cleanup() {
    try {
      NamespaceDirectory.delete(dir);
    } catch (IOException e) {
      throw new OrchestraException("deleting volume '" + name + "' (" + dir + ") failed: " + e, e);
    }
  }
}
