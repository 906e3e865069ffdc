package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.Driver;
import dev.orchestra.Volume;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The platform changed behind the driver's back: clear errors or done, never a hang. */
abstract class InterferenceRules extends ReliabilityRules {

  InterferenceRules(ReliabilityTck kit) {
    super(kit);
  }

  @Test
  @DisplayName(
      "a running task removed behind the driver's back: every call answers done or an"
          + " OrchestraException promptly, and close() completes")
  void runningContainerRemoved() {
    String namespace = newNamespace();
    Driver driver = open(namespace);
    Container c = driver.runContainer(task("victim", "sleep", "300").build());
    assertThat(c.status().isDone()).as("isDone() of a task sleeping 300 s").isFalse();
    removeContainer(namespace, "victim", c);

    answersAfterRemoval(driver, c);
    closePromptly(driver);
  }

  @Test
  @DisplayName(
      "a finished task removed behind the driver's back: every call answers done or an"
          + " OrchestraException promptly, and close() completes")
  void finishedContainerRemoved() {
    String namespace = newNamespace();
    Driver driver = open(namespace);
    Container c = driver.runContainer(task("victim", "echo", "hi").build());
    awaitDone(c);
    removeContainer(namespace, "victim", c);

    answersAfterRemoval(driver, c);
    closePromptly(driver);
  }

  @Test
  @DisplayName(
      "a volume removed behind the driver's back: createVolume, tasks mounting it and cleanup"
          + " work or fail clearly, and close() completes")
  void volumeRemoved() {
    String namespace = newNamespace();
    Driver driver = open(namespace);
    Volume volume = driver.createVolume("data", 0);
    Container writer =
        driver.runContainer(task("writer", sh("echo kept > v/file")).mount("data", "v").build());
    assertThat(awaitDone(writer).exitCode()).as("exit code of the writer").isZero();
    writer.cleanup();
    removeVolume(namespace, "data");

    Throwable again =
        catchThrowable(
            () -> within("createVolume after removal", () -> driver.createVolume("data", 0)));
    assertClear("createVolume(\"data\") after the volume was removed", again);
    Throwable run =
        catchThrowable(
            () ->
                within(
                    "a task mounting the removed volume",
                    () -> {
                      Container reader =
                          driver.runContainer(
                              task("reader", sh("cat v/file 2>/dev/null; echo end"))
                                  .mount("data", "v")
                                  .build());
                      return awaitDone(reader);
                    }));
    assertClear("running a task that mounts the removed volume", run);
    assertClear(
        "cleanup() of the removed volume",
        catchThrowable(() -> within("volume cleanup", () -> call(volume::cleanup))));
    closePromptly(driver);
  }

  private void answersAfterRemoval(Driver driver, Container c) {
    // A platform may let a removed task's processes run on (the local driver's do, in a deleted
    // directory): only once stop() has ended it must the waiting calls return.
    Map<String, Callable<?>> calls = new LinkedHashMap<>();
    calls.put("status()", c::status);
    calls.put("await(1 second)", () -> c.await(Duration.ofSeconds(1)));
    calls.put(
        "logs()",
        () -> call(() -> c.logs(new ByteArrayOutputStream(), new ByteArrayOutputStream())));
    if (driver.capabilities().contains(Capability.STOP)) {
      calls.put("stop()", () -> c.stop(Duration.ofSeconds(1)));
      calls.put("await() after stop()", () -> c.await(awaitTimeout()));
      calls.put(
          "onExit() after stop()",
          () -> c.onExit().get(awaitTimeout().toMillis(), TimeUnit.MILLISECONDS));
      if (driver.capabilities().contains(Capability.FOLLOW)) {
        calls.put(
            "follow() after stop()",
            () -> call(() -> c.follow(new ByteArrayOutputStream(), new ByteArrayOutputStream())));
      }
    }
    if (driver.capabilities().contains(Capability.REATTACH)) {
      calls.put("find()", () -> driver.find("victim"));
    }
    calls.put("cleanup()", () -> call(c::cleanup));
    calls.put("cleanup() again", () -> call(c::cleanup));
    SoftAssertions softly = new SoftAssertions();
    calls.forEach(
        (name, call) -> {
          Throwable thrown = catchThrowable(() -> within(name + " after removal", call));
          if (thrown instanceof ExecutionException) {
            thrown = thrown.getCause();
          }
          softly
              .assertThat(thrown == null || isClear(thrown))
              .as("%s after the container was removed threw %s", name, describe(thrown))
              .isTrue();
        });
    softly.assertAll();
    Throwable status = catchThrowable(c::status);
    if (status == null) {
      assertThat(c.status().isDone())
          .as("isDone() after removal and cleanup (or ContainerNotFoundException)")
          .isTrue();
    }
    Container fresh = driver.runContainer(task("victim", "echo", "fresh").build());
    assertThat(awaitDone(fresh).exitCode()).as("exit code of the id's fresh run").isZero();
    assertThat(logsOf(fresh).out()).as("stdout of the id's fresh run").isEqualTo("fresh\n");
  }

  private void closePromptly(Driver driver) {
    within("close()", () -> call(driver::close));
  }
}
