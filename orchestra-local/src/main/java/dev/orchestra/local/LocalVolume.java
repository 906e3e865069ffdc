package dev.orchestra.local;

import dev.orchestra.OrchestraException;
import dev.orchestra.Volume;
import dev.orchestra.spi.Exceptions;
import dev.orchestra.spi.Tar;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A volume of the local driver: a directory under {@code <namespace root>/volumes/}. Its size is
 * not limited. Mounting it places a symbolic link to the directory in the task directory. Its data
 * is copied in and out with {@link Tar}, straight from and to the directory.
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
  public void copyIn(InputStream tar) {
    Objects.requireNonNull(tar, "tar");
    copy("copying a tar stream into", () -> Tar.extract(tar, existingDir()));
  }

  @Override
  public void copyOut(OutputStream tar) {
    Objects.requireNonNull(tar, "tar");
    copy("copying as a tar stream", () -> Tar.write(existingDir(), tar));
  }

  @Override
  public void copyIn(Path directory) {
    Objects.requireNonNull(directory, "directory");
    if (!Files.isDirectory(directory)) {
      throw new IllegalArgumentException(
          "copying into volume '" + name + "': " + directory + " is not a directory");
    }
    copy("copying " + directory + " into", () -> Tar.copyTree(directory, existingDir()));
  }

  @Override
  public void copyOut(Path directory, boolean merge) {
    Objects.requireNonNull(directory, "directory");
    copy(
        "copying to " + directory + (merge ? " (merging)" : "") + " from",
        () -> {
          Path source = existingDir();
          Tar.prepareTarget(directory, merge);
          Tar.copyTree(source, directory);
        });
  }

  /** A copy's body, which may fail with an I/O error. */
  @FunctionalInterface
  private interface Copy {
    void run() throws IOException;
  }

  private void copy(String what, Copy copy) {
    String description = what + " volume '" + name + "' of namespace '" + namespace + "'";
    LOG.debug("{}", description);
    try {
      copy.run();
    } catch (IOException e) {
      throw Exceptions.launder(description, e);
    }
    LOG.info("done {}", description);
  }

  private Path existingDir() {
    if (!Files.isDirectory(dir)) {
      throw new OrchestraException(
          "volume '"
              + name
              + "' of namespace '"
              + namespace
              + "' is gone ("
              + dir
              + " is missing)");
    }
    return dir;
  }

  @Override
  public String toString() {
    return "LocalVolume[" + name + " at " + dir + "]";
  }
}
