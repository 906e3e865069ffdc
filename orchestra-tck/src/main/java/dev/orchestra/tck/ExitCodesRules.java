package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;

import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A task's exit code reads exactly what the task's process returned. */
abstract class ExitCodesRules extends DriverRules {

  ExitCodesRules(DriverTck kit) {
    super(kit);
  }

  @Test
  @DisplayName("a task that exits 1 is done with exit code 1, and stays so on every poll")
  void failureIsDoneAndStaysExact() {
    Container c = driver.runContainer(task("fail", sh("exit 1")).build());
    awaitDone(c);

    for (int poll = 0; poll < 20; poll++) {
      ContainerStatus s = c.status();
      assertThat(s.isDone()).as("isDone() on poll %d after done", poll).isTrue();
      assertThat(s.exitCode()).as("exitCode() on poll %d after done", poll).isEqualTo(1);
    }
  }

  @ParameterizedTest(name = "exit {0}")
  @ValueSource(ints = {0, 3, 42, 255})
  @DisplayName("the exit code is the task's own")
  void exactExitCode(int code) {
    Result r = runToEnd(task("exit-" + code, sh("exit " + code)).build());

    assertThat(r.exitCode()).as("exit code").isEqualTo(code);
  }

  @Test
  @DisplayName("a running task reads not done with exit code -1")
  void runningTaskIsNotDone() {
    Container c = driver.runContainer(task("sleeper", "sleep", "300").build());

    ContainerStatus s = c.status();
    assertThat(s.isDone()).as("isDone() of a task sleeping 300 s").isFalse();
    assertThat(s.exitCode()).as("exitCode() while running").isEqualTo(-1);
    c.cleanup();
  }

  @ParameterizedTest(name = "signal {0}")
  @ValueSource(ints = {9, 15})
  @DisplayName(
      "a task killed by signal N reads 128+N (container drivers need an init process:"
          + " PID 1 cannot be killed by itself)")
  void killedBySignal(int signal) {
    Result r = runToEnd(task("killed-" + signal, sh("kill -" + signal + " $$")).build());

    assertThat(r.exitCode())
        .as("exit code of a task killed by signal %d", signal)
        .isEqualTo(128 + signal);
  }
}
