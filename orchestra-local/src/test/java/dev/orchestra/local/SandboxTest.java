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
import dev.orchestra.ContainerLimits;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.ExitReason;
import dev.orchestra.Sandbox;
import dev.orchestra.Task;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sandboxes: steps as processes of their own in one task directory. */
class SandboxTest {

  @TempDir Path root;
  private Driver driver;

  @BeforeEach
  void openDriver() {
    driver = open(root, "sandboxes");
  }

  @AfterEach
  void closeDriver() {
    driver.close();
  }

  private Sandbox sandbox(String id) {
    return driver.createSandbox(
        Task.builder()
            .id(id)
            .command("sleep", "86400")
            .env("JOB", "job-1")
            .env("SHARED", "from the sandbox")
            .mount("cache", "cache")
            .build());
  }

  @Test
  void stepsShareTheTaskDirectoryAndMountsEachWithItsOwnEnvStdinOutputAndExitCode()
      throws Exception {
    try (Sandbox sandbox = sandbox("job")) {
      Container write =
          sandbox.exec(
              sh("write", "echo \"$JOB $STEP\" > built; echo cached > cache/f; echo done")
                  .env("STEP", "one")
                  .build());
      assertThat(awaitDone(write).exitCode()).isZero();

      Container read =
          sandbox.exec(
              sh(
                      "read",
                      "cat ../../built ../../cache/f; echo \"$SHARED\"; pwd; cat; echo oops >&2; exit 3")
                  .env("SHARED", "from the step")
                  .workDir("sub/dir")
                  .stdin("typed\n")
                  .build());
      ContainerStatus status = awaitDone(read);

      assertThat(status.exitCode()).isEqualTo(3);
      assertThat(status.reason()).isEqualTo(ExitReason.EXITED);
      Path taskDir = LocalTesting.taskDir(root, "sandboxes", "job");
      assertThat(logs(read).out())
          .isEqualTo(
              "job-1 one\ncached\nfrom the step\n" + taskDir.resolve("sub/dir") + "\ntyped\n");
      assertThat(logs(read).err()).isEqualTo("oops\n");
      assertThat(logs(write).out()).isEqualTo("done\n");
      assertThat(sandbox.container().status().isDone()).isFalse();
    }
  }

  @Test
  void aStepSeesTheSandboxEnvironmentPathAndNothingElse() {
    try (Sandbox sandbox = sandbox("env")) {
      Container env = sandbox.exec(Task.builder().id("env").command("env").build());
      assertThat(awaitDone(env).exitCode()).isZero();
      assertThat(logs(env).outLines())
          .containsExactlyInAnyOrder(
              "PATH=" + System.getenv("PATH"), "JOB=job-1", "SHARED=from the sandbox");
    }
  }

  @Test
  void aStepIdRunsOnceUntilItIsCleanedUp() {
    try (Sandbox sandbox = sandbox("idempotent")) {
      Container first = sandbox.exec(sh("step", "echo run >> ../runs").build());
      assertThat(sandbox.exec(sh("step", "echo other >> ../runs").build())).isSameAs(first);
      awaitDone(first);

      first.cleanup();
      Container second = sandbox.exec(sh("step", "cat ../runs").build());

      assertThat(second).isNotSameAs(first);
      assertThat(LocalTesting.stdoutWhenDone(second)).isEqualTo("run\n");
      assertThat(driver.createSandbox(Task.builder().id("idempotent").command("true").build()))
          .isSameAs(sandbox);
    }
  }

  @Test
  void aStepCanBeFollowedStoppedAndTimedOut() {
    try (Sandbox sandbox = sandbox("lifecycle")) {
      Container followed = sandbox.exec(sh("followed", "echo a; echo b >&2").build());
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      followed.follow(out, err);
      assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("a\n");
      assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("b\n");

      Container stopped = sandbox.exec(sh("stopped", "exec sleep 300").build());
      assertThat(stopped.stop(Duration.ofSeconds(30)).reason()).isEqualTo(ExitReason.STOPPED);

      Container timedOut =
          sandbox.exec(
              Task.builder()
                  .id("timed-out")
                  .command("sleep", "300")
                  .timeout(Duration.ofMillis(300))
                  .build());
      assertThat(timedOut.await(TIMEOUT).reason()).isEqualTo(ExitReason.TIMED_OUT);
      assertThat(sandbox.container().status().isDone()).isFalse();
    }
  }

  @Test
  void refusesStepOptionsThatBelongToTheSandbox() {
    try (Sandbox sandbox = sandbox("options")) {
      assertThatThrownBy(() -> sandbox.exec(sh("imaged", "true").image("busybox").build()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("image");
      assertThatThrownBy(() -> sandbox.exec(sh("mounted", "true").mount("v", "v").build()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("mounts");
      assertThatThrownBy(
              () -> sandbox.exec(sh("limited", "true").limits(new ContainerLimits(2, 0)).build()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("limits");
    }
  }

  @Test
  void closeEndsStepsAndTheMainProcessRemovesTheDirectoryAndRefusesNewSteps() throws Exception {
    Sandbox sandbox = sandbox("closing");
    Container step = sandbox.exec(sh("long", "echo $$; exec sleep 300").build());
    await().atMost(TIMEOUT).until(() -> !logs(step).out().isEmpty());
    ProcessHandle stepPid = LocalTesting.process(Long.parseLong(logs(step).out().trim()));
    Path taskRoot = LocalTesting.taskDir(root, "sandboxes", "closing").getParent();

    sandbox.close();
    sandbox.close();

    assertThat(alive(stepPid)).isFalse();
    assertThat(step.status().reason()).isEqualTo(ExitReason.STOPPED);
    assertThat(sandbox.container().status().reason()).isEqualTo(ExitReason.STOPPED);
    assertThat(taskRoot).doesNotExist();
    assertThatThrownBy(() -> sandbox.exec(sh("late", "true").build()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closing");
    assertThat(driver.find("closing")).isEmpty();
  }

  @Test
  void aSandboxWhoseMainProcessEndedRefusesNewSteps() {
    Sandbox sandbox = driver.createSandbox(sh("short", "exit 0").build());
    awaitDone(sandbox.container());
    assertThatThrownBy(() -> sandbox.exec(sh("late", "true").build()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("ended");
  }

  @Test
  void closingTheDriverRemovesSandboxesWithTheirSteps() throws Exception {
    Driver other = open(root, "sandboxes-closed");
    Sandbox sandbox =
        other.createSandbox(Task.builder().id("box").command("sleep", "86400").build());
    Container step = sandbox.exec(sh("long", "echo $$; exec sleep 300").build());
    await().atMost(TIMEOUT).until(() -> !logs(step).out().isEmpty());
    ProcessHandle stepPid = LocalTesting.process(Long.parseLong(logs(step).out().trim()));

    other.close();

    assertThat(alive(stepPid)).isFalse();
    assertThat(sandbox.container().status().isDone()).isTrue();
    assertThat(root.toRealPath().resolve("sandboxes-closed")).doesNotExist();
    assertThatThrownBy(() -> sandbox.exec(sh("late", "true").build()))
        .isInstanceOf(IllegalStateException.class);
  }
}
