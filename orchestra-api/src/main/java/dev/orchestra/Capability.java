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
  MEMORY_LIMIT
}
