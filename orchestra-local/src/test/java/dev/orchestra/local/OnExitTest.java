package dev.orchestra.local;

import static dev.orchestra.local.LocalTesting.TIMEOUT;
import static dev.orchestra.local.LocalTesting.open;
import static dev.orchestra.local.LocalTesting.sh;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.ExitReason;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.Task;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** onExit() and await(): the final status without polling and without a thread per task. */
class OnExitTest {

  @TempDir Path root;
  private Driver driver;

  @BeforeEach
  void openDriver() {
    driver = open(root, "exits");
  }

  @AfterEach
  void closeDriver() {
    driver.close();
  }

  @Test
  void onExitCompletesWithTheStatusThatStatusThenReturns() throws Exception {
    Container c = driver.runContainer(sh("five", "exit 5").build());

    ContainerStatus status = c.onExit().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);

    assertThat(status.isDone()).isTrue();
    assertThat(status.exitCode()).isEqualTo(5);
    assertThat(status.reason()).isEqualTo(ExitReason.EXITED);
    assertThat(c.status()).isSameAs(status);
    assertThat(c.onExit().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isSameAs(status);
  }

  @Test
  void cancellingOneFutureLeavesTheOthers() throws Exception {
    Container c = driver.runContainer(sh("slow", "exec sleep 300").build());
    CompletableFuture<ContainerStatus> cancelled = c.onExit();
    CompletableFuture<ContainerStatus> kept = c.onExit();

    cancelled.cancel(false);
    c.stop(Duration.ZERO);

    assertThat(kept.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS).reason())
        .isEqualTo(ExitReason.STOPPED);
    assertThat(c.onExit().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS).exitCode()).isEqualTo(137);
  }

  @Test
  void awaitReturnsTheRunningStatusOnTimeoutAndTheFinalOneWhenDone() throws Exception {
    Container c =
        driver.runContainer(sh("gated", "while [ ! -e gate ]; do sleep 0.02; done").build());

    ContainerStatus early = c.await(Duration.ofMillis(100));
    assertThat(early.isDone()).isFalse();
    assertThat(early.reason()).isEqualTo(ExitReason.RUNNING);

    Files.createFile(LocalTesting.taskDir(root, "exits", "gated").resolve("gate"));
    ContainerStatus done = c.await(TIMEOUT);
    assertThat(done.isDone()).isTrue();
    assertThat(done.exitCode()).isZero();
    assertThat(c.await(Duration.ZERO)).isSameAs(done);
  }

  @Test
  void awaitAnswersInterruption() {
    Container c = driver.runContainer(sh("long", "exec sleep 300").build());
    Thread.currentThread().interrupt();
    try {
      assertThatThrownBy(() -> c.await(TIMEOUT))
          .isInstanceOf(OrchestraInterruptedException.class)
          .hasMessageContaining(c.id());
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
    assertThat(c.status().isDone()).isFalse();
  }

  /**
   * Hundreds of tasks awaited at once cost no thread of the driver per task. (The JDK keeps one
   * small reaper thread per child process while it runs; these tasks end at once, so few overlap.)
   */
  @Test
  void hundredsOfFuturesCompleteWithoutAThreadPerTask() throws Exception {
    int tasks = 500;
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    threads.resetPeakThreadCount();
    List<CompletableFuture<ContainerStatus>> exits = new ArrayList<>();
    for (int i = 0; i < tasks; i++) {
      exits.add(driver.runContainer(Task.builder().id("t" + i).command("true").build()).onExit());
    }

    CompletableFuture.allOf(exits.toArray(CompletableFuture[]::new))
        .get(2 * TIMEOUT.toSeconds(), TimeUnit.SECONDS);

    assertThat(exits).allSatisfy(f -> assertThat(f.join().exitCode()).isZero());
    assertThat(threads.getPeakThreadCount())
        .as("peak live threads while %d tasks ran and were awaited", tasks)
        .isLessThan(200);
  }

  /**
   * While many tasks run with a timeout and are awaited, the driver adds no thread per task: every
   * thread beyond the JDK's own reapers (one per child process, named {@code process reaper (pid
   * N)}) is shared.
   */
  @Test
  void runningTasksWithTimeoutsAndFuturesAddNoThreadPerTask() throws Exception {
    int tasks = 100;
    long before = threadsOtherThanReapers();
    List<CompletableFuture<ContainerStatus>> exits = new ArrayList<>();
    for (int i = 0; i < tasks; i++) {
      Task task =
          Task.builder()
              .id("r" + i)
              .command("sleep", "300")
              .timeout(Duration.ofMinutes(10))
              .build();
      exits.add(driver.runContainer(task).onExit());
    }

    assertThat(threadsOtherThanReapers())
        .as("live threads other than the JDK's process reapers, %d before the tasks", before)
        .isLessThan(before + 10);
    assertThat(exits).noneMatch(CompletableFuture::isDone);

    driver.close();

    CompletableFuture.allOf(exits.toArray(CompletableFuture[]::new))
        .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    assertThat(exits).allSatisfy(f -> assertThat(f.join().reason()).isEqualTo(ExitReason.STOPPED));
  }

  private static long threadsOtherThanReapers() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .filter(t -> !t.getName().startsWith("process reaper"))
        .count();
  }
}
