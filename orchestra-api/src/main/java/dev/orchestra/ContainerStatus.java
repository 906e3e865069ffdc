package dev.orchestra;

import java.util.OptionalInt;

/**
 * A snapshot of a task's state, as returned by {@link Container#status()}.
 *
 * <p>Drivers may use {@link #running()}, {@link #exited(int)} and {@link #done(int, ExitReason)}
 * rather than implement it.
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
   * Why the task ended. Drivers that know more than the exit code (a stop on request, a timeout,
   * the platform's out-of-memory killer) override this; the default derives it from the exit code.
   *
   * @return {@link ExitReason#RUNNING} while not done; otherwise {@link ExitReason#SIGNALED} for an
   *     exit code of 129 to 192 and {@link ExitReason#EXITED} for any other, unless the driver
   *     knows better
   */
  default ExitReason reason() {
    return SimpleStatus.derivedReason(isDone(), exitCode());
  }

  /**
   * The signal that ended the task, when a signal did: its exit code minus 128.
   *
   * @return the signal number, or empty when the task is running or exited by itself
   */
  default OptionalInt signal() {
    return isDone() && exitCode() > 128 && exitCode() <= 128 + SimpleStatus.MAX_SIGNAL
        ? OptionalInt.of(exitCode() - 128)
        : OptionalInt.empty();
  }

  /**
   * The status of a task that has not finished yet: not done, exit code {@code -1}.
   *
   * @return the shared running status
   */
  static ContainerStatus running() {
    return SimpleStatus.RUNNING;
  }

  /**
   * The status of a task that ended with the given exit code, its reason derived from the code (see
   * {@link #reason()}).
   *
   * @param exitCode the task's exit code, 0 to 255
   * @return a done status with that exit code
   * @throws IllegalArgumentException if the exit code is outside 0 to 255
   */
  static ContainerStatus exited(int exitCode) {
    return SimpleStatus.done(exitCode, SimpleStatus.derivedReason(true, exitCode));
  }

  /**
   * The status of a task that ended with the given exit code for the given reason.
   *
   * @param exitCode the task's exit code, 0 to 255
   * @param reason why it ended; not {@link ExitReason#RUNNING}
   * @return a done status
   * @throws IllegalArgumentException if the exit code is outside 0 to 255 or the reason is null or
   *     {@link ExitReason#RUNNING}
   */
  static ContainerStatus done(int exitCode, ExitReason reason) {
    return SimpleStatus.done(exitCode, reason);
  }
}
