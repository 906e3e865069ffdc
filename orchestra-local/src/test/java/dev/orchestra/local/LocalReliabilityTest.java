package dev.orchestra.local;

import dev.orchestra.Container;
import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import dev.orchestra.spi.Names;
import dev.orchestra.tck.ReliabilityTck;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;

/**
 * The local driver's reliability run, in a root directory of its own so that the file system can be
 * checked: after close() nothing of a namespace is left below the root, no process runs in a
 * directory of the namespace, and nothing ever appears beside the root.
 */
class LocalReliabilityTest extends ReliabilityTck {

  private static final Path PARENT = createParent();
  private static final Path ROOT = PARENT.resolve("root");

  private static Path createParent() {
    try {
      return Files.createTempDirectory("orchestra-reliability-").toRealPath();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Removes the root (each test already checked that its namespaces left nothing there). */
  @AfterAll
  static void removeRoot() throws IOException {
    try (Stream<Path> all = Files.walk(PARENT)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  @Override
  protected Driver newDriver(String namespace) {
    return Orchestra.open("local", namespace, Map.of("root", ROOT.toString()));
  }

  @Override
  protected Set<Path> driverAreas() {
    return Set.of(ROOT);
  }

  /**
   * The namespace's directory and what is in it, every process whose working directory lies in it
   * (a deleted one too), and anything beside the root directory.
   */
  @Override
  protected List<String> leftovers(String namespace) {
    List<String> left = new ArrayList<>(filesAndProcessesIn(namespaceDir(namespace)));
    try (Stream<Path> beside = Files.list(PARENT)) {
      beside
          .filter(p -> !p.equals(ROOT))
          .forEach(p -> left.add("file beside the driver's root: " + p));
    } catch (IOException e) {
      left.add("directory " + PARENT + " (unreadable: " + e + ")");
    }
    return left;
  }

  /**
   * Deletes the task's directory (its output, exit record and task directory), as a disk cleaner
   * would.
   */
  @Override
  protected void removeContainerBehindDriver(String namespace, String taskId, Container container) {
    deleteTree(namespaceDir(namespace).resolve("tasks").resolve(Names.safe(taskId)));
  }

  @Override
  protected void removeVolumeBehindDriver(String namespace, String volumeName) {
    deleteTree(namespaceDir(namespace).resolve("volumes").resolve(Names.safe(volumeName)));
  }

  private static Path namespaceDir(String namespace) {
    return ROOT.resolve(Names.safe(namespace));
  }

  /** Deletes a tree without following symbolic links. */
  private static void deleteTree(Path top) {
    try (Stream<Path> files = Files.walk(top)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (NoSuchFileException e) {
      throw new IllegalStateException("nothing to remove at " + top, e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
