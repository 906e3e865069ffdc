package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;

import dev.orchestra.Container;
import dev.orchestra.Task;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The scenario every driver must get right first: run a command, read what it printed. */
abstract class HappyPathRules extends DriverRules {

  HappyPathRules(DriverTck kit) {
    super(kit);
  }

  @Test
  @DisplayName(
      "echo prints its arguments, an empty one too, to stdout exactly and exits 0: the command"
          + " is run as the given words, not rejoined")
  void echoPrintsToStdout() {
    Result r = runToEnd(task("echo", "echo", "hello", "", "world").build());

    assertThat(r.exitCode()).as("exit code").isZero();
    assertThat(r.out()).as("stdout of echo hello '' world").isEqualTo("hello  world\n");
    assertThat(r.err()).as("stderr").isEmpty();
  }

  @Test
  @DisplayName("name() is the non-empty lower-case registry name")
  void nameIsRegistryName() {
    assertThat(driver.name()).matches("[a-z0-9][a-z0-9._-]*");
  }

  @Test
  @DisplayName(
      "runContainer with a known task id returns the same container and does not run it again")
  void sameTaskIdSameContainerOneRun() {
    Task count = counterTask("count");
    Container first = driver.runContainer(count);
    Container again = driver.runContainer(count);
    assertThat(again.id()).as("id of the container of the second call").isEqualTo(first.id());
    assertThat(awaitDone(first).exitCode()).isZero();
    assertThat(awaitDone(again).exitCode()).isZero();

    Container afterDone = driver.runContainer(counterTask("count"));
    assertThat(afterDone.id()).as("id after the task finished").isEqualTo(first.id());
    assertThat(awaitDone(afterDone).exitCode()).isZero();

    assertThat(readFile(driver, "state", "runs")).as("runs recorded").isEqualTo("run\n");
  }

  @Test
  @DisplayName("after cleanup, runContainer with the same task id starts a fresh run")
  void cleanupFreesTheTaskId() {
    Container first = driver.runContainer(counterTask("count"));
    assertThat(awaitDone(first).exitCode()).isZero();
    first.cleanup();

    Container second = driver.runContainer(counterTask("count"));
    assertThat(awaitDone(second).exitCode()).isZero();

    assertThat(readFile(driver, "state", "runs")).as("runs recorded").isEqualTo("run\nrun\n");
  }

  @Test
  @DisplayName("cleanup() may be called any number of times")
  void cleanupIsIdempotent() {
    Container c = driver.runContainer(task("echo", "echo", "hi").build());
    awaitDone(c);

    c.cleanup();
    c.cleanup();
    c.cleanup();
  }

  @Test
  @DisplayName("id() is non-empty and stable for the container's life")
  void idIsStable() {
    Container c = driver.runContainer(task("echo", "echo", "hi").build());
    String id = c.id();
    assertThat(id).as("id()").isNotBlank();

    c.status();
    assertThat(c.id()).as("id() while polled").isEqualTo(id);
    awaitDone(c);
    logsOf(c);
    assertThat(c.id()).as("id() once done").isEqualTo(id);
  }
}
