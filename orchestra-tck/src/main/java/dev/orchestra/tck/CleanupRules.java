package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.orchestra.Container;
import dev.orchestra.ContainerNotFoundException;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Container.cleanup(): stop, remove, forget. */
abstract class CleanupRules extends DriverRules {

  CleanupRules(DriverTck kit) {
    super(kit);
  }

  @Test
  @DisplayName(
      "cleanup() of a running task stops it: status() then reads done or throws"
          + " ContainerNotFoundException")
  void cleanupStopsRunningTask() {
    Container c = driver.runContainer(task("sleeper", "sleep", "300").build());
    assertThat(c.status().isDone()).as("isDone() of a task sleeping 300 s").isFalse();

    c.cleanup();

    assertDoneOrNotFound(c, "right after cleanup()");
  }

  @Test
  @DisplayName("cleanup() stops the task's whole process tree, background children too")
  void cleanupStopsProcessTree() {
    Container c = driver.runContainer(tickerTask());
    awaitTicking(c);

    c.cleanup();

    assertTicksStop("the ticks of the cleaned-up task's background child to stop");
  }

  @Test
  @DisplayName(
      "status() after cleanup() of a finished task reads done or throws"
          + " ContainerNotFoundException")
  void statusAfterCleanup() {
    Container c = driver.runContainer(task("echo", "echo", "hi").build());
    awaitDone(c);

    c.cleanup();

    assertDoneOrNotFound(c, "after cleanup()");
  }

  @Test
  @DisplayName("logs() after cleanup() works or throws ContainerNotFoundException, nothing else")
  void logsAfterCleanup() {
    Container c = driver.runContainer(task("echo", "echo", "hi").build());
    awaitDone(c);

    c.cleanup();

    Throwable thrown = catchThrowable(() -> logsOf(c));
    if (thrown != null) {
      assertThat(thrown)
          .as("logs() after cleanup()")
          .isInstanceOf(ContainerNotFoundException.class);
    }
  }
}
