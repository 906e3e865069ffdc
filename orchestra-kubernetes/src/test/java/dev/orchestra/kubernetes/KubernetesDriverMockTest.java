package dev.orchestra.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.ContainerLimits;
import dev.orchestra.ContainerNotFoundException;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.ExitReason;
import dev.orchestra.ImageNotFoundException;
import dev.orchestra.Orchestra;
import dev.orchestra.OrchestraException;
import dev.orchestra.Task;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * What the driver sends to the API server, against fabric8's mock server in CRUD mode. The mock
 * runs nothing: tests write a pod's status themselves, as the kubelet would.
 */
// One mock server for the class, whose single event loop stalls when watches of tests side by
// side close: its tests run one after the other.
@Execution(ExecutionMode.SAME_THREAD)
@EnableKubernetesMockClient(crud = true, https = false)
class KubernetesDriverMockTest {

  static KubernetesMockServer server;
  static KubernetesClient client;

  static final String KUBE_NS = "ci";
  static final String SECRET = "s3cr3t-t0ken-do-not-show";

  @TempDir Path dir;
  Path kubeconfig;
  final List<Driver> drivers = new ArrayList<>();

  @BeforeEach
  void writeKubeconfig() throws IOException {
    kubeconfig = dir.resolve("config");
    Files.writeString(
        kubeconfig,
        String.join(
            "\n",
            "apiVersion: v1",
            "kind: Config",
            "clusters:",
            "- name: mock",
            "  cluster:",
            "    server: " + client.getMasterUrl(),
            "users:",
            "- name: robot",
            "  user:",
            "    token: " + SECRET,
            "contexts:",
            "- name: mock",
            "  context:",
            "    cluster: mock",
            "    user: robot",
            "    namespace: " + KUBE_NS,
            "current-context: mock",
            ""));
  }

  /**
   * Stands in for the kubelet's first status report: every new pod's container runs, unless its
   * image starts with {@code missing}, which the kubelet cannot pull.
   */
  SharedIndexInformer<Pod> kubelet;

  @BeforeEach
  void startKubeletStandIn() {
    kubelet =
        client
            .pods()
            .inAnyNamespace()
            .inform(
                new ResourceEventHandler<Pod>() {
                  @Override
                  public void onAdd(Pod pod) {
                    if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
                      String image = pod.getSpec().getContainers().get(0).getImage();
                      if (image.startsWith("pending")) {
                        return;
                      }
                      boolean missing = image.startsWith("missing");
                      boolean slow = image.startsWith("slowstart");
                      client
                          .pods()
                          .inNamespace(pod.getMetadata().getNamespace())
                          .withName(pod.getMetadata().getName())
                          .edit(p -> missing ? pullFailed(p) : slow ? startedLate(p) : running(p));
                    }
                  }

                  @Override
                  public void onUpdate(Pod oldPod, Pod newPod) {}

                  @Override
                  public void onDelete(Pod pod, boolean deletedFinalStateUnknown) {}
                });
  }

  static Pod running(Pod p) {
    return new PodBuilder(p)
        .editOrNewStatus()
        .withPhase("Running")
        .withContainerStatuses(
            new ContainerStatusBuilder()
                .withName("task")
                .withState(new ContainerStateBuilder().withNewRunning().endRunning().build())
                .build())
        .endStatus()
        .build();
  }

  /** Running, its container started 7 s after the pod (a slow pull, a busy node). */
  static Pod startedLate(Pod p) {
    return new PodBuilder(p)
        .editOrNewStatus()
        .withPhase("Running")
        .withStartTime("2026-01-01T10:00:00Z")
        .withContainerStatuses(
            new ContainerStatusBuilder()
                .withName("task")
                .withState(
                    new ContainerStateBuilder()
                        .withNewRunning()
                        .withStartedAt("2026-01-01T10:00:07Z")
                        .endRunning()
                        .build())
                .build())
        .endStatus()
        .build();
  }

  static Pod pullFailed(Pod p) {
    return new PodBuilder(p)
        .editOrNewStatus()
        .withPhase("Pending")
        .withContainerStatuses(
            new ContainerStatusBuilder()
                .withName("task")
                .withState(
                    new ContainerStateBuilder()
                        .withNewWaiting()
                        .withReason("ErrImagePull")
                        .withMessage("pull access denied, repository does not exist")
                        .endWaiting()
                        .build())
                .build())
        .endStatus()
        .build();
  }

  @AfterEach
  void closeDrivers() {
    kubelet.stop();
    drivers.forEach(
        d -> {
          try {
            d.close();
          } catch (RuntimeException e) {
            // reported by the test that caused it
          }
        });
    client.pods().inAnyNamespace().delete();
    client.persistentVolumeClaims().inAnyNamespace().delete();
  }

  Driver open(String namespace) {
    return open(namespace, Map.of());
  }

  Driver open(String namespace, Map<String, String> extra) {
    Map<String, String> params = new HashMap<>(extra);
    params.put("kubeconfig", kubeconfig.toString());
    params.putIfAbsent("requestTimeout", "75");
    Driver d = Orchestra.open("kubernetes", namespace, params);
    drivers.add(d);
    return d;
  }

  Pod pod(Container c) {
    return client.pods().inNamespace(KUBE_NS).withName(c.id()).get();
  }

  List<Pod> pods() {
    return client.pods().inNamespace(KUBE_NS).list().getItems();
  }

  List<PersistentVolumeClaim> claims() {
    return client.persistentVolumeClaims().inNamespace(KUBE_NS).list().getItems();
  }

  static Task.Builder task(String id) {
    return Task.builder().id(id).image("busybox").command("sh", "-c", "echo hi");
  }

  /** Writes a terminated state into the pod, as the kubelet would. */
  void terminate(Container c, int exitCode, String containerReason, String podReason) {
    client
        .pods()
        .inNamespace(KUBE_NS)
        .withName(c.id())
        .edit(
            p ->
                new PodBuilder(p)
                    .editOrNewStatus()
                    .withPhase(exitCode == 0 ? "Succeeded" : "Failed")
                    .withReason(podReason)
                    .withContainerStatuses(
                        new ContainerStatusBuilder()
                            .withName("task")
                            .withState(
                                new ContainerStateBuilder()
                                    .withNewTerminated()
                                    .withExitCode(exitCode)
                                    .withReason(containerReason)
                                    .endTerminated()
                                    .build())
                            .build())
                    .endStatus()
                    .build());
  }

  @Test
  void registeredUnderItsName() {
    assertThat(Orchestra.drivers()).contains("kubernetes");
  }

  @Test
  void declaresOnlyWhatItDoes() {
    assertThat(open("caps").capabilities())
        .containsExactlyInAnyOrder(
            Capability.IMAGE,
            Capability.PRIVILEGED,
            Capability.CPU_LIMIT,
            Capability.MEMORY_LIMIT,
            Capability.FOLLOW,
            Capability.STOP,
            Capability.TIMEOUT,
            Capability.REATTACH,
            Capability.SANDBOX);
  }

  @Test
  void unknownAndBadParametersRefusedByName() {
    assertThatThrownBy(() -> open("p", Map.of("nosuch", "1")))
        .hasMessageContaining("nosuch")
        .hasMessageContaining("kubeconfig");
    assertThatThrownBy(() -> open("p", Map.of("accessMode", "WriteSometimes")))
        .hasMessageContaining("accessMode")
        .hasMessageContaining("WriteSometimes");
    assertThatThrownBy(() -> open("p", Map.of("namespace", "Not_A_Namespace")))
        .hasMessageContaining("namespace")
        .hasMessageContaining("Not_A_Namespace");
    assertThatThrownBy(() -> open("p", Map.of("storageClass", "bad/class")))
        .hasMessageContaining("storageClass");
    assertThatThrownBy(() -> open("p", Map.of("requestTimeout", "soon")))
        .hasMessageContaining("requestTimeout")
        .hasMessageContaining("soon");
    assertThatThrownBy(() -> open("p", Map.of("context", "elsewhere")))
        .hasMessageContaining("context")
        .hasMessageContaining("elsewhere")
        .satisfies(e -> assertThat(e.toString()).doesNotContain(SECRET));
    assertThatThrownBy(
            () ->
                Orchestra.open(
                    "kubernetes", "p", Map.of("kubeconfig", dir.resolve("none").toString())))
        .hasMessageContaining("kubeconfig")
        .hasMessageContaining("none");
  }

  @Test
  void anUnreachableServerFailsTheOpenClearly() throws IOException {
    Path elsewhere = dir.resolve("unreachable");
    Files.writeString(
        elsewhere,
        Files.readString(kubeconfig)
            .replace(client.getMasterUrl().toString(), "http://127.0.0.1:1/"));
    assertThatThrownBy(
            () ->
                Orchestra.open(
                    "kubernetes",
                    "p",
                    Map.of("kubeconfig", elsewhere.toString(), "requestTimeout", "2")))
        .isInstanceOf(OrchestraException.class)
        .hasMessageContaining("127.0.0.1:1")
        .hasMessageContaining("kubeconfig " + elsewhere)
        .satisfies(e -> assertThat(e.toString()).doesNotContain(SECRET));
  }

  @Test
  void secretsNeverShown() {
    Driver d = open("secrets");
    assertThat(d.toString()).contains("ci").doesNotContain(SECRET);
  }

  @Test
  void namespaceDefaultsToTheContextsThenParameter() {
    Driver d = open("nsdefault");
    Container c = d.runContainer(task("t").build());
    assertThat(pod(c)).isNotNull();
    Driver other = open("nsparam", Map.of("namespace", "elsewhere"));
    Container o = other.runContainer(task("t").build());
    assertThat(client.pods().inNamespace("elsewhere").withName(o.id()).get()).isNotNull();
  }

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
      client.pods().inNamespace(KUBE_NS).withName(name).edit(KubernetesDriverMockTest::running);
      assertThat(found.get(30, TimeUnit.SECONDS).id()).isEqualTo(name);
      assertThat(made.get(30, TimeUnit.SECONDS).id()).isEqualTo(name);
      assertThat(pods()).hasSize(1);
    } finally {
      pool.shutdownNow();
    }
  }

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
    client.pods().inNamespace(KUBE_NS).withName(c.id()).delete();
    await()
        .atMost(Duration.ofSeconds(75))
        .until(() -> client.pods().inNamespace(KUBE_NS).withName(c.id()).get() == null);
    await()
        .atMost(Duration.ofSeconds(75))
        .untilAsserted(
            () -> assertThatThrownBy(c::status).isInstanceOf(ContainerNotFoundException.class));
    await().atMost(Duration.ofSeconds(75)).until(() -> c.onExit().isCompletedExceptionally());
  }

  @Test
  void podRecreatedUnderTheSameNameIsNotTheOldOne() {
    Driver d = open("uid");
    Container c = d.runContainer(task("r").build());
    Pod old = pod(c);
    client.pods().inNamespace(KUBE_NS).withName(c.id()).delete();
    await()
        .atMost(Duration.ofSeconds(75))
        .until(() -> client.pods().inNamespace(KUBE_NS).withName(c.id()).get() == null);
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
    await()
        .atMost(Duration.ofSeconds(75))
        .untilAsserted(
            () -> assertThatThrownBy(c::status).isInstanceOf(ContainerNotFoundException.class));
    await().atMost(Duration.ofSeconds(75)).until(() -> c.onExit().isCompletedExceptionally());
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
  void volumesAreClaims() {
    Driver d = open("vols");
    var v = d.createVolume("cache", 5L * 1024 * 1024 * 1024);
    assertThat(v.name()).isEqualTo("cache");
    assertThat(d.createVolume("cache", 0).name()).isEqualTo("cache");
    assertThat(claims()).hasSize(1);
    assertThat(claims().get(0).getSpec().getResources().getRequests().get("storage"))
        .isEqualTo(new Quantity(Long.toString(5L * 1024 * 1024 * 1024)));
    v.cleanup();
    v.cleanup();
    assertThat(claims()).isEmpty();
  }

  /**
   * A claim stays while any pod mounts it (pvc-protection): cleanup() deletes the finished pods
   * that mount it, and refuses while one still runs, leaving the claim.
   */
  @Test
  void volumeCleanupReleasesFinishedPodsAndRefusesARunningOne() {
    Driver d = open("release");
    var v = d.createVolume("data", 0);
    Container done = d.runContainer(task("done").mount("data", "d").build());
    Container other = d.runContainer(task("other").build());
    Container running = d.runContainer(task("running").mount("data", "d").build());
    terminate(done, 0, "Completed", null);
    terminate(other, 0, "Completed", null);

    assertThatThrownBy(v::cleanup)
        .isInstanceOf(OrchestraException.class)
        .hasMessageContaining("task 'running'")
        .hasMessageContaining("still uses it");
    assertThat(claims()).hasSize(1);

    terminate(running, 3, "Error", null);
    v.cleanup();

    assertThat(claims()).isEmpty();
    assertThat(pods())
        .as("the pod that did not mount the volume stays")
        .extracting(p -> p.getMetadata().getName())
        .containsExactly(other.id());
  }

  /**
   * A claim deleted behind the driver's back and kept by its pvc-protection finalizer reads a
   * deletionTimestamp and can never be mounted: the driver refuses it, naming the volume, once the
   * bounded wait for it to go (stop grace and a request timeout) is over, and makes the volume anew
   * once it is gone.
   */
  @Test
  void aClaimBeingDeletedIsRefusedThenMadeAnew() throws Exception {
    Driver d = open("deleting", Map.of("stopGrace", "1", "requestTimeout", "2"));
    d.createVolume("data", 0);
    String claim = KubeNames.claim("deleting", "data");
    var resource = client.persistentVolumeClaims().inNamespace(KUBE_NS).withName(claim);
    String oldUid = resource.get().getMetadata().getUid();
    ExecutorService pool = Executors.newSingleThreadExecutor();
    // as a pod using it would: the finalizer keeps the deleted claim, with a deletionTimestamp
    resource.edit(
        c -> {
          c.getMetadata().setFinalizers(List.of("kubernetes.io/pvc-protection"));
          return c;
        });
    resource.delete();
    try {
      assertThat(resource.get().getMetadata().getDeletionTimestamp()).isNotNull();
      long start = System.nanoTime();
      assertThatThrownBy(() -> d.runContainer(task("reader").mount("data", "d").build()))
          .isInstanceOf(OrchestraException.class)
          .hasMessageContaining("volume 'data'")
          .hasMessageContaining("has been deleted");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
      assertThat(pods()).as("no pod naming a claim that cannot be mounted").isEmpty();
      assertThatThrownBy(() -> d.createVolume("data", 0))
          .isInstanceOf(OrchestraException.class)
          .hasMessageContaining("volume 'data'");

      // the claim goes while a task waits for it: the task gets the volume made anew
      Future<Container> waiting =
          pool.submit(() -> d.runContainer(task("reader").mount("data", "d").build()));
      int before = server.getRequestCount();
      await().atMost(Duration.ofSeconds(10)).until(() -> server.getRequestCount() > before + 3);
      assertThat(waiting).isNotDone();
      release(resource);
      Container reader = waiting.get(30, TimeUnit.SECONDS);
      PersistentVolumeClaim made = resource.get();
      assertThat(made.getMetadata().getUid()).isNotEqualTo(oldUid);
      assertThat(made.getMetadata().getDeletionTimestamp()).isNull();
      assertThat(pod(reader).getSpec().getVolumes())
          .extracting(
              v ->
                  v.getPersistentVolumeClaim() == null
                      ? ""
                      : v.getPersistentVolumeClaim().getClaimName())
          .contains(claim);
    } finally {
      pool.shutdownNow();
      if (resource.get() != null) {
        release(resource);
      }
    }
  }

  /** Lets a claim kept by its finalizer go, as the pvc-protection controller would. */
  private static void release(
      io.fabric8.kubernetes.client.dsl.Resource<PersistentVolumeClaim> resource) {
    resource.edit(
        c -> {
          c.getMetadata().setFinalizers(List.of());
          return c;
        });
    if (resource.get() != null) {
      resource.delete();
    }
  }

  @Test
  void closeRemovesItsNamespaceOnly() {
    Driver mine = open("mine");
    Driver theirs = open("theirs");
    mine.runContainer(task("a").mount("m", "m").build());
    mine.runContainer(task("b").build());
    Container kept = theirs.runContainer(task("a").mount("m", "m").build());

    mine.close();
    mine.close();

    assertThat(pods()).extracting(p -> p.getMetadata().getName()).containsExactly(kept.id());
    assertThat(claims())
        .extracting(c -> c.getMetadata().getName())
        .containsExactly(KubeNames.claim("theirs", "m"));
    assertThatThrownBy(() -> mine.runContainer(task("c").build()))
        .isInstanceOf(IllegalStateException.class);
  }

  /**
   * close() on an API server that accepts connections and never answers ends within a few request
   * timeouts (fabric8's retry would double each call), throwing what it could not confirm; a driver
   * opened once the server answers again removes what is left.
   */
  @Test
  void closeOnASilentServerEndsWithinTheRequestTimeoutsAndSaysWhatIsLeft() throws Exception {
    java.net.URL master = client.getMasterUrl();
    try (dev.orchestra.tck.FaultProxy proxy =
        dev.orchestra.tck.FaultProxy.start(
            new java.net.InetSocketAddress(master.getHost(), master.getPort()))) {
      Path through = dir.resolve("through");
      Files.writeString(
          through,
          Files.readString(kubeconfig)
              .replace(
                  "server: " + master,
                  "server: http://127.0.0.1:" + proxy.address().getPort() + "/"));
      Map<String, String> params = new HashMap<>();
      params.put("kubeconfig", through.toString());
      params.put("requestTimeout", "2");
      Driver d = Orchestra.open("kubernetes", "silent", params);
      drivers.add(d);
      d.runContainer(task("a").mount("m", "m").build());
      proxy.mode(dev.orchestra.tck.FaultProxy.Mode.UNANSWERED);

      long start = System.nanoTime();
      assertThatThrownBy(d::close)
          .isInstanceOf(OrchestraException.class)
          .hasMessageContaining("did not answer within PT2S")
          .hasMessageContaining("not tried");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(12));
      d.close();

      proxy.mode(dev.orchestra.tck.FaultProxy.Mode.PASS);
      open("silent").close();
      assertThat(pods()).isEmpty();
      assertThat(claims()).isEmpty();
    }
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
}
