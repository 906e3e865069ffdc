package dev.orchestra.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.orchestra.Container;
import dev.orchestra.ContainerLimits;
import dev.orchestra.Driver;
import dev.orchestra.ImageNotFoundException;
import dev.orchestra.OrchestraException;
import dev.orchestra.Task;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * What the driver sends to the API server: starting a task: the pod it becomes, bad input, a failed
 * pull, idempotency (see {@link KubernetesMockTesting}).
 */
@Execution(ExecutionMode.SAME_THREAD)
@EnableKubernetesMockClient(crud = true, https = false)
class KubernetesTaskStartMockTest extends KubernetesMockTesting {

  @Test
  void podSpecCarriesTheTask() {
    Driver d = open("spec");
    Task t =
        task("build #1: Ünïcode")
            .command("sh", "-c", "echo $HOME $(id)")
            .env("A", "x $(B) $$ = ")
            .env("EMPTY", "")
            .user("1000:2000")
            .limits(new ContainerLimits(512, 64L * 1024 * 1024))
            .timeout(Duration.ofMillis(1500))
            .workDir("sub/dir")
            .mount("cache", "/cache/m2")
            .stdin("input")
            .build();
    Container c = d.runContainer(t);
    Pod p = pod(c);

    assertThat(c.id()).matches("o-[a-z2-7]{40}");
    assertThat(p.getMetadata().getAnnotations())
        .containsEntry("orchestra.dev/task-id", "build #1: Ünïcode")
        .containsEntry("orchestra.dev/namespace", "spec");
    assertThat(p.getMetadata().getLabels())
        .containsEntry("orchestra.dev/namespace", KubeNames.labelValue("spec"))
        .containsEntry("orchestra.dev/task", KubeNames.labelValue("build #1: Ünïcode"));
    assertThat(p.getMetadata().getLabels().values()).allMatch(v -> v.matches("[a-z0-9]{1,63}"));
    var spec = p.getSpec();
    assertThat(spec.getRestartPolicy()).isEqualTo("Never");
    assertThat(spec.getShareProcessNamespace()).as("pause, not the task, is PID 1").isTrue();
    assertThat(spec.getActiveDeadlineSeconds())
        .as("timeout 1.5 s plus startTimeout 5 min: the pod shows no start to shorten it by")
        .isEqualTo(302L);
    assertThat(spec.getTerminationGracePeriodSeconds()).isEqualTo(10L);
    assertThat(spec.getEnableServiceLinks()).isFalse();
    assertThat(spec.getAutomountServiceAccountToken()).isFalse();
    assertThat(spec.getContainers()).hasSize(1);
    var k = spec.getContainers().get(0);
    assertThat(k.getName()).isEqualTo("task");
    assertThat(k.getImage()).isEqualTo("busybox");
    assertThat(k.getCommand()).containsExactly("sh", "-c", "echo $$HOME $$(id)");
    assertThat(k.getArgs()).isNullOrEmpty();
    assertThat(k.getEnv())
        .extracting(e -> e.getName() + "=" + e.getValue())
        .containsExactlyInAnyOrder("A=x $$(B) $$$$ = ", "EMPTY=");
    assertThat(k.getWorkingDir()).isEqualTo("/orchestra/task/sub/dir");
    assertThat(k.getSecurityContext().getRunAsUser()).isEqualTo(1000L);
    assertThat(k.getSecurityContext().getRunAsGroup()).isEqualTo(2000L);
    assertThat(k.getSecurityContext().getPrivileged()).isNull();
    assertThat(k.getResources().getLimits())
        .containsOnlyKeys("memory")
        .containsEntry("memory", new Quantity(Long.toString(64L * 1024 * 1024)));
    assertThat(k.getResources().getRequests())
        .containsEntry("memory", new Quantity(Long.toString(64L * 1024 * 1024)))
        .containsEntry("cpu", new Quantity("500m"));
    assertThat(k.getStdin()).isTrue();
    assertThat(k.getStdinOnce()).isTrue();
    assertThat(k.getVolumeMounts())
        .extracting(m -> m.getName() + "@" + m.getMountPath())
        .containsExactly("task-dir@/orchestra/task", "vol-0@/orchestra/task/cache/m2");
    assertThat(spec.getVolumes().get(0).getEmptyDir()).isNotNull();
    String claim = spec.getVolumes().get(1).getPersistentVolumeClaim().getClaimName();
    assertThat(claim).isEqualTo(KubeNames.claim("spec", "cache"));

    PersistentVolumeClaim pvc =
        client.persistentVolumeClaims().inNamespace(KUBE_NS).withName(claim).get();
    assertThat(pvc.getSpec().getAccessModes()).containsExactly("ReadWriteOnce");
    assertThat(pvc.getMetadata().getLabels())
        .containsEntry("orchestra.dev/namespace", KubeNames.labelValue("spec"));
    assertThat(pvc.getMetadata().getAnnotations())
        .containsEntry("orchestra.dev/volume-name", "cache");
  }

  @Test
  void privilegedAndClaimParameters() {
    Driver d = open("priv", Map.of("storageClass", "fast", "accessMode", "ReadWriteMany"));
    Container c = d.runContainer(task("p").privileged(true).mount("data", "data").build());
    assertThat(pod(c).getSpec().getContainers().get(0).getSecurityContext().getPrivileged())
        .isTrue();
    PersistentVolumeClaim pvc = claims().get(0);
    assertThat(pvc.getSpec().getStorageClassName()).isEqualTo("fast");
    assertThat(pvc.getSpec().getAccessModes()).containsExactly("ReadWriteMany");
    assertThat(pvc.getSpec().getResources().getRequests().get("storage"))
        .isEqualTo(new Quantity("1Gi"));
  }

  @Test
  void badInputLeavesNothing() {
    Driver d = open("bad");
    assertThatThrownBy(() -> d.runContainer(task("u").user("nobody").mount("v", "v").build()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("nobody")
        .hasMessageContaining("numeric");
    assertThatThrownBy(() -> d.runContainer(task("m").mount("v", "../../etc").build()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("..");
    assertThatThrownBy(
            () ->
                d.runContainer(
                    Task.builder().id("noimage").command("true").mount("v", "v").build()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("image");
    assertThatThrownBy(() -> d.createVolume("../etc", 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(pods()).isEmpty();
    assertThat(claims()).isEmpty();
  }

  @Test
  void imageThatCannotBePulledFailsTheStartAndLeavesNothing() {
    Driver d = open("pull");
    assertThatThrownBy(
            () ->
                d.runContainer(
                    Task.builder()
                        .id("m")
                        .image("missing-image:0")
                        .command("true")
                        .mount("v", "v")
                        .build()))
        .isInstanceOf(ImageNotFoundException.class)
        .hasMessageContaining("missing-image:0")
        .hasMessageContaining("ErrImagePull");
    assertThat(pods()).isEmpty();
    assertThat(claims()).isEmpty();
    Container fresh = d.runContainer(task("m").build());
    assertThat(fresh.status().isDone()).isFalse();
  }

  @Test
  void aPodThatNeverStartsIsRemovedAfterStartTimeout() {
    Driver d = open("slow", Map.of("startTimeout", "1"));
    assertThatThrownBy(
            () -> d.runContainer(Task.builder().id("s").image("pending:0").command("true").build()))
        .isInstanceOf(OrchestraException.class)
        .hasMessageContaining("startTimeout");
    assertThat(pods()).isEmpty();
  }

  @Test
  void namesAreCollisionFree() {
    Driver d = open("names");
    Container upper = d.runContainer(task("Build-1").build());
    Container lower = d.runContainer(task("build-1").build());
    assertThat(upper.id()).isNotEqualTo(lower.id());
    Driver other = open("names2");
    assertThat(other.runContainer(task("build-1").build()).id()).isNotEqualTo(lower.id());
  }

  @Test
  void idempotentAcrossThreadsAndInstances() throws Exception {
    Driver d = open("idem");
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Container>> all = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        all.add(pool.submit(() -> d.runContainer(task("same").build())));
      }
      Set<String> ids = new java.util.HashSet<>();
      for (Future<Container> f : all) {
        ids.add(f.get(75, TimeUnit.SECONDS).id());
      }
      assertThat(ids).hasSize(1);
    } finally {
      pool.shutdownNow();
    }
    Driver second = open("idem");
    Container again = second.runContainer(task("same").build());
    assertThat(pods()).hasSize(1);
    assertThat(again.id()).isEqualTo(pods().get(0).getMetadata().getName());
  }

  @Test
  void aPodMadeEarlierIsReturnedOnlyOnceItRuns() throws Exception {
    // an earlier runContainer whose create reached the server but whose start it never saw (it
    // was interrupted, or its process went): a second call, of another instance, gets that pod,
    // and returns once its container runs, as a call that made it does
    Driver first = open("early");
    Driver second = open("early");
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Task pending = Task.builder().id("e").image("pending:0").command("true").build();
      Future<Container> made = pool.submit(() -> first.runContainer(pending));
      await().atMost(Duration.ofSeconds(30)).until(() -> pods().size() == 1);
      Future<Container> found = pool.submit(() -> second.runContainer(pending));
      await()
          .during(Duration.ofSeconds(1))
          .atMost(Duration.ofSeconds(5))
          .until(() -> !found.isDone() && !made.isDone());
      String name = pods().get(0).getMetadata().getName();
      client.pods().inNamespace(KUBE_NS).withName(name).edit(KubernetesMockTesting::running);
      assertThat(found.get(30, TimeUnit.SECONDS).id()).isEqualTo(name);
      assertThat(made.get(30, TimeUnit.SECONDS).id()).isEqualTo(name);
      assertThat(pods()).hasSize(1);
    } finally {
      pool.shutdownNow();
    }
  }
}
