package dev.orchestra;

/** The value behind the factories of {@link ContainerStatus}. */
record SimpleStatus(boolean isDone, int exitCode, ExitReason reason) implements ContainerStatus {

  /** The highest signal number Linux defines (SIGRTMAX). */
  static final int MAX_SIGNAL = 64;

  static final SimpleStatus RUNNING = new SimpleStatus(false, -1, ExitReason.RUNNING);

  static ExitReason derivedReason(boolean isDone, int exitCode) {
    if (!isDone) {
      return ExitReason.RUNNING;
    }
    return exitCode > 128 && exitCode <= 128 + MAX_SIGNAL ? ExitReason.SIGNALED : ExitReason.EXITED;
  }

  static SimpleStatus done(int exitCode, ExitReason reason) {
    if (exitCode < 0 || exitCode > 255) {
      throw new IllegalArgumentException("exit code must be 0 to 255, was " + exitCode);
    }
    if (reason == null || reason == ExitReason.RUNNING) {
      throw new IllegalArgumentException("the reason of a done status must not be " + reason);
    }
    return new SimpleStatus(true, exitCode, reason);
  }

  @Override
  public String toString() {
    return isDone
        ? reason.name().toLowerCase(java.util.Locale.ROOT) + "(" + exitCode + ")"
        : "running";
  }
}
