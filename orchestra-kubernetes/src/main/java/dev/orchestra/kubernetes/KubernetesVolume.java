package dev.orchestra.kubernetes;

import dev.orchestra.OrchestraException;
import dev.orchestra.Volume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A volume: a PersistentVolumeClaim named {@code v-} and a hash of namespace and name (see {@link
 * KubeNames}). {@link #cleanup()} deletes the claim and waits until it is gone. A claim stays while
 * any pod that mounts it exists, finished or not (the {@code kubernetes.io/pvc-protection}
 * finalizer): the finished pods of this namespace that mount it are deleted first (their tasks are
 * over; only their logs go with them), as the Docker driver removes a volume's finished containers,
 * while one that still runs makes the cleanup fail and leaves the claim.
 */
final class KubernetesVolume implements Volume {

  private static final Logger LOG = LoggerFactory.getLogger(KubernetesVolume.class);

  private final KubeContext ctx;
  private final String name;
  private final String claim;

  KubernetesVolume(KubeContext ctx, String name, String claim) {
    this.ctx = ctx;
    this.name = name;
    this.claim = claim;
  }

  @Override
  public String name() {
    return name;
  }

  String claim() {
    return claim;
  }

  @Override
  public void cleanup() {
    releaseFinishedPods();
    try {
      ctx.client
          .persistentVolumeClaims()
          .inNamespace(ctx.settings.kubeNamespace())
          .withName(claim)
          .delete();
    } catch (KubernetesClientException e) {
      KubeContext.rethrowInterruption("a call to the API server", e);
      if (e.getCode() != 404) {
        throw new OrchestraException(
            "deleting claim " + claim + " of volume '" + name + "' failed: " + e.getMessage(), e);
      }
    }
    if (KubeContext.readWhilePresent(
            this::get,
            Objects::nonNull,
            ctx.removalBound(),
            "waiting for claim " + claim + " to go")
        != null) {
      throw new OrchestraException(
          "claim "
              + claim
              + " of volume '"
              + name
              + "' of namespace '"
              + ctx.namespace
              + "' was still there "
              + ctx.removalBound()
              + " after it was deleted (is a pod still using it?)");
    }
    LOG.info("removed claim {} of volume '{}' of namespace '{}'", claim, name, ctx.namespace);
  }

  /**
   * Deletes the finished pods of this namespace that mount the claim.
   *
   * @throws OrchestraException if a pod that mounts it still runs
   */
  private void releaseFinishedPods() {
    List<Pod> pods =
        KubeContext.call(
            "listing the pods of namespace '" + ctx.namespace + "'",
            () ->
                ctx.client
                    .pods()
                    .inNamespace(ctx.settings.kubeNamespace())
                    .withLabel(KubeNames.NAMESPACE_LABEL, ctx.namespaceLabel)
                    .list()
                    .getItems());
    for (Pod pod : pods) {
      if (!mounts(pod)) {
        continue;
      }
      String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
      String task = KubernetesContainer.annotations(pod).get(KubeNames.TASK_ANNOTATION);
      if (!"Succeeded".equals(phase) && !"Failed".equals(phase)) {
        throw new OrchestraException(
            "cannot clean up "
                + this
                + ": task '"
                + task
                + "' (pod "
                + pod.getMetadata().getName()
                + ", phase "
                + phase
                + ") still uses it; stop it first");
      }
      LOG.debug("deleting finished pod {} of task '{}', which mounts {}", pod, task, this);
      KubeContext.call(
          "deleting finished pod " + pod.getMetadata().getName() + ", which mounts " + this,
          () ->
              ctx.client
                  .pods()
                  .inNamespace(ctx.settings.kubeNamespace())
                  .withName(pod.getMetadata().getName())
                  .withGracePeriod(0)
                  .delete());
    }
  }

  private boolean mounts(Pod pod) {
    List<io.fabric8.kubernetes.api.model.Volume> volumes =
        pod.getSpec() == null ? null : pod.getSpec().getVolumes();
    return volumes != null
        && volumes.stream()
            .anyMatch(
                v ->
                    v.getPersistentVolumeClaim() != null
                        && claim.equals(v.getPersistentVolumeClaim().getClaimName()));
  }

  private PersistentVolumeClaim get() {
    return KubeContext.call(
        "reading claim " + claim,
        () ->
            ctx.client
                .persistentVolumeClaims()
                .inNamespace(ctx.settings.kubeNamespace())
                .withName(claim)
                .get());
  }

  @Override
  public String toString() {
    return "volume '" + name + "' (claim " + claim + ") of namespace '" + ctx.namespace + "'";
  }
}
