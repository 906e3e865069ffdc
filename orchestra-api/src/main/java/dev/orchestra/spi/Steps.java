package dev.orchestra.spi;

import dev.orchestra.Task;

/**
 * Checks the steps given to {@link dev.orchestra.Sandbox#exec(Task)}, the same for every driver.
 */
public final class Steps {

  private Steps() {}

  /**
   * Checks that a step sets nothing that belongs to its sandbox.
   *
   * @param step the step
   * @return the step, unchanged
   * @throws IllegalArgumentException naming the first option that a step must not set: image,
   *     mounts, limits or privileged
   */
  public static Task requireStep(Task step) {
    if (step == null) {
      throw new IllegalArgumentException("step must not be null");
    }
    String misplaced =
        step.image().isPresent()
            ? "image"
            : !step.mounts().isEmpty()
                ? "mounts"
                : !step.limits().isUnlimited() ? "limits" : step.privileged() ? "privileged" : null;
    if (misplaced != null) {
      throw new IllegalArgumentException(
          "step '"
              + step.id()
              + "' sets "
              + misplaced
              + ", which belongs to the sandbox: set it on the task given to createSandbox");
    }
    return step;
  }
}
