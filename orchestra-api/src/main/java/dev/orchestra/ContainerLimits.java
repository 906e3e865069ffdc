package dev.orchestra;

/**
 * Resource limits of a task. {@code 0} means unlimited.
 *
 * @param cpuShares relative CPU weight, as Docker's {@code --cpu-shares} (1024 is one default
 *     share); {@code 0} for no limit
 * @param memoryBytes the most memory the task may use, in bytes; {@code 0} for no limit
 */
public record ContainerLimits(long cpuShares, long memoryBytes) {

  /** No limit at all. */
  public static final ContainerLimits NONE = new ContainerLimits(0, 0);

  /**
   * Validates both limits.
   *
   * @param cpuShares relative CPU weight; {@code 0} for no limit
   * @param memoryBytes the most memory in bytes; {@code 0} for no limit
   * @throws IllegalArgumentException if either is negative
   */
  public ContainerLimits {
    if (cpuShares < 0) {
      throw new IllegalArgumentException(
          "cpuShares must be 0 (unlimited) or positive, was " + cpuShares);
    }
    if (memoryBytes < 0) {
      throw new IllegalArgumentException(
          "memoryBytes must be 0 (unlimited) or positive, was " + memoryBytes);
    }
  }

  /**
   * Whether no limit is set.
   *
   * @return {@code true} when both limits are {@code 0}
   */
  public boolean isUnlimited() {
    return cpuShares == 0 && memoryBytes == 0;
  }
}
