package dev.orchestra;

/** The value behind {@link ContainerStatus#running()} and {@link ContainerStatus#exited(int)}. */
record SimpleStatus(boolean isDone, int exitCode) implements ContainerStatus {

  static final SimpleStatus RUNNING = new SimpleStatus(false, -1);

  private static final SimpleStatus[] EXITED = new SimpleStatus[256];

  static {
    for (int code = 0; code < EXITED.length; code++) {
      EXITED[code] = new SimpleStatus(true, code);
    }
  }

  static SimpleStatus exited(int exitCode) {
    if (exitCode < 0 || exitCode >= EXITED.length) {
      throw new IllegalArgumentException("exit code must be 0 to 255, was " + exitCode);
    }
    return EXITED[exitCode];
  }

  @Override
  public String toString() {
    return isDone ? "exited(" + exitCode + ")" : "running";
  }
}
