package dev.orchestra.tck;

import static dev.orchestra.ExitReason.EXITED;
import static dev.orchestra.ExitReason.RUNNING;
import static dev.orchestra.ExitReason.SIGNALED;
import static org.assertj.core.api.Assertions.assertThat;

import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link ContainerStatus#reason()} and {@link ContainerStatus#signal()}: why a task ended. */
abstract class ExitReasonsRules extends DriverRules {

  ExitReasonsRules(DriverTck kit) {
    super(kit);
  }

  @ParameterizedTest(name = "exit {0}")
  @ValueSource(ints = {0, 3, 128})
  @DisplayName("a task that exits by itself reads EXITED, without a signal")
  void exited(int code) {
    Result r = runToEnd(task("exit-" + code, sh("exit " + code)).build());
    ContainerStatus s = r.container().status();

    assertThat(s.exitCode()).as("exit code").isEqualTo(code);
    assertThat(s.reason()).as("reason").isEqualTo(EXITED);
    assertThat(s.signal()).as("signal").isEmpty();
  }

  @ParameterizedTest(name = "signal {0}")
  @ValueSource(ints = {9, 15})
  @DisplayName(
      "a task killed by a signal nobody asked the driver for ('kill -N $$') reads SIGNALED"
          + " with signal N")
  void signaled(int signal) {
    Result r = runToEnd(task("killed-" + signal, sh("kill -" + signal + " $$")).build());
    ContainerStatus s = r.container().status();

    assertThat(s.exitCode()).as("exit code").isEqualTo(128 + signal);
    assertThat(s.reason()).as("reason").isEqualTo(SIGNALED);
    assertThat(s.signal()).as("signal").hasValue(signal);
  }

  @Test
  @DisplayName("a running task reads RUNNING, without a signal")
  void running() {
    Container c = driver.runContainer(task("sleeper", "sleep", "300").build());
    ContainerStatus s = c.status();

    assertThat(s.reason()).as("reason while running").isEqualTo(RUNNING);
    assertThat(s.signal()).as("signal while running").isEmpty();
  }
}
