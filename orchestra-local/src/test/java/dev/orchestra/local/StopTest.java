package dev.orchestra.local;

import static dev.orchestra.local.LocalTesting.TIMEOUT;
import static dev.orchestra.local.LocalTesting.alive;
import static dev.orchestra.local.LocalTesting.awaitDone;
import static dev.orchestra.local.LocalTesting.logs;
import static dev.orchestra.local.LocalTesting.open;
import static dev.orchestra.local.LocalTesting.sh;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.ExitReason;
import dev.orchestra.OrchestraInterruptedException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** stop(grace), cleanup and why a task ended. */
class StopTest {

  @TempDir Path root;
  private Driver driver;

  @BeforeEach
  void openDriver() {
    driver = open(root, "stops");
  }

  @AfterEach
  void closeDriver() {
    driver.close();
  }

  @Test
  void sigtermEndsATaskThatIgnoresNothingWellWithinTheGracePeriod() throws Exception {
    Container c = driver.runContainer(sh("plain", "echo up; exec sleep 300").build());
    await().atMost(TIMEOUT).until(() -> logs(c).out().equals("up\n"));
    Duration grace = Duration.ofSeconds(60);
    long start = System.nanoTime();

    ContainerStatus stopped = c.stop(grace);

    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(grace);
    assertThat(stopped.isDone()).isTrue();
    assertThat(stopped.exitCode()).isEqualTo(143);
    assertThat(stopped.reason()).isEqualTo(ExitReason.STOPPED);
    assertThat(c.status()).isSameAs(stopped);
    assertThat(c.onExit().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isSameAs(stopped);
    assertThat(logs(c).out()).as("the container stays, with its logs").isEqualTo("up\n");
  }

  @Test
  void aTaskIgnoringSigtermIsKilledAfterTheGracePeriod() {
    Container c = driver.runContainer(sh("stubborn", "trap '' TERM; echo up; sleep 300").build());
    await().atMost(TIMEOUT).until(() -> logs(c).out().equals("up\n"));
    Duration grace = Duration.ofSeconds(1);
    long start = System.nanoTime();

    ContainerStatus stopped = c.stop(grace);

    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(grace);
    assertThat(stopped.exitCode()).isEqualTo(137);
    assertThat(stopped.reason()).isEqualTo(ExitReason.STOPPED);
    assertThat(stopped.signal()).hasValue(9);
  }

  /**
   * The root shell ends at SIGTERM; its child ignores SIGTERM and outlives it, handed to init, yet
   * is still killed after the grace period.
   */
  @Test
  void theWholeTreeIsStoppedAlsoAChildThatTrapsSigtermAndOutlivesItsParent() {
    Container c =
        driver.runContainer(
            sh(
                    "tree",
                    "sh -c 'trap \"\" TERM; exec sleep 300' & echo $!;"
                        + " sleep 300 & echo $!; echo $$; wait")
                .build());
    await().atMost(TIMEOUT).until(() -> logs(c).outLines().size() == 3);
    List<ProcessHandle> tree = LocalTesting.processes(logs(c).outLines());
    Duration grace = Duration.ofSeconds(1);
    long start = System.nanoTime();

    ContainerStatus stopped = c.stop(grace);

    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(grace);
    assertThat(tree).as("processes of the tree still alive").noneMatch(LocalTesting::alive);
    assertThat(stopped.exitCode()).isEqualTo(143);
    assertThat(stopped.reason()).isEqualTo(ExitReason.STOPPED);
  }

  @Test
  void aTaskThatHandlesSigtermEndsWithItsOwnCodeAndReasonStopped() {
    Container c =
        driver.runContainer(
            sh("handler", "trap 'echo bye; exit 7' TERM; echo up; sleep 300 & wait").build());
    await().atMost(TIMEOUT).until(() -> logs(c).out().equals("up\n"));

    ContainerStatus stopped = c.stop(Duration.ofSeconds(60));

    assertThat(stopped.exitCode()).isEqualTo(7);
    assertThat(stopped.reason()).isEqualTo(ExitReason.STOPPED);
    assertThat(logs(c).out()).isEqualTo("up\nbye\n");
  }

  @Test
  void zeroGraceKillsAtOnce() {
    Container c = driver.runContainer(sh("now", "trap '' TERM; echo up; sleep 300").build());
    await().atMost(TIMEOUT).until(() -> logs(c).out().equals("up\n"));

    ContainerStatus stopped = c.stop(Duration.ZERO);

    assertThat(stopped.exitCode()).isEqualTo(137);
    assertThat(stopped.reason()).isEqualTo(ExitReason.STOPPED);
  }

  @Test
  void stoppingATaskThatEndedChangesNothing() {
    Container c = driver.runContainer(sh("ended", "exit 3").build());
    ContainerStatus ended = awaitDone(c);

    assertThat(c.stop(Duration.ofSeconds(1))).isSameAs(ended);
    assertThat(ended.reason()).isEqualTo(ExitReason.EXITED);
    c.cleanup();
    assertThat(c.stop(Duration.ofSeconds(1))).isSameAs(ended);
  }

  @Test
  void refusesAMissingOrNegativeGracePeriod() {
    Container c = driver.runContainer(sh("graceless", "exec sleep 300").build());
    assertThatThrownBy(() -> c.stop(null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("graceless");
    assertThatThrownBy(() -> c.stop(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("-1");
    assertThat(c.status().isDone()).isFalse();
  }

  @Test
  void anInterruptedStopKillsTheTaskAndRestoresTheFlag() throws Exception {
    Container c = driver.runContainer(sh("patient", "trap '' TERM; echo up; sleep 300").build());
    await().atMost(TIMEOUT).until(() -> logs(c).out().equals("up\n"));
    CompletableFuture<Throwable> thrown = new CompletableFuture<>();
    AtomicBoolean flagAfterwards = new AtomicBoolean();
    Thread stopper =
        new Thread(
            () -> {
              try {
                c.stop(Duration.ofMinutes(10));
                thrown.complete(null);
              } catch (RuntimeException e) {
                flagAfterwards.set(Thread.currentThread().isInterrupted());
                thrown.complete(e);
              }
            },
            "stopper");
    stopper.start();
    try {
      await().atMost(TIMEOUT).until(() -> stopper.getState() == Thread.State.TIMED_WAITING);

      stopper.interrupt();

      assertThat(thrown.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS))
          .isInstanceOf(OrchestraInterruptedException.class)
          .hasMessageContaining("patient");
      assertThat(flagAfterwards).isTrue();
      ContainerStatus killed = awaitDone(c);
      assertThat(killed.exitCode()).isEqualTo(137);
      assertThat(killed.reason()).isEqualTo(ExitReason.STOPPED);
    } finally {
      stopper.interrupt();
      stopper.join(TIMEOUT.toMillis());
    }
  }

  @Test
  void cleanupOfARunningTaskReadsStopped() {
    Container c = driver.runContainer(sh("cleaned", "echo up; exec sleep 300").build());
    await().atMost(TIMEOUT).until(() -> logs(c).out().equals("up\n"));

    c.cleanup();

    assertThat(c.status().exitCode()).isEqualTo(137);
    assertThat(c.status().reason()).isEqualTo(ExitReason.STOPPED);
  }

  @Test
  void aSignalNobodyAskedForReadsSignaledAndNamesTheSignal() {
    Container killed = driver.runContainer(sh("killed", "kill -KILL $$").build());
    Container exited = driver.runContainer(sh("exited", "exit 1").build());

    ContainerStatus status = awaitDone(killed);

    assertThat(status.exitCode()).isEqualTo(137);
    assertThat(status.reason()).isEqualTo(ExitReason.SIGNALED);
    assertThat(status.signal()).hasValue(9);
    assertThat(awaitDone(exited).reason()).isEqualTo(ExitReason.EXITED);
    assertThat(exited.status().signal()).isEmpty();
  }

  @Test
  void aPidAliveCheckSeesTheTaskGoneAfterStop() {
    Container c = driver.runContainer(sh("pid", "echo $$; exec sleep 300").build());
    await().atMost(TIMEOUT).until(() -> !logs(c).out().isEmpty());
    ProcessHandle pid = LocalTesting.process(Long.parseLong(logs(c).out().trim()));

    c.stop(Duration.ofSeconds(30));

    assertThat(alive(pid)).isFalse();
  }
}
