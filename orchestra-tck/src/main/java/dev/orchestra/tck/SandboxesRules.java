package dev.orchestra.tck;

import static dev.orchestra.ExitReason.EXITED;
import static dev.orchestra.ExitReason.STOPPED;
import static dev.orchestra.ExitReason.TIMED_OUT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.ContainerLimits;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.Sandbox;
import dev.orchestra.Task;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@link Driver#createSandbox}: one long-lived container, several steps in its task directory.
 * Requires {@link Capability#SANDBOX}.
 *
 * <p>The sandbox's task names {@link KitBase#image()}; its steps name no image (that belongs to the
 * sandbox).
 */
abstract class SandboxesRules extends DriverRules {

  /** How many sandbox steps the test of a trapped SIGTERM with a background child stops. */
  private static final int TRAPPING_STEPS = 12;

  /** How many threads call exec() with one step id at once. */
  private static final int EXEC_THREADS = 16;

  SandboxesRules(DriverTck kit) {
    super(kit);
  }

  @BeforeEach
  void requireSandbox() {
    requireCapability(Capability.SANDBOX);
  }

  @Test
  @DisplayName(
      "steps share the sandbox's task directory and mounts: a file step 1 writes, step 2"
          + " reads; the volume keeps what a step wrote")
  void stepsShareFilesystem() {
    Sandbox box = driver.createSandbox(sandboxTask("box").mount("data", "data").build());

    assertThat(
            runStep(box, step("write", sh("echo shared > file && echo kept > data/file")))
                .exitCode())
        .as("exit code of the writing step")
        .isZero();
    Result read = runStep(box, step("read", "cat", "file"));

    assertThat(assertSucceeded(read)).as("file read by step 2").isEqualTo("shared\n");
    assertThat(readFile(driver, "data", "file")).as("the volume's file").isEqualTo("kept\n");
  }

  @Test
  @DisplayName(
      "the sandbox is its main process: running while steps run, createSandbox of its id"
          + " returns it again")
  void mainProcess() {
    Sandbox box = driver.createSandbox(sandboxTask("box").build());
    assertSucceeded(runStep(box, step("step", "true")));

    assertThat(box.container().status().isDone())
        .as("isDone() of the sandbox's main process after a step")
        .isFalse();
    Sandbox again = driver.createSandbox(sandboxTask("box").build());
    assertThat(again.container().id())
        .as("id of the sandbox created again with the same id")
        .isEqualTo(box.container().id());
  }

  @Test
  @DisplayName(
      "a step sees the sandbox's environment plus its own (its own value wins); the next"
          + " step does not see it")
  void stepEnvironment() {
    Sandbox box =
        driver.createSandbox(
            sandboxTask("box").env("BOX_VAR", "from box").env("SHARED", "box").build());
    String print = "printf '[%s]' \"${BOX_VAR-unset}\" \"${STEP_VAR-unset}\" \"${SHARED-unset}\"";

    Result first =
        runStep(box, step("first", sh(print)).env("STEP_VAR", "from step").env("SHARED", "step"));
    Result second = runStep(box, step("second", sh(print)));

    assertThat(assertSucceeded(first))
        .as("variables of a step with its own")
        .isEqualTo("[from box][from step][step]");
    assertThat(assertSucceeded(second))
        .as("variables of the next step")
        .isEqualTo("[from box][unset][box]");
  }

  @Test
  @DisplayName(
      "a step starts in the sandbox's task directory; its workDir is relative to it and"
          + " created if missing")
  void stepWorkDir() {
    Sandbox box = driver.createSandbox(sandboxTask("box").build());
    assertSucceeded(runStep(box, step("mark", sh("echo top > marker && mkdir made"))));

    Result inMade = runStep(box, step("in-made", sh("cat ../marker && pwd")).workDir("made"));
    Result inNew = runStep(box, step("in-new", sh("cat ../../marker && pwd")).workDir("new/dir"));

    assertThat(assertSucceeded(inMade))
        .as("marker and pwd in workDir 'made'")
        .startsWith("top\n")
        .endsWith("/made\n");
    assertThat(assertSucceeded(inNew))
        .as("marker and pwd in workDir 'new/dir'")
        .startsWith("top\n")
        .endsWith("/new/dir\n");
  }

  @Test
  @DisplayName("a step has its own stdin, separated stdout and stderr, and its exact exit code")
  void stepIoAndExitCode() {
    Sandbox box = driver.createSandbox(sandboxTask("box").build());

    Result r = runStep(box, step("io", sh("cat; echo err >&2; exit 7")).stdin("from stdin\n"));
    Result other = runStep(box, step("other", sh("echo other")));

    assertThat(r.exitCode()).as("exit code of the step").isEqualTo(7);
    assertThat(r.out()).as("stdout of the step").isEqualTo("from stdin\n");
    assertThat(r.err()).as("stderr of the step").isEqualTo("err\n");
    assertThat(assertSucceeded(other)).as("stdout of the next step").isEqualTo("other\n");
    assertThat(logsOf(box.container()).out()).as("stdout of the sandbox's main process").isEmpty();
  }

  @Test
  @DisplayName(
      "a step's timeout applies (with TIMEOUT): a 'sleep 300' step with timeout 2 s ends"
          + " TIMED_OUT (exit 143 or 137), not before 2 s; one too long to count (ChronoUnit.FOREVER)"
          + " runs as without one; the sandbox runs on")
  void stepTimeout() {
    requireCapability(Capability.TIMEOUT);
    Sandbox box = driver.createSandbox(sandboxTask("box").build());
    Duration timeout = Duration.ofSeconds(2);

    long start = System.nanoTime();
    Container slow = box.exec(step("slow", sh("echo started; sleep 300")).timeout(timeout).build());
    ContainerStatus s = awaitDone(slow);
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    Result unlimited =
        runStep(
            box,
            step("unlimited", sh("echo done; exit 3")).timeout(ChronoUnit.FOREVER.getDuration()));

    assertThat(s.reason()).as("reason of a step that ran out of time").isEqualTo(TIMED_OUT);
    assertThat(s.exitCode()).as("exit code of a step that ran out of time").isIn(143, 137);
    assertThat(took).as("time from exec to done").isGreaterThanOrEqualTo(timeout);
    assertThat(unlimited.exitCode()).as("exit code of the step with timeout FOREVER").isEqualTo(3);
    assertThat(unlimited.container().status().reason())
        .as("reason of the step with timeout FOREVER")
        .isEqualTo(EXITED);
    assertThat(unlimited.out()).as("stdout of the step with timeout FOREVER").isEqualTo("done\n");
    assertThat(box.container().status().isDone())
        .as("isDone() of the sandbox after its step timed out")
        .isFalse();
  }

  @Test
  @DisplayName(
      "steps that trap SIGTERM while their work runs in a background child ('sleep 300 &"
          + " wait'), each stopped once ready (with STOP): each runs its own trap (says bye,"
          + " exits 7) and reads STOPPED, rather than ending with its child")
  void trappedTermStepsWithBackgroundChild() {
    requireCapability(Capability.STOP);
    Sandbox box = driver.createSandbox(sandboxTask("box").build());
    List<Container> steps = new ArrayList<>();
    List<ContainerStatus> stopped = new ArrayList<>();

    // One after another: the process ids of the steps differ in value and in length.
    for (int i = 0; i < TRAPPING_STEPS; i++) {
      Container c = box.exec(step("polite-" + i, trappingScript()).build());
      awaitStdout(c, "ready\n");
      steps.add(c);
      stopped.add(stop(c, Duration.ofSeconds(10), "a step that traps SIGTERM"));
    }

    assertRanTheirTrap(steps, stopped, STOPPED);
  }

  @Test
  @DisplayName("exec() of a known step id returns the same step, without a second run")
  void execIdempotent() {
    Sandbox box = driver.createSandbox(sandboxTask("box").build());
    Task count = step("count", sh("echo run >> runs")).build();

    Container first = box.exec(count);
    Container again = box.exec(count);
    awaitDone(first);
    Container afterDone = box.exec(count);

    assertThat(again.id()).as("id of the second exec()").isEqualTo(first.id());
    assertThat(afterDone.id()).as("id of exec() after the step ended").isEqualTo(first.id());
    assertThat(assertSucceeded(runStep(box, step("read", "cat", "runs"))))
        .as("runs recorded")
        .isEqualTo("run\n");
  }

  @Test
  @DisplayName(
      EXEC_THREADS
          + " threads calling exec() with one step id at once get one step, one run: the step"
          + " appends one line to a file of the task directory")
  void execIdempotentUnderConcurrency() throws Exception {
    Sandbox box = driver.createSandbox(sandboxTask("box").build());
    Task count = step("count", sh("echo run >> runs")).build();

    List<Container> steps = concurrently(EXEC_THREADS, i -> box.exec(count));

    assertThat(steps.stream().map(Container::id).distinct())
        .as("ids of the steps exec() returned")
        .hasSize(1);
    for (Container c : steps) {
      assertThat(awaitDone(c).exitCode()).as("exit code of step %s", c.id()).isZero();
    }
    assertThat(assertSucceeded(runStep(box, step("read", "cat", "runs"))))
        .as("runs recorded")
        .isEqualTo("run\n");
  }

  @Test
  @DisplayName(
      "a step setting image, mounts, limits or privileged is refused with"
          + " IllegalArgumentException naming it, and runs nothing")
  void sandboxOptionsOnStepRefused() {
    Sandbox box = driver.createSandbox(sandboxTask("box").build());
    Map<String, Task> refused = new LinkedHashMap<>();
    refused.put("image", step("step", "true").image(image()).build());
    refused.put("mounts", step("step", "true").mount("data", "data").build());
    refused.put("limits", step("step", "true").limits(new ContainerLimits(512, 0)).build());
    refused.put("privileged", step("step", "true").privileged(true).build());

    refused.forEach(
        (option, step) ->
            assertThatThrownBy(() -> box.exec(step))
                .as("exec() of a step setting %s", option)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(option));

    Result fresh = runStep(box, step("step", "echo", "fresh"));
    assertThat(assertSucceeded(fresh))
        .as("stdout of the step id after the refusals")
        .isEqualTo("fresh\n");
  }

  @Test
  @DisplayName(
      "close() removes the sandbox and stops its running steps; exec() then throws"
          + " IllegalStateException; close() again does nothing")
  void closeRemovesSandbox() {
    Sandbox box = driver.createSandbox(sandboxTask("box").build());
    assertSucceeded(runStep(box, step("mark", sh("echo old > marker"))));
    Container running = box.exec(step("sleeper", sh("echo started; sleep 300")).build());
    awaitStdout(running, "started\n");

    box.close();

    assertDoneOrNotFound(box.container(), "of the sandbox after close()");
    assertDoneOrNotFound(running, "of its running step after close()");
    assertThatThrownBy(() -> box.exec(step("late", "true").build()))
        .as("exec() after close()")
        .isInstanceOf(IllegalStateException.class);
    box.close();
    Sandbox again = driver.createSandbox(sandboxTask("box").build());
    assertThat(assertSucceeded(runStep(again, step("look", sh("test ! -e marker && echo fresh")))))
        .as("stdout of a step in a new sandbox of the same id: its task directory is fresh")
        .isEqualTo("fresh\n");
  }

  @Test
  @DisplayName("a sandbox whose main process has ended refuses exec() with IllegalStateException")
  void endedSandboxRefusesExec() {
    Sandbox box = driver.createSandbox(task("short", "true").build());
    awaitDone(box.container());

    assertThatThrownBy(() -> box.exec(step("late", "true").build()))
        .as("exec() in a sandbox whose main process ended")
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  @DisplayName(
      "driver close() removes its sandboxes: exec() then throws IllegalStateException,"
          + " Sandbox.close() does nothing")
  void driverCloseRemovesSandboxes() {
    Sandbox box = driver.createSandbox(sandboxTask("box").build());
    assertSucceeded(runStep(box, step("step", "true")));

    driver.close();

    assertStoppedByClose(box.container());
    assertThatThrownBy(() -> box.exec(step("late", "true").build()))
        .as("exec() after the driver was closed")
        .isInstanceOf(IllegalStateException.class);
    box.close();
    assertThatThrownBy(() -> driver.createSandbox(sandboxTask("late").build()))
        .as("createSandbox() on a closed driver")
        .isInstanceOf(IllegalStateException.class);
  }

  private Task.Builder sandboxTask(String id) {
    return task(id, "sleep", "86400");
  }

  /** A step of a sandbox: no image, which belongs to the sandbox. */
  private static Task.Builder step(String id, String... command) {
    return Task.builder().id(id).command(command);
  }

  private Result runStep(Sandbox box, Task.Builder step) {
    Container c = box.exec(step.build());
    ContainerStatus s = awaitDone(c);
    Output o = logsOf(c);
    return new Result(c, s.exitCode(), o.stdout(), o.stderr());
  }
}
