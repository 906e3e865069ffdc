package dev.orchestra.tck;

import static dev.orchestra.ExitReason.EXITED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@link Driver#find}: a new driver instance of the namespace finds a task by its id. Requires
 * {@link Capability#REATTACH}.
 *
 * <p>The local driver finds finished tasks also after a JVM restart; that is beyond a TCK, which
 * runs in one JVM, and belongs to the driver's own tests.
 */
abstract class ReattachRules extends DriverRules {

  ReattachRules(DriverTck kit) {
    super(kit);
  }

  @BeforeEach
  void requireReattach() {
    requireCapability(Capability.REATTACH);
  }

  @Test
  @DisplayName(
      "a new driver instance finds a running task: same id, running, its logs so far, and"
          + " then its end")
  void findsRunningTask() {
    Container c =
        driver.runContainer(
            task("gated", sh("echo started; while ! test -e ./gate/open; do sleep 1; done; exit 4"))
                .mount("gate", "gate")
                .build());
    awaitStdout(c, "started\n");

    Container found = findIn(open(namespace), "gated");

    assertThat(found.id()).as("id of the container found").isEqualTo(c.id());
    assertThat(found.status().isDone()).as("isDone() of the running task found").isFalse();
    assertThat(logsOf(found).out()).as("stdout of the task found").isEqualTo("started\n");
    assertSucceeded(
        runToEnd(task("opener", sh("echo > ./gate/open")).mount("gate", "gate").build()));
    ContainerStatus s = awaitDone(found);
    assertThat(s.exitCode()).as("exit code of the task found, once it ended").isEqualTo(4);
  }

  @Test
  @DisplayName(
      "a new driver instance finds a finished task: same id, its exit code, reason and logs")
  void findsFinishedTask() {
    Result r = runToEnd(task("done", sh("echo out; echo err >&2; exit 3")).build());

    Container found = findIn(open(namespace), "done");

    assertThat(found.id()).as("id of the container found").isEqualTo(r.container().id());
    ContainerStatus s = found.status();
    assertThat(s.isDone()).as("isDone() of the finished task found").isTrue();
    assertThat(s.exitCode()).as("exit code of the finished task found").isEqualTo(3);
    assertThat(s.reason()).as("reason of the finished task found").isEqualTo(EXITED);
    Output logs = logsOf(found);
    assertThat(logs.out()).as("stdout of the task found").isEqualTo("out\n");
    assertThat(logs.err()).as("stderr of the task found").isEqualTo("err\n");
  }

  @Test
  @DisplayName(
      "runContainer of a task a new instance found returns that container, without a second"
          + " run")
  void runContainerOfFoundTask() {
    assertThat(awaitDone(driver.runContainer(counterTask("count"))).exitCode()).isZero();
    Driver fresh = open(namespace);

    Container found = findIn(fresh, "count");
    Container again = fresh.runContainer(counterTask("count"));

    assertThat(again.id()).as("id of runContainer of the found task").isEqualTo(found.id());
    assertThat(awaitDone(again).exitCode()).isZero();
    assertThat(readFile(fresh, "state", "runs")).as("runs recorded").isEqualTo("run\n");
  }

  @Test
  @DisplayName(
      "find() is empty for an id never run, a task of another namespace, and a task cleaned"
          + " up")
  void unknownIsEmpty() {
    Driver other = open(namespace + "-other");
    assertSucceeded(runToEnd(other, task("theirs", "true").build()));
    Result gone = runToEnd(task("gone", "true").build());
    gone.container().cleanup();
    Driver fresh = open(namespace);

    for (Driver d : List.of(driver, fresh)) {
      String which = d == driver ? "the driver that ran the tasks" : "a new driver instance";
      assertThat(d.find("never-ran")).as("find(never-ran) on %s", which).isEmpty();
      assertThat(d.find("theirs")).as("find of another namespace's task on %s", which).isEmpty();
      assertThat(d.find("gone")).as("find of a cleaned-up task on %s", which).isEmpty();
    }
  }

  @Test
  @DisplayName(
      "find() of a blank id is refused with IllegalArgumentException; on a closed driver with"
          + " IllegalStateException")
  void badCallsRefused() {
    for (String id : Arrays.asList(null, "", " ")) {
      assertThatThrownBy(() -> driver.find(id))
          .as("find(%s)", id == null ? "null" : "\"" + id + "\"")
          .isInstanceOf(IllegalArgumentException.class);
    }
    driver.close();
    assertThatThrownBy(() -> driver.find("task"))
        .as("find() on a closed driver")
        .isInstanceOf(IllegalStateException.class);
  }

  private static Container findIn(Driver d, String taskId) {
    return d.find(taskId)
        .orElseThrow(() -> new AssertionError("find(\"" + taskId + "\") found nothing"));
  }
}
