package dev.orchestra.local;

import static dev.orchestra.local.LocalTesting.TIMEOUT;
import static dev.orchestra.local.LocalTesting.awaitDone;
import static dev.orchestra.local.LocalTesting.open;
import static dev.orchestra.local.LocalTesting.sh;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.orchestra.Container;
import dev.orchestra.Driver;
import dev.orchestra.ExitReason;
import dev.orchestra.Task;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The driver's threads end with its work, so that none keeps the driver's class loader alive in a
 * host that unloads plug-ins: the shared timer of timeouts, the pumps of standard input.
 */
class BackgroundThreadsTest {

  @TempDir Path root;

  @Test
  void noThreadOfTheDriverOutlivesItsTasks() {
    try (Driver driver = open(root, "threads")) {
      Container timedOut =
          driver.runContainer(sh("slow", "exec sleep 300").timeout(Duration.ofMillis(300)).build());
      driver.runContainer(sh("pending", "exec sleep 300").timeout(Duration.ofHours(1)).build());
      Container fed =
          driver.runContainer(Task.builder().id("fed").command("cat").stdin("in").build());

      assertThat(awaitDone(timedOut).reason()).isEqualTo(ExitReason.TIMED_OUT);
      awaitDone(fed);
      assertThat(driverThreads()).as("threads while a timeout is pending").isNotEmpty();
    }

    await("no thread of the local driver left after close()")
        .atMost(TIMEOUT)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> driverThreads().isEmpty());
  }

  private static List<String> driverThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(n -> n.startsWith("orchestra-"))
        .toList();
  }
}
