package dev.orchestra.tck;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Looks for files a driver should never have created: the kits' check of "nothing outside". */
final class FileSearch {

  private static final Logger LOG = LoggerFactory.getLogger(FileSearch.class);

  private FileSearch() {}

  /**
   * The files and directories whose name matches {@code name} where a driver that let a name reach
   * outside its area would have put them: below the temporary directory (8 levels) and the working
   * directory (3 levels), and in the root directory and the two directories above each of those.
   * The subtrees in {@code skip} (absolute, normalised) are not entered.
   */
  static List<Path> nearTheJvm(Predicate<String> name, Set<Path> skip) {
    Path tmp = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath().normalize();
    Path cwd = Path.of("").toAbsolutePath().normalize();
    Set<Path> found = new LinkedHashSet<>();
    found.addAll(named(tmp, 8, name, skip));
    found.addAll(named(cwd, 3, name, skip));
    for (Path start : List.of(tmp, cwd)) {
      Path above = start.getParent();
      for (int up = 0; up < 2 && above != null; up++, above = above.getParent()) {
        found.addAll(named(above, 1, name, skip));
      }
    }
    found.addAll(named(tmp.getRoot(), 1, name, skip));
    return new ArrayList<>(found);
  }

  /**
   * The files and directories below {@code start}, down to {@code depth} levels, whose name matches
   * {@code name}. Links are not followed, unreadable places are passed over, and the subtrees in
   * {@code skip} (absolute, normalised) are not entered.
   */
  static List<Path> named(Path start, int depth, Predicate<String> name, Set<Path> skip) {
    List<Path> found = new ArrayList<>();
    try {
      Files.walkFileTree(
          start,
          Set.of(),
          depth,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
              if (skip.contains(dir)) {
                return FileVisitResult.SKIP_SUBTREE;
              }
              return visitFile(dir, attrs);
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
              if (file.getFileName() != null && name.test(file.getFileName().toString())) {
                found.add(file);
              }
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      LOG.warn("could not search {}: {}", start, e.toString());
    }
    return found;
  }
}
