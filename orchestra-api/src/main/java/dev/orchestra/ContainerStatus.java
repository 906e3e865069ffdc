package dev.orchestra;

/**
 * A snapshot of a task's state, as returned by {@link Container#status()}.
 *
 * <p>Drivers may use {@link #running()} and {@link #exited(int)} rather than implement it.
 */
public interface ContainerStatus {

  /**
   * Whether the task has finished, successfully or not.
   *
   * @return {@code true} once the task's process has ended
   */
  boolean isDone();

  /**
   * The task's own exit code once done: 0 to 255, where a task killed by signal N reads 128+N.
   *
   * @return the exit code, or {@code -1} while the task is not done
   */
  int exitCode();

  /**
   * The status of a task that has not finished yet: not done, exit code {@code -1}.
   *
   * @return the shared running status
   */
  static ContainerStatus running() {
    return SimpleStatus.RUNNING;
  }

  /**
   * The status of a task that ended with the given exit code.
   *
   * @param exitCode the task's exit code, 0 to 255
   * @return a done status with that exit code
   * @throws IllegalArgumentException if the exit code is outside 0 to 255
   */
  static ContainerStatus exited(int exitCode) {
    return SimpleStatus.exited(exitCode);
  }
}
