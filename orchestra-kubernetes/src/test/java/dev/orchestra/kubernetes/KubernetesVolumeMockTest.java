package dev.orchestra.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.orchestra.Container;
import dev.orchestra.Driver;
import dev.orchestra.OrchestraException;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * What the driver sends to the API server: volumes as persistent volume claims, and their cleanup
 * (see {@link KubernetesMockTesting}).
 */
@Execution(ExecutionMode.SAME_THREAD)
@EnableKubernetesMockClient(crud = true, https = false)
class KubernetesVolumeMockTest extends KubernetesMockTesting {

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
}
