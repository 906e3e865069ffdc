package dev.orchestra.docker;

import java.util.Locale;

/** When the driver pulls a task's image: the {@code pull} parameter. */
enum PullPolicy {
  /** Pull only when the engine does not have the image (the default): local images work offline. */
  MISSING,
  /** Pull before every new container, to pick up a moved tag. */
  ALWAYS,
  /** Never pull: an image the engine does not have fails the task. */
  NEVER;

  /**
   * Reads the parameter's value.
   *
   * @param value {@code missing}, {@code always} or {@code never}, in any case
   * @return the policy
   * @throws IllegalArgumentException naming the bad value and the accepted ones
   */
  static PullPolicy parse(String value) {
    return switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "missing" -> MISSING;
      case "always" -> ALWAYS;
      case "never" -> NEVER;
      default ->
          throw new IllegalArgumentException(
              "parameter 'pull' of driver 'docker' must be missing, always or never, was '"
                  + value
                  + "'");
    };
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
