package dev.orchestra.docker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The namespaces this test run opened drivers for, one per line in the file named by the system
 * property {@value #PROPERTY} (the build sets it), so that {@link LeftoverCheck} judges this run
 * only, even when other builds share the engine.
 */
final class TestNamespaces {

  static final String PROPERTY = "orchestra.docker.namespaceLog";

  private TestNamespaces() {}

  /** Notes a namespace before a driver is opened for it. */
  static synchronized String record(String namespace) {
    Path log = log();
    if (log != null) {
      try {
        Files.createDirectories(log.toAbsolutePath().getParent());
        Files.writeString(
            log,
            namespace + "\n",
            StandardCharsets.UTF_8,
            StandardOpenOption.CREATE,
            StandardOpenOption.APPEND);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot note namespace " + namespace + " in " + log, e);
      }
    }
    return namespace;
  }

  /** Every namespace noted so far, or {@code null} when no log is configured. */
  static Set<String> recorded() throws IOException {
    Path log = log();
    if (log == null) {
      return null;
    }
    if (!Files.exists(log)) {
      return Set.of();
    }
    List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
    Set<String> namespaces = new LinkedHashSet<>();
    lines.stream().filter(l -> !l.isEmpty()).forEach(namespaces::add);
    return namespaces;
  }

  private static Path log() {
    String value = System.getProperty(PROPERTY);
    return value == null || value.isBlank() ? null : Path.of(value);
  }
}
