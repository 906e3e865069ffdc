package dev.orchestra.local;

import dev.orchestra.OrchestraException;
import dev.orchestra.Volume;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A volume of the local driver: a directory under {@code <namespace root>/volumes/}. Its size is
 * not limited. Mounting it places a symbolic link to the directory in the task directory.
 */
final class LocalVolume implements Volume {

  private static final Logger LOG = LoggerFactory.getLogger(LocalVolume.class);

  private final String name;
  private final String namespace;
  private final Path dir;

  private LocalVolume(String name, String namespace, Path dir) {
    this.name = name;
    this.namespace = namespace;
    this.dir = dir;
  }

  /**
   * Creates the volume's directory unless it exists, and returns the volume with its data.
   *
   * @param name the caller's name, already checked
   * @param namespace the namespace, for messages
   * @param dir the volume's directory
   * @return the volume
   * @throws OrchestraException if the directory cannot be created
   */
  static LocalVolume open(String name, String namespace, Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new OrchestraException(
          "creating volume '"
              + name
              + "' of namespace '"
              + namespace
              + "' failed: cannot create directory "
              + dir
              + ": "
              + e,
          e);
    }
    LOG.debug("volume '{}' of namespace '{}' is {}", name, namespace, dir);
    return new LocalVolume(name, namespace, dir);
  }

  @Override
  public String name() {
    return name;
  }

  /** The directory holding the volume's data. */
  Path dir() {
    return dir;
  }

  /**
   * Deletes the directory and everything in it, removing links without following them. Idempotent.
   * A task that still mounts the volume is left with a dangling link.
   */
  @Override
  public void cleanup() {
    try {
      FileTrees.delete(dir);
    } catch (IOException e) {
      throw new OrchestraException(
          "deleting volume '"
              + name
              + "' of namespace '"
              + namespace
              + "' ("
              + dir
              + ") failed: "
              + e,
          e);
    }
    LOG.info("deleted volume '{}' of namespace '{}'", name, namespace);
  }

  @Override
  public String toString() {
    return "LocalVolume[" + name + " at " + dir + "]";
  }
}
