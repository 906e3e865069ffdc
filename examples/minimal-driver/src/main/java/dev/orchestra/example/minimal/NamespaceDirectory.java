package dev.orchestra.example.minimal;

import dev.orchestra.spi.Names;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Where a namespace keeps its files: everything below {@code <root>/<safe namespace>/}, so that
 * deleting that directory removes all of it. Every name a caller gives goes through {@link
 * Names#safe(String)}, which maps any text (a task id such as {@code ../../etc}) to one file name,
 * different for different texts.
 *
 * @param path the namespace's directory, absolute
 */
record NamespaceDirectory(Path path) {

  static NamespaceDirectory of(Path root, String namespace) {
    return new NamespaceDirectory(root.toAbsolutePath().normalize().resolve(Names.safe(namespace)));
  }

  /** A task's own directory: its output files and its task directory {@code work/}. */
  Path task(String taskId) {
    return path.resolve("tasks").resolve(Names.safe(taskId));
  }

  /** A volume's data. */
  Path volume(String volumeName) {
    return path.resolve("volumes").resolve(Names.safe(volumeName));
  }

  /**
   * Deletes a file or a directory tree, if it exists, without following symbolic links: a mount is
   * a link into a volume, and a task may link to anything, {@code /} included.
   */
  static void delete(Path top) throws IOException {
    if (!Files.exists(top, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> all = Files.walk(top)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (UncheckedIOException e) {
      throw e.getCause(); // what Files.walk met while listing
    }
  }
}
