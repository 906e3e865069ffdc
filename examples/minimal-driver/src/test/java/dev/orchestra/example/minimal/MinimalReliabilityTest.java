package dev.orchestra.example.minimal;

import dev.orchestra.Container;
import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import dev.orchestra.tck.ReliabilityTck;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;

/**
 * The driver under faults, load, hostile input and interruption, in a root directory of its own.
 * What only the platform knows comes from here: what a namespace left (files below its directory,
 * processes working in it), and how to remove a task or a volume behind the driver's back (delete
 * its directory, as a disk cleaner would).
 */
class MinimalReliabilityTest extends ReliabilityTck {

  private static final Path ROOT = createRoot();

  private static Path createRoot() {
    try {
      return Files.createTempDirectory("orchestra-minimal-reliability-").toRealPath();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @AfterAll
  static void removeRoot() throws IOException {
    NamespaceDirectory.delete(ROOT);
  }

  @Override
  protected Driver newDriver(String namespace) {
    return Orchestra.open("minimal", namespace, Map.of("root", ROOT.toString()));
  }

  /** Task and volume directories are named after ids and names: no hostile name is found there. */
  @Override
  protected Set<Path> driverAreas() {
    return Set.of(ROOT);
  }

  @Override
  protected List<String> leftovers(String namespace) {
    return filesAndProcessesIn(NamespaceDirectory.of(ROOT, namespace).path());
  }

  @Override
  protected void removeContainerBehindDriver(String namespace, String taskId, Container c) {
    delete(NamespaceDirectory.of(ROOT, namespace).task(taskId));
  }

  @Override
  protected void removeVolumeBehindDriver(String namespace, String volumeName) {
    delete(NamespaceDirectory.of(ROOT, namespace).volume(volumeName));
  }

  /** Where a process works, from /proc (a deleted directory too); empty when unknown. */
  private static void delete(Path path) {
    try {
      NamespaceDirectory.delete(path);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
