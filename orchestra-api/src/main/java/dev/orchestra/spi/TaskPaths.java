package dev.orchestra.spi;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Resolves the paths a task names (mount paths, the working directory) inside its task directory,
 * so that none can reach outside it.
 *
 * <p>Both {@code /cache} and {@code cache} mean {@code <task dir>/cache}; empty and {@code .}
 * segments are dropped; a {@code ..} segment is refused outright, even one that would stay inside.
 */
public final class TaskPaths {

  private TaskPaths() {}

  /**
   * Checks a path given relative to the task directory and returns its normal form.
   *
   * @param field the field's name, for the message (for example {@code "mount path"})
   * @param path the path as given
   * @param allowTaskDir whether the task directory itself ({@code /}, {@code .}) is acceptable
   * @return the path as {@code a/b} segments joined by {@code /}, or {@code .} for the task
   *     directory itself
   * @throws IllegalArgumentException if the path is null, holds a control character or a {@code ..}
   *     segment, or names the task directory itself when that is not allowed
   */
  public static String requireRelativePath(String field, String path, boolean allowTaskDir) {
    if (path == null) {
      throw new IllegalArgumentException(field + " must not be null");
    }
    if (path.chars().anyMatch(Character::isISOControl)) {
      throw new IllegalArgumentException(
          field + " must not contain control characters, was '" + Names.printable(path) + "'");
    }
    List<String> segments = new ArrayList<>();
    for (String segment : path.split("/")) {
      if (segment.equals("..")) {
        throw new IllegalArgumentException(
            field
                + " must stay inside the task directory ('..' is not allowed), was '"
                + path
                + "'");
      }
      if (!segment.isEmpty() && !segment.equals(".")) {
        segments.add(segment);
      }
    }
    if (segments.isEmpty()) {
      if (!allowTaskDir) {
        throw new IllegalArgumentException(
            field + " must name a directory inside the task directory, was '" + path + "'");
      }
      return ".";
    }
    return String.join("/", segments);
  }

  /**
   * Resolves a path inside a task directory on the local file system.
   *
   * @param taskDir the task directory
   * @param field the field's name, for the message
   * @param path the path as given (see {@link #requireRelativePath(String, String, boolean)})
   * @return the absolute, normalised path inside {@code taskDir} (or {@code taskDir} itself for
   *     {@code .})
   * @throws IllegalArgumentException if the path is invalid or would leave the task directory
   */
  public static Path resolve(Path taskDir, String field, String path) {
    Path base = taskDir.toAbsolutePath().normalize();
    Path resolved = base.resolve(requireRelativePath(field, path, true)).normalize();
    if (!resolved.startsWith(base)) {
      throw new IllegalArgumentException(
          field + " must stay inside the task directory, was '" + path + "'");
    }
    return resolved;
  }

  /**
   * Resolves a path inside a task directory given as a POSIX path on another machine (inside a
   * container, say).
   *
   * @param taskDir the task directory, absolute, for example {@code /tmp/orchestra/ns-task}
   * @param field the field's name, for the message
   * @param path the path as given (see {@link #requireRelativePath(String, String, boolean)})
   * @return {@code taskDir/path} in normal form, or {@code taskDir} for {@code .}
   * @throws IllegalArgumentException if the path is invalid
   */
  public static String resolve(String taskDir, String field, String path) {
    String relative = requireRelativePath(field, path, true);
    String base = taskDir.endsWith("/") ? taskDir.substring(0, taskDir.length() - 1) : taskDir;
    return relative.equals(".") ? base : base + "/" + relative;
  }
}
