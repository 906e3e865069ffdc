package dev.orchestra.tck;

import static dev.orchestra.ExitReason.EXITED;
import static dev.orchestra.ExitReason.RUNNING;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.OrchestraInterruptedException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** {@link Container#await} and {@link Container#onExit}: waiting for the end without polling. */
abstract class AwaitRules extends DriverRules {

  AwaitRules(DriverTck kit) {
    super(kit);
  }

  @Test
  @DisplayName(
      "await() returns the final status once the task ends (exit 3, EXITED), as status()"
          + " then reads it")
  void returnsFinalStatus() {
    Container c = driver.runContainer(task("exit", sh("sleep 1; exit 3")).build());

    ContainerStatus s =
        within(
            awaitTimeout().plus(promptly()),
            "await() of a task ending after 1 s",
            () -> c.await(awaitTimeout()));

    assertThat(s.isDone()).as("isDone() of the status await() returned").isTrue();
    assertThat(s.exitCode()).as("exit code of the status await() returned").isEqualTo(3);
    assertThat(s.reason()).as("reason of the status await() returned").isEqualTo(EXITED);
    assertSameStatus("status() after await()", c.status(), s);
  }

  @Test
  @DisplayName(
      "await(0.5 s) of a running task waits that long, then returns the running status;"
          + " await(0) does not wait; await(null) is refused")
  void timesOut() {
    Container c = driver.runContainer(task("sleeper", "sleep", "300").build());
    Duration wait = Duration.ofMillis(500);

    long start = System.nanoTime();
    ContainerStatus s =
        within(
            wait.plus(promptly()), "await(PT0.5S) of a task sleeping 300 s", () -> c.await(wait));
    Duration took = Duration.ofNanos(System.nanoTime() - start);

    assertThat(s.isDone()).as("isDone() of the status await(PT0.5S) returned").isFalse();
    assertThat(s.exitCode()).as("exit code of the running status").isEqualTo(-1);
    assertThat(s.reason()).as("reason of the running status").isEqualTo(RUNNING);
    assertThat(took).as("time await(PT0.5S) took").isGreaterThanOrEqualTo(wait);

    ContainerStatus now =
        within(promptly(), "await(PT0S) of a running task", () -> c.await(Duration.ZERO));
    assertThat(now.isDone()).as("isDone() of the status await(PT0S) returned").isFalse();
    assertThatThrownBy(() -> c.await(null))
        .as("await(null)")
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  @DisplayName(
      "await() on an interrupted thread throws OrchestraInterruptedException and keeps the"
          + " interrupt flag; the task runs on")
  void interrupted() {
    Container c = driver.runContainer(task("sleeper", "sleep", "300").build());

    Background<ContainerStatus> waiting =
        inBackground("await of " + c.id(), () -> c.await(awaitTimeout()));
    waiting.interrupt();

    Throwable thrown = waiting.thrown(promptly(), "await() after its thread was interrupted");
    assertThat(thrown)
        .as("what await() threw when its thread was interrupted")
        .isInstanceOf(OrchestraInterruptedException.class);
    assertThat(waiting.interruptFlagAtEnd())
        .as("interrupt flag of the waiting thread after await() threw")
        .isTrue();
    assertThat(c.status().isDone()).as("isDone() of the task after the interrupt").isFalse();
  }

  @Test
  @DisplayName(
      "onExit() of 25 tasks started at once completes each with its own final status, as"
          + " status() then reads it")
  void onExitOfManyTasks() throws Exception {
    int count = 25;
    List<Container> containers =
        concurrently(
            count, i -> driver.runContainer(task("exit-" + i, sh("sleep 2; exit " + i)).build()));
    List<CompletableFuture<ContainerStatus>> exits =
        containers.stream().map(Container::onExit).toList();

    try {
      CompletableFuture.allOf(exits.toArray(CompletableFuture<?>[]::new))
          .get(awaitTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      fail(
          "onExit() of %d of %d tasks (each ending after 2 s) did not complete within %s",
          exits.stream().filter(f -> !f.isDone()).count(), count, awaitTimeout());
    }

    SoftAssertions softly = new SoftAssertions();
    for (int i = 0; i < count; i++) {
      ContainerStatus s = exits.get(i).join();
      softly.assertThat(s.isDone()).as("isDone() of onExit() of task exit-%d", i).isTrue();
      softly.assertThat(s.exitCode()).as("exit code of onExit() of task exit-%d", i).isEqualTo(i);
      softly.assertThat(s.reason()).as("reason of onExit() of task exit-%d", i).isEqualTo(EXITED);
      softly
          .assertThat(describe(containers.get(i).status()))
          .as("status() of task exit-%d after onExit() completed", i)
          .isEqualTo(describe(s));
    }
    softly.assertAll();
  }

  @Test
  @DisplayName(
      "await() with a timeout too long to count in nanoseconds (ChronoUnit.FOREVER,"
          + " Duration.ofMillis(Long.MAX_VALUE)) waits for the end and returns the final status")
  void unlimitedWaitsForTheEnd() {
    for (Duration unlimited : UNLIMITED) {
      Container c =
          driver.runContainer(
              task("exit-" + sequence.incrementAndGet(), sh("sleep 1; exit 3")).build());

      ContainerStatus s =
          within(
              awaitTimeout(),
              "await(" + unlimited + ") of a task ending after 1 s",
              () -> c.await(unlimited));

      assertThat(describe(s))
          .as("the status await(%s) returned", unlimited)
          .isEqualTo(describe(ContainerStatus.exited(3)));
    }
  }

  @Test
  @DisplayName("onExit() of a finished task completes at once with its final status")
  void onExitOfFinishedTask() throws Exception {
    Result r = runToEnd(task("exit", sh("exit 5")).build());

    ContainerStatus s = onExitOf(r.container(), promptly());

    assertThat(s.exitCode()).as("exit code onExit() completed with").isEqualTo(5);
    assertSameStatus("status() of the finished task", r.container().status(), s);
  }

  private ContainerStatus onExitOf(Container c, Duration limit) throws Exception {
    try {
      return c.onExit().get(limit.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      return fail("onExit() of container %s did not complete within %s", c.id(), limit);
    }
  }
}
