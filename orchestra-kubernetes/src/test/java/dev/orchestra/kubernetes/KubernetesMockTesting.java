package dev.orchestra.kubernetes;

import dev.orchestra.Container;
import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import dev.orchestra.Task;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the tests of the driver against fabric8's mock server in CRUD mode share. The mock runs
 * nothing: tests write a pod's status themselves, as the kubelet would. Each test class is
 * annotated {@code @EnableKubernetesMockClient(crud = true, https = false)} and gets a mock server
 * of its own, whose single event loop stalls when watches of tests side by side close, so each runs
 * its tests one after the other ({@code @Execution(SAME_THREAD)}); the classes run side by side.
 */
abstract class KubernetesMockTesting {

  /** The class's mock server and a client of it, set by the mock server's extension. */
  KubernetesMockServer server;

  KubernetesClient client;

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
}
