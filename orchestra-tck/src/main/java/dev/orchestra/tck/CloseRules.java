package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.orchestra.Container;
import dev.orchestra.Driver;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** close() removes everything of its namespace and nothing else. */
abstract class CloseRules extends DriverRules {

  CloseRules(DriverTck kit) {
    super(kit);
  }

  @Test
  @DisplayName(
      "close() removes the namespace's volumes and containers, as a new driver of the"
          + " namespace sees")
  void closeRemovesEverything() {
    assertSucceeded(runToEnd(task("write", sh("echo old > ./v/file")).mount("data", "v").build()));
    assertSucceeded(runToEnd(task("task", "echo", "old").build()));

    driver.close();

    Driver fresh = open(namespace);
    Result look =
        runToEnd(fresh, task("look", sh("test ! -e ./v/file")).mount("data", "v").build());
    assertThat(look.exitCode()).as("exit code of 'test ! -e' on the volume after close").isZero();
    Result rerun = runToEnd(fresh, task("task", "echo", "new").build());
    assertThat(rerun.out()).as("stdout of the same task id after close").isEqualTo("new\n");
  }

  @Test
  @DisplayName("close() may be called any number of times")
  void closeIsIdempotent() {
    assertSucceeded(runToEnd(task("echo", "echo", "hi").build()));

    driver.close();
    driver.close();
    driver.close();
  }

  @Test
  @DisplayName("a closed driver refuses runContainer and createVolume with IllegalStateException")
  void closedDriverRefusesWork() {
    driver.close();

    assertThatThrownBy(() -> driver.runContainer(task("late", "true").build()))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> driver.createVolume("late", 0))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  @DisplayName("close() stops a running task: the same task id then runs fresh")
  void closeStopsRunningTask() {
    Container c = driver.runContainer(task("sleeper", "sleep", "300").build());
    assertThat(c.status().isDone()).as("isDone() of a task sleeping 300 s").isFalse();

    driver.close();

    assertStoppedByClose(c);
    Result rerun = runToEnd(open(namespace), task("sleeper", "echo", "fresh").build());
    assertThat(rerun.out()).as("stdout of the same task id after close").isEqualTo("fresh\n");
  }

  @Test
  @DisplayName("close() touches no other namespace, not even one its namespace is a prefix of")
  void closeSparesOtherNamespaces() {
    Driver other = open(namespace + "-other");
    for (Driver d : List.of(driver, other)) {
      assertSucceeded(
          runToEnd(d, task("write", sh("echo kept > ./v/file")).mount("shared", "v").build()));
    }
    driver.runContainer(task("sleeper", sh("echo started; sleep 300")).build());
    Container survivor = other.runContainer(task("sleeper", sh("echo started; sleep 300")).build());
    awaitAtMost("the other namespace's task to start")
        .untilAsserted(() -> assertThat(logsOf(survivor).out()).isEqualTo("started\n"));

    driver.close();

    assertThat(survivor.status().isDone())
        .as("isDone() of the other namespace's running task")
        .isFalse();
    assertThat(readFile(other, "shared", "file"))
        .as("the other namespace's volume")
        .isEqualTo("kept\n");
    survivor.cleanup();
  }
}
