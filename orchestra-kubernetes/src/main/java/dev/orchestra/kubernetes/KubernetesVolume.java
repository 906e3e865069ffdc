package dev.orchestra.kubernetes;

import dev.orchestra.OrchestraException;
import dev.orchestra.Volume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A volume: a PersistentVolumeClaim named {@code v-} and a hash of namespace and name (see {@link
 * KubeNames}). {@link #cleanup()} deletes the claim and waits until it is gone; a claim still
 * mounted by a pod stays until that pod is gone (the {@code kubernetes.io/pvc-protection}
 * finalizer).
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
    long deadline = System.nanoTime() + ctx.removalBound().toNanos();
    while (get() != null) {
      if (System.nanoTime() - deadline > 0) {
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
      KubeContext.sleep(Duration.ofMillis(200), "waiting for claim " + claim + " to go");
    }
    LOG.info("removed claim {} of volume '{}' of namespace '{}'", claim, name, ctx.namespace);
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
