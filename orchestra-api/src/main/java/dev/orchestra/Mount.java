package dev.orchestra;

import dev.orchestra.spi.Names;
import dev.orchestra.spi.TaskPaths;

/**
 * A volume mounted into a task.
 *
 * <p>The path is resolved inside the task directory: {@code /cache} and {@code cache} both mean
 * {@code <task dir>/cache}; nested paths such as {@code cache/m2} have their parents created.
 *
 * @param name the volume's name, as given to {@link Driver#createVolume(String, long)}
 * @param path where the volume appears, relative to the task directory
 */
public record Mount(String name, String path) {

  /**
   * Validates both parts.
   *
   * @param name the volume's name
   * @param path where it appears, relative to the task directory
   * @throws IllegalArgumentException if the name is not a valid volume name (see {@link
   *     Names#requireVolumeName(String)}) or the path is empty, contains a {@code ..} segment or a
   *     control character
   */
  public Mount {
    Names.requireVolumeName(name);
    TaskPaths.requireRelativePath("mount path", path, false);
  }
}
