package dev.orchestra.tck;

import static dev.orchestra.ExitReason.EXITED;
import static dev.orchestra.ExitReason.TIMED_OUT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Task;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@link Task#timeout()}: the driver stops a task that runs too long. Requires {@link
 * Capability#TIMEOUT}.
 */
abstract class TimeoutsRules extends DriverRules {

  TimeoutsRules(DriverTck kit) {
    super(kit);
  }

  @BeforeEach
  void requireTimeout() {
    requireCapability(Capability.TIMEOUT);
  }

  @Test
  @DisplayName(
      "a 'sleep 300' with timeout 2 s ends TIMED_OUT (exit 143 or 137), not before 2 s and"
          + " long before 300 s; its logs stay")
  void sleepTimesOut() {
    Duration timeout = Duration.ofSeconds(2);
    long start = System.nanoTime();
    Container c =
        driver.runContainer(task("slow", sh("echo started; sleep 300")).timeout(timeout).build());

    ContainerStatus s = awaitDone(c);
    Duration took = Duration.ofNanos(System.nanoTime() - start);

    assertThat(s.reason()).as("reason of a task that ran out of time").isEqualTo(TIMED_OUT);
    assertThat(s.exitCode()).as("exit code of a task that ran out of time").isIn(143, 137);
    assertThat(took).as("time from runContainer to done").isGreaterThanOrEqualTo(timeout);
    assertThat(logsOf(c).out()).as("stdout of the timed-out task").isEqualTo("started\n");
    assertSameStatus("status() polled again", c.status(), s);
  }

  @Test
  @DisplayName(
      "a task that ends before its timeout reads EXITED with its own code, and stays so after"
          + " the timeout has passed")
  void endingInTimeExited() {
    Duration timeout = Duration.ofSeconds(2);
    Container c =
        driver.runContainer(task("quick", sh("echo done; exit 3")).timeout(timeout).build());
    ContainerStatus s = awaitDone(c);
    assertThat(s.exitCode()).as("exit code").isEqualTo(3);
    assertThat(s.reason()).as("reason").isEqualTo(EXITED);

    await("the status of a task that ended in time to stay EXITED past its timeout")
        .atMost(awaitTimeout().plus(timeout))
        .during(timeout.plusSeconds(1))
        .pollInterval(Duration.ofMillis(250))
        .untilAsserted(() -> assertSameStatus("status() past the timeout", c.status(), s));
    assertThat(logsOf(c).out()).as("stdout").isEqualTo("done\n");
  }

  @Test
  @DisplayName(
      "a task whose timeout is too long to count (ChronoUnit.FOREVER,"
          + " Duration.ofMillis(Long.MAX_VALUE)) runs as without one: EXITED with its own code")
  void unlimitedTimeout() {
    for (Duration unlimited : UNLIMITED) {
      Container c =
          driver.runContainer(
              task("unlimited-" + sequence.incrementAndGet(), sh("echo done; exit 3"))
                  .timeout(unlimited)
                  .build());

      ContainerStatus s = awaitDone(c);

      assertThat(describe(s))
          .as("the status of a task with timeout %s", unlimited)
          .isEqualTo(describe(ContainerStatus.exited(3)));
      assertThat(logsOf(c).out()).as("stdout").isEqualTo("done\n");
    }
  }

  @Test
  @DisplayName(
      TRAPPING_TASKS
          + " tasks with timeouts of 2 s (half of them) and 3 s that trap SIGTERM while their"
          + " work runs in a background child ('sleep 300 & wait'): each runs its own trap (says"
          + " bye, exits 7) and reads TIMED_OUT, rather than ending with its child")
  void trappedTermWithBackgroundChild() throws Exception {
    // Two moments at which many tasks end at once: each is a fresh chance for the race.
    List<Container> tasks =
        concurrently(
            TRAPPING_TASKS,
            i ->
                driver.runContainer(
                    trappingTask("polite-" + i).timeout(Duration.ofSeconds(2 + i % 2)).build()));

    List<ContainerStatus> ended = tasks.stream().map(c -> awaitDone(c)).toList();

    assertRanTheirTrap(tasks, ended, TIMED_OUT);
  }
}
