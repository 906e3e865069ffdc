package dev.orchestra;

/**
 * Optional behaviour a driver may offer, declared by {@link Driver#capabilities()}.
 *
 * <p>A task option whose capability a driver lacks is ignored with a warning; the TCK skips the
 * tests of a missing capability and reports them as skipped with the reason.
 */
public enum Capability {
  /** {@link Task#image()} selects the filesystem the command runs in. */
  IMAGE,
  /** {@link Task#user()} runs the command as that user. */
  USER,
  /** {@link Task#privileged()} runs the command with extended privileges. */
  PRIVILEGED,
  /** {@link ContainerLimits#cpuShares()} is enforced. */
  CPU_LIMIT,
  /** {@link ContainerLimits#memoryBytes()} is enforced. */
  MEMORY_LIMIT,
  /** {@link Container#follow(java.io.OutputStream, java.io.OutputStream)} streams live output. */
  FOLLOW,
  /** {@link Container#stop(java.time.Duration)} stops a task gracefully, then forcibly. */
  STOP,
  /** {@link Task#timeout()} is enforced: the driver stops a task that runs longer. */
  TIMEOUT,
  /**
   * {@link Driver#find(String)} finds a task from a new driver instance of the namespace: any task
   * for platforms that keep state (Docker), finished ones across restarts for the local driver.
   */
  REATTACH,
  /** {@link Driver#createSandbox(Task)} runs several commands in one long-lived container. */
  SANDBOX,
  /**
   * {@link Volume#copyIn(java.io.InputStream)} and {@link Volume#copyOut(java.io.OutputStream)}
   * (and their directory forms) move a volume's data in and out as tar streams.
   */
  VOLUME_DATA
}
