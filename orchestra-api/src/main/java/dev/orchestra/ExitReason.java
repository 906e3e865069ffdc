package dev.orchestra;

/**
 * Why a task ended, as told by {@link ContainerStatus#reason()}.
 *
 * <p>A platform that only knows an exit code reports {@link #EXITED} for codes 0 to 128 and {@link
 * #SIGNALED} above, as POSIX shells encode a death by signal N as 128+N; a task that calls {@code
 * exit 137} itself reads the same as one killed by SIGKILL.
 */
public enum ExitReason {
  /** The task has not ended yet. */
  RUNNING,
  /** The task ended by itself with its exit code. */
  EXITED,
  /**
   * The task was killed by a signal nobody asked the driver to send ({@link
   * ContainerStatus#signal()}).
   */
  SIGNALED,
  /** The platform killed the task because it ran out of memory (Docker's {@code OOMKilled}). */
  OOM_KILLED,
  /** The task was stopped on request: {@link Container#stop(java.time.Duration)} or cleanup. */
  STOPPED,
  /** The task ran longer than {@link Task#timeout()} and the driver stopped it. */
  TIMED_OUT
}
