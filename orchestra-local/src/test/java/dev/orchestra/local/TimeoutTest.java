package dev.orchestra.local;

import static dev.orchestra.local.LocalTesting.TIMEOUT;
import static dev.orchestra.local.LocalTesting.awaitDone;
import static dev.orchestra.local.LocalTesting.logs;
import static dev.orchestra.local.LocalTesting.open;
import static dev.orchestra.local.LocalTesting.sh;
import static org.assertj.core.api.Assertions.assertThat;

import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.ExitReason;
import dev.orchestra.Task;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Task.timeout(): the driver ends a task that runs too long and says it timed out. */
class TimeoutTest {

  @TempDir Path root;
  private Driver driver;

  @BeforeEach
  void openDriver() {
    driver = open(root, "timeouts");
  }

  @AfterEach
  void closeDriver() {
    driver.close();
  }

  @Test
  void aTimeoutEndsSleep300() {
    Container c =
        driver.runContainer(
            Task.builder()
                .id("sleeper")
                .command("sleep", "300")
                .timeout(Duration.ofMillis(500))
                .build());

    ContainerStatus status = c.await(TIMEOUT);

    assertThat(status.isDone()).isTrue();
    assertThat(status.exitCode()).isEqualTo(143);
    assertThat(status.reason()).isEqualTo(ExitReason.TIMED_OUT);
  }

  /** Takes the ten seconds of grace a timed-out task gets before SIGKILL. */
  @Test
  void aTimedOutTreeThatIgnoresSigtermIsKilledAfterTheGracePeriod() {
    Container c =
        driver.runContainer(
            sh("stubborn", "trap '' TERM; echo up; sleep 300")
                .timeout(Duration.ofMillis(500))
                .build());

    ContainerStatus status = c.await(TIMEOUT);

    assertThat(status.isDone()).isTrue();
    assertThat(status.exitCode()).isEqualTo(137);
    assertThat(status.reason()).isEqualTo(ExitReason.TIMED_OUT);
    assertThat(logs(c).out()).isEqualTo("up\n");
  }

  @Test
  void aTaskThatEndsInTimeIsNotStopped() {
    Container c = driver.runContainer(sh("quick", "exit 2").timeout(Duration.ofMinutes(5)).build());

    ContainerStatus status = awaitDone(c);

    assertThat(status.exitCode()).isEqualTo(2);
    assertThat(status.reason()).isEqualTo(ExitReason.EXITED);
  }
}
