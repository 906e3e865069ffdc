package dev.orchestra.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.github.dockerjava.api.command.InspectContainerResponse;
import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.ExitReason;
import dev.orchestra.Orchestra;
import dev.orchestra.OrchestraException;
import dev.orchestra.Task;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * The Docker driver across a restart of its engine. The tests restart an engine of their own
 * ({@link PrivateEngine}), never the shared one, so they run beside the other tests; one at a time
 * among themselves, as they share that engine.
 */
@RequiresDocker
@ExtendWith(DockerEngineRestartTest.PrivateEngineCondition.class)
@Execution(ExecutionMode.SAME_THREAD)
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class DockerEngineRestartTest {

  private static final Duration PATIENCE = Duration.ofMinutes(2);

  private static PrivateEngine engine;
  private static String hostBridge;

  /** Skips the class, with the reason, where no private engine can start (or fails in CI). */
  static final class PrivateEngineCondition implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
      return DockerEngineCondition.judge(
          "Docker engine restart tests", PrivateEngine.unavailableReason());
    }
  }

  @BeforeAll
  static void startPrivateEngine() throws Exception {
    hostBridge = PrivateEngine.hostBridgeIndex();
    engine = PrivateEngine.start(DockerTesting.IMAGE);
  }

  @AfterAll
  static void removePrivateEngine() throws Exception {
    if (engine != null) {
      engine.close();
      assertThat(engine.directory()).as("the private engine's directory").doesNotExist();
      assertThat(PrivateEngine.hostBridgeIndex())
          .as("the shared engine's docker0, untouched by the private engine")
          .isEqualTo(hostBridge);
    }
  }

  @Test
  @DisplayName(
      "across an engine restart: finished tasks stay readable, a running task reports what the"
          + " engine did to it, volumes keep their data, and the same driver runs new tasks")
  void survivesARestart() throws Exception {
    String namespace = DockerTesting.namespace("restart");
    try (Driver driver = open(namespace)) {
      driver.createVolume("kept", 0);
      Container finished =
          driver.runContainer(
              task("finished", "echo before; echo on-stderr >&2; echo kept > v/file; exit 3")
                  .mount("kept", "v")
                  .build());
      assertThat(finished.await(PATIENCE)).isEqualTo(ContainerStatus.exited(3));
      Container running =
          driver.runContainer(task("running", "echo started; exec sleep 600").build());
      CompletableFuture<ContainerStatus> exit = running.onExit();
      await().atMost(PATIENCE).until(() -> stdout(running).equals("started\n"));

      engine.restart();

      // What finished before is read again from the restarted engine, not from a cache.
      Container again = driver.find("finished").orElseThrow();
      assertThat(again.status()).isEqualTo(ContainerStatus.exited(3));
      assertThat(stdout(again)).isEqualTo("before\n");
      assertThat(stderr(again)).isEqualTo("on-stderr\n");

      // The running task died with the engine: its waiter learns it, with the engine's own code.
      ContainerStatus ended = exit.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
      InspectContainerResponse.ContainerState truth = state(namespace, "running");
      assertThat(truth.getRunning()).isFalse();
      assertThat(ended.isDone()).isTrue();
      assertThat(ended.exitCode()).isEqualTo(truth.getExitCodeLong().intValue());
      assertThat(ended.exitCode()).isNotZero();
      assertThat(ended.reason()).isIn(ExitReason.SIGNALED, ExitReason.EXITED);
      assertThat(running.status()).isEqualTo(ended);
      assertThat(driver.find("running").orElseThrow().status()).isEqualTo(ended);
      assertThat(stdout(running)).isEqualTo("started\n");

      // The same driver instance reconnects: a new task runs, and sees the volume's data.
      Container after =
          driver.runContainer(task("after", "cat v/file; echo after").mount("kept", "v").build());
      assertThat(after.await(PATIENCE)).isEqualTo(ContainerStatus.exited(0));
      assertThat(stdout(after)).isEqualTo("kept\nafter\n");
    }
    assertNothingLeft(namespace);
  }

  @Test
  @DisplayName(
      "while the engine is down: calls fail at once with the engine's address, finished statuses"
          + " still read, and everything works again once it is back")
  void failsClearlyWhileTheEngineIsDown() throws Exception {
    String namespace = DockerTesting.namespace("down");
    try (Driver driver = open(namespace)) {
      Container finished = driver.runContainer(task("finished", "echo done").build());
      assertThat(finished.await(PATIENCE)).isEqualTo(ContainerStatus.exited(0));
      Container running = driver.runContainer(task("running", "exec sleep 600").build());
      CompletableFuture<ContainerStatus> exit = running.onExit();

      engine.stop();
      try {
        assertThatThrownBy(() -> driver.runContainer(task("refused", "true").build()))
            .isInstanceOf(OrchestraException.class)
            .hasMessageContaining(engine.host());
        assertThatThrownBy(() -> driver.createVolume("refused", 0))
            .isInstanceOf(OrchestraException.class)
            .hasMessageContaining(engine.host());
        assertThatThrownBy(() -> stdout(finished))
            .isInstanceOf(OrchestraException.class)
            .hasMessageContaining(engine.host());
        // A finished task's status was read once and for all: no engine needed.
        assertThat(finished.status()).isEqualTo(ContainerStatus.exited(0));
        assertThat(finished.await(Duration.ofMillis(200))).isEqualTo(ContainerStatus.exited(0));
      } finally {
        engine.startAgain();
      }

      ContainerStatus ended = exit.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
      assertThat(ended.isDone()).isTrue();
      assertThat(ended.exitCode())
          .isEqualTo(state(namespace, "running").getExitCodeLong().intValue());
      Container after = driver.runContainer(task("after", "echo back").build());
      assertThat(after.await(PATIENCE)).isEqualTo(ContainerStatus.exited(0));
      assertThat(stdout(after)).isEqualTo("back\n");
    }
    assertNothingLeft(namespace);
  }

  @Test
  @DisplayName(
      "with live restore, a task keeps running across the restart, and its waiter, follower and"
          + " logs see its real end")
  void aTaskKeepsRunningAcrossALiveRestore() throws Exception {
    String namespace = DockerTesting.namespace("live");
    engine.restart(true);
    try (Driver driver = open(namespace)) {
      driver.createVolume("signal", 0);
      Container waiting =
          driver.runContainer(
              task(
                      "waiting",
                      "echo before; while [ ! -e s/go ]; do sleep 0.1; done; echo after; exit 7")
                  .mount("signal", "s")
                  .build());
      CompletableFuture<ContainerStatus> exit = waiting.onExit();
      ByteArrayOutputStream followed = new ByteArrayOutputStream();
      CompletableFuture<Void> follow =
          CompletableFuture.runAsync(() -> waiting.follow(followed, new ByteArrayOutputStream()));
      await().atMost(PATIENCE).until(() -> stdout(waiting).equals("before\n"));

      engine.restart();

      assertThat(waiting.status().isDone()).isFalse();
      assertThat(state(namespace, "waiting").getRunning()).isTrue();
      Container go = driver.runContainer(task("go", "touch s/go").mount("signal", "s").build());
      assertThat(go.await(PATIENCE)).isEqualTo(ContainerStatus.exited(0));
      assertThat(exit.get(PATIENCE.toSeconds(), TimeUnit.SECONDS))
          .isEqualTo(ContainerStatus.exited(7));
      assertThat(stdout(waiting)).isEqualTo("before\nafter\n");
      // The follow outlives the restart: it picks up where the engine's stream stopped.
      follow.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
      assertThat(followed.toString(StandardCharsets.UTF_8)).isEqualTo("before\nafter\n");
    } finally {
      engine.restart(false);
    }
    assertNothingLeft(namespace);
  }

  @Test
  @DisplayName("close() completes while the engine is down, and says what it could not remove")
  void closeCompletesWhileTheEngineIsDown() throws Exception {
    String namespace = DockerTesting.namespace("closedown");
    Driver driver = open(namespace);
    try {
      driver.runContainer(task("left", "exec sleep 600").build());
      engine.stop();
      try {
        assertThatThrownBy(driver::close)
            .isInstanceOf(OrchestraException.class)
            .hasMessageContaining(namespace);
      } finally {
        engine.startAgain();
      }
    } finally {
      // The removal close() could not do: a driver of the same namespace does it now.
      open(namespace).close();
    }
    assertNothingLeft(namespace);
  }

  private static Driver open(String namespace) {
    return Orchestra.open("docker", namespace, Map.of("host", engine.host()));
  }

  private static Task.Builder task(String id, String script) {
    return Task.builder().id(id).image(DockerTesting.IMAGE).command("sh", "-c", script);
  }

  private static String stdout(Container c) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    c.logs(out, new ByteArrayOutputStream());
    return out.toString(StandardCharsets.UTF_8);
  }

  private static String stderr(Container c) {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    c.logs(new ByteArrayOutputStream(), err);
    return err.toString(StandardCharsets.UTF_8);
  }

  /** The engine's own record of a task's container, read behind the driver's back. */
  private static InspectContainerResponse.ContainerState state(String namespace, String taskId) {
    var containers =
        engine
            .client()
            .listContainersCmd()
            .withShowAll(true)
            .withLabelFilter(Map.of(Labels.NAMESPACE, namespace, Labels.TASK_ID, taskId))
            .exec();
    assertThat(containers).as("containers of task %s", taskId).hasSize(1);
    return engine.client().inspectContainerCmd(containers.get(0).getId()).exec().getState();
  }

  private static void assertNothingLeft(String namespace) {
    assertThat(
            engine
                .client()
                .listContainersCmd()
                .withShowAll(true)
                .withLabelFilter(Map.of(Labels.NAMESPACE, namespace))
                .exec())
        .as("containers of namespace %s", namespace)
        .isEmpty();
    assertThat(
            engine
                .client()
                .listVolumesCmd()
                .withFilter("label", java.util.List.of(Labels.namespaceFilter(namespace)))
                .exec()
                .getVolumes())
        .as("volumes of namespace %s", namespace)
        .isNullOrEmpty();
  }
}
