package dev.orchestra.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.orchestra.Container;
import dev.orchestra.ContainerNotFoundException;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.ExitReason;
import dev.orchestra.OrchestraException;
import dev.orchestra.Task;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * What the driver sends to the API server: a running task: timeout, exit status, stop, removal
 * behind the driver, cleanup, find, logs (see {@link KubernetesMockTesting}).
 */
@Execution(ExecutionMode.SAME_THREAD)
@EnableKubernetesMockClient(crud = true, https = false)
class KubernetesLifecycleMockTest extends KubernetesMockTesting {

  @Test
  void theTimeoutCountsFromTheContainersStart() {
    // the kubelet counts activeDeadlineSeconds from the pod's start: created with the timeout
    // plus startTimeout, the deadline is shortened once the container runs, to the seconds the
    // start took (+1, both starts being shown truncated) plus the timeout
    Driver d = open("deadline", Map.of("startTimeout", "60"));
    Container c =
        d.runContainer(
            Task.builder()
                .id("late-start")
                .image("slowstart:1")
                .command("sleep", "300")
                .timeout(Duration.ofMillis(2500))
                .build());
    assertThat(pod(c).getSpec().getActiveDeadlineSeconds()).isEqualTo(7L + 1 + 3);
    Container none = d.runContainer(task("no-timeout").build());
    assertThat(pod(none).getSpec().getActiveDeadlineSeconds()).isNull();
  }

  @Test
  void exitCodeAndReasonFromThePodStatus() throws Exception {
    Driver d = open("exits");
    Container plain = d.runContainer(task("plain").build());
    Container oom = d.runContainer(task("oom").build());
    Container late = d.runContainer(task("late").timeout(Duration.ofSeconds(1)).build());
    assertThat(plain.status().isDone()).isFalse();

    terminate(plain, 3, "Error", null);
    terminate(oom, 137, "OOMKilled", null);
    terminate(late, 143, "Error", "DeadlineExceeded");

    ContainerStatus s = plain.onExit().get(75, TimeUnit.SECONDS);
    assertThat(s.exitCode()).isEqualTo(3);
    assertThat(s.reason()).isEqualTo(ExitReason.EXITED);
    assertThat(oom.await(Duration.ofSeconds(75)).reason()).isEqualTo(ExitReason.OOM_KILLED);
    ContainerStatus t = late.await(Duration.ofSeconds(75));
    assertThat(t.reason()).isEqualTo(ExitReason.TIMED_OUT);
    assertThat(t.exitCode()).isEqualTo(143);
    assertThat(plain.status()).isSameAs(s);
  }

  @Test
  void stopShortensTheDeadlineAndMarksThePod() {
    Driver d = open("stop");
    KubernetesContainer c = (KubernetesContainer) d.runContainer(task("s").build());
    c.requestStop();
    Pod p = pod(c);
    assertThat(p.getSpec().getActiveDeadlineSeconds()).isEqualTo(1L);
    assertThat(p.getMetadata().getAnnotations()).containsEntry("orchestra.dev/stopped", "true");
    terminate(c, 143, "Error", "DeadlineExceeded");
    ContainerStatus s = c.awaitEnd(Duration.ofSeconds(75));
    assertThat(s.reason()).isEqualTo(ExitReason.STOPPED);
    assertThat(c.stop(Duration.ofSeconds(1))).isSameAs(s);
    assertThatThrownBy(() -> c.stop(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void podDeletedBehindTheDriversBackIsNotFound() {
    Driver d = open("gone");
    Container c = d.runContainer(task("g").build());
    deleteBehindTheDriversBack(c);
    awaitGoneForTheDriver(c);
  }

  @Test
  void podRecreatedUnderTheSameNameIsNotTheOldOne() {
    Driver d = open("uid");
    Container c = d.runContainer(task("r").build());
    Pod old = pod(c);
    deleteBehindTheDriversBack(c);
    Pod twin =
        new PodBuilder(old)
            .editMetadata()
            .withUid(null)
            .withResourceVersion(null)
            .endMetadata()
            .build();
    client.pods().inNamespace(KUBE_NS).resource(twin).create();
    assertThat(pod(c).getMetadata().getUid()).isNotEqualTo(old.getMetadata().getUid());
    terminate(c, 0, "Completed", null);
    awaitGoneForTheDriver(c);
  }

  @Test
  void cleanupDeletesAndForgets() {
    Driver d = open("clean");
    Container c = d.runContainer(task("c").build());
    c.cleanup();
    c.cleanup();
    assertThat(pods()).isEmpty();
    assertThatThrownBy(c::status).isInstanceOf(ContainerNotFoundException.class);
    Container fresh = d.runContainer(task("c").build());
    assertThat(fresh).isNotSameAs(c);
    assertThat(fresh.status().isDone()).isFalse();
  }

  @Test
  void findReattachesByLabels() {
    Driver d = open("find");
    Container c = d.runContainer(task("f").build());
    terminate(c, 4, "Error", null);
    Driver later = open("find");
    Container found = later.find("f").orElseThrow();
    assertThat(found.id()).isEqualTo(c.id());
    assertThat(found.await(Duration.ofSeconds(75)).exitCode()).isEqualTo(4);
    assertThat(later.find("never-ran")).isEmpty();
  }

  @Test
  void mergedLogStreamsFailLoudly() throws InterruptedException {
    // the mock answers any /log request with 200 (and the pod list): a server that ignores the
    // 'stream' parameter, as one without PodLogsQuerySplitStreams does
    Driver d = open("logs");
    Container c = d.runContainer(task("l").build());
    terminate(c, 0, "Completed", null);
    assertThatThrownBy(() -> c.logs(new ByteArrayOutputStream(), new ByteArrayOutputStream()))
        .isInstanceOf(OrchestraException.class)
        .hasMessageContaining("PodLogsQuerySplitStreams");
    // the raw log request goes through the client's own HTTP client, with its credentials
    boolean sawLogRequest = false;
    for (int i = server.getRequestCount(); i > 0; i--) {
      var r = server.takeRequest(1, TimeUnit.SECONDS);
      if (r != null && r.getPath().contains("/log?")) {
        assertThat(r.getPath()).contains("container=task").contains("stream=");
        assertThat(r.getHeader("Authorization")).isEqualTo("Bearer " + SECRET);
        sawLogRequest = true;
      }
    }
    assertThat(sawLogRequest).as("a log request reached the server").isTrue();
  }

  /** Deletes the task's pod as another client would, and waits until the API server has no pod. */
  private void deleteBehindTheDriversBack(Container c) {
    client.pods().inNamespace(KUBE_NS).withName(c.id()).delete();
    await()
        .atMost(Duration.ofSeconds(75))
        .until(() -> client.pods().inNamespace(KUBE_NS).withName(c.id()).get() == null);
  }

  /** Waits until the driver reports the task not found and fails its waiters. */
  private static void awaitGoneForTheDriver(Container c) {
    await()
        .atMost(Duration.ofSeconds(75))
        .untilAsserted(
            () -> assertThatThrownBy(c::status).isInstanceOf(ContainerNotFoundException.class));
    await().atMost(Duration.ofSeconds(75)).until(() -> c.onExit().isCompletedExceptionally());
  }
}
