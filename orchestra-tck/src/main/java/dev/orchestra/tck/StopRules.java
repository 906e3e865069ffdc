package dev.orchestra.tck;

import static dev.orchestra.ExitReason.EXITED;
import static dev.orchestra.ExitReason.STOPPED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.ContainerNotFoundException;
import dev.orchestra.ContainerStatus;
import dev.orchestra.ExitReason;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@link Container#stop}: SIGTERM, then SIGKILL after the grace period; the status says stopped.
 * Requires {@link Capability#STOP}.
 *
 * <p>A task that traps SIGTERM and exits by itself within the grace period reads its own exit code,
 * and still {@link ExitReason#STOPPED}: it ended because it was asked to.
 */
abstract class StopRules extends DriverRules {

  StopRules(DriverTck kit) {
    super(kit);
  }

  @BeforeEach
  void requireStop() {
    requireCapability(Capability.STOP);
  }

  @Test
  @DisplayName(
      "stop() ends a 'sleep 300' by SIGTERM within the grace: done, STOPPED, exit 143 (or"
          + " 137); status() and a second stop() then read the same")
  void endsSleep() {
    Container c = driver.runContainer(task("sleeper", sh("echo started; sleep 300")).build());
    awaitStdout(c, "started\n");

    ContainerStatus s = stop(c, Duration.ofSeconds(10), "a task sleeping 300 s");

    assertThat(s.isDone()).as("isDone() of the status stop() returned").isTrue();
    assertThat(s.reason()).as("reason of the status stop() returned").isEqualTo(STOPPED);
    assertThat(s.exitCode()).as("exit code of a stopped 'sleep 300'").isIn(143, 137);
    assertSameStatus("status() after stop()", c.status(), s);
    assertSameStatus("a second stop()", stop(c, Duration.ofSeconds(10), "a stopped task again"), s);
  }

  @Test
  @DisplayName("the logs of a stopped task stay readable until cleanup()")
  void logsKept() {
    // exec: no shell is left to report the stopped sleep ("Terminated") on stderr
    Container c =
        driver.runContainer(task("talker", sh("echo out; echo err >&2; exec sleep 300")).build());
    awaitStdout(c, "out\n");

    stop(c, Duration.ofSeconds(10), "a task sleeping 300 s");

    Output logs = logsOf(c);
    assertThat(logs.out()).as("stdout after stop()").isEqualTo("out\n");
    assertThat(logs.err()).as("stderr after stop()").isEqualTo("err\n");
  }

  @Test
  @DisplayName(
      "a task that ignores SIGTERM is killed once the grace (2 s) is over: STOPPED, exit 137,"
          + " not before the grace")
  void killsAfterGrace() {
    Container c =
        driver.runContainer(
            task("stubborn", sh("trap '' TERM; echo ready; while true; do sleep 1; done")).build());
    awaitStdout(c, "ready\n");
    Duration grace = Duration.ofSeconds(2);

    long start = System.nanoTime();
    ContainerStatus s = stop(c, grace, "a task that ignores SIGTERM");
    Duration took = Duration.ofNanos(System.nanoTime() - start);

    assertThat(s.reason()).as("reason of the status stop() returned").isEqualTo(STOPPED);
    assertThat(s.exitCode()).as("exit code of a task killed by SIGKILL").isEqualTo(137);
    assertThat(took).as("time stop(PT2S) took").isGreaterThanOrEqualTo(grace);
    assertSameStatus("status() after stop()", c.status(), s);
  }

  @Test
  @DisplayName(
      "a task that traps SIGTERM and exits 0 within the grace reads exit 0, STOPPED, and"
          + " had the time to say goodbye")
  void trappedTermExitsItself() {
    Container c =
        driver.runContainer(
            task(
                    "polite",
                    sh(
                        "trap 'echo bye; exit 0' TERM; echo ready;"
                            + " while true; do sleep 1; done"))
                .build());
    awaitStdout(c, "ready\n");

    ContainerStatus s = stop(c, Duration.ofSeconds(10), "a task that traps SIGTERM");

    assertThat(s.exitCode()).as("exit code of a task that exits 0 on SIGTERM").isZero();
    assertThat(s.reason()).as("reason of the status stop() returned").isEqualTo(STOPPED);
    assertThat(logsOf(c).out()).as("stdout after stop()").isEqualTo("ready\nbye\n");
  }

  @Test
  @DisplayName(
      TRAPPING_TASKS
          + " tasks that trap SIGTERM while their work runs in a background child ('sleep 300 &"
          + " wait'), stopped at once: each runs its own trap (says bye, exits 7) and reads"
          + " STOPPED, rather than ending with its child")
  void trappedTermWithBackgroundChild() throws Exception {
    List<Container> tasks =
        concurrently(TRAPPING_TASKS, i -> driver.runContainer(trappingTask("polite-" + i).build()));
    tasks.forEach(c -> awaitStdout(c, "ready\n"));

    List<ContainerStatus> stopped =
        concurrently(TRAPPING_TASKS, i -> tasks.get(i).stop(Duration.ofSeconds(10)));

    assertRanTheirTrap(tasks, stopped, STOPPED);
  }

  @Test
  @DisplayName("stop() ends the task's whole process tree, background children too")
  void endsProcessTree() {
    Container c = driver.runContainer(tickerTask());
    awaitTicking(c);

    stop(c, Duration.ofSeconds(10), "a task with a ticking background child");

    assertTicksStop("the ticks of the stopped task's background child to stop");
  }

  @Test
  @DisplayName("stop() of a finished task returns at once and changes nothing: exit 3, EXITED")
  void finishedTaskUnchanged() {
    Result r = runToEnd(task("exit", sh("exit 3")).build());
    Container c = r.container();

    ContainerStatus s =
        within(promptly(), "stop() of a finished task", () -> c.stop(Duration.ofSeconds(5)));

    assertThat(s.exitCode()).as("exit code stop() returned").isEqualTo(3);
    assertThat(s.reason()).as("reason stop() returned").isEqualTo(EXITED);
    assertThat(c.status().reason()).as("reason of status() after stop()").isEqualTo(EXITED);
  }

  @Test
  @DisplayName(
      "cleanup() of a running task stops it too: status() then reads STOPPED (or throws"
          + " ContainerNotFoundException)")
  void cleanupReadsStopped() {
    Container c = driver.runContainer(task("sleeper", "sleep", "300").build());
    assertThat(c.status().isDone()).as("isDone() of a task sleeping 300 s").isFalse();

    c.cleanup();

    ContainerStatus s;
    try {
      s = c.status();
    } catch (ContainerNotFoundException forgotten) {
      return;
    }
    assertThat(s.isDone()).as("isDone() after cleanup()").isTrue();
    assertThat(s.reason()).as("reason after cleanup() of a running task").isEqualTo(STOPPED);
  }

  @Test
  @DisplayName(
      "stop() with a grace too long to count (ChronoUnit.FOREVER) returns once a task that"
          + " handles SIGTERM has ended by itself: exit 7, STOPPED")
  void unlimitedGrace() {
    Container c = driver.runContainer(trappingTask("polite").build());
    awaitStdout(c, "ready\n");
    Duration forever = ChronoUnit.FOREVER.getDuration();

    ContainerStatus s =
        within(
            awaitTimeout(), "stop(FOREVER) of a task that handles SIGTERM", () -> c.stop(forever));

    assertThat(describe(s))
        .as("the status stop(FOREVER) returned")
        .isEqualTo(describe(ContainerStatus.done(7, STOPPED)));
    assertThat(logsOf(c).out()).as("stdout after stop(FOREVER)").isEqualTo("ready\nbye\n");
  }

  @Test
  @DisplayName(
      "a negative or null grace is refused with IllegalArgumentException; the task runs on")
  void badGraceRefused() {
    Container c = driver.runContainer(task("sleeper", "sleep", "300").build());

    assertThatThrownBy(() -> c.stop(Duration.ofSeconds(-1)))
        .as("stop(PT-1S)")
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("-1");
    assertThatThrownBy(() -> c.stop(null))
        .as("stop(null)")
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(c.status().isDone()).as("isDone() after the refused stops").isFalse();
  }
}
