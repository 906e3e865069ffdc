package dev.orchestra.kubernetes;

import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The driver's one watch: an informer on the pods that carry the namespace's label, which feeds
 * every container's status and {@link KubernetesContainer#onExit()} without polling. Events are
 * matched to containers by pod name and then by {@code metadata.uid}: a pod re-created under the
 * same name is never read as the old one.
 */
final class PodEvents implements ResourceEventHandler<Pod> {

  private static final Logger LOG = LoggerFactory.getLogger(PodEvents.class);

  private final Map<String, KubernetesContainer> watched = new ConcurrentHashMap<>();
  private final SharedIndexInformer<Pod> informer;
  private final KubeContext ctx;

  PodEvents(KubeContext ctx) {
    this.ctx = ctx;
    this.informer =
        ctx.client
            .pods()
            .inNamespace(ctx.settings.kubeNamespace())
            .withLabel(KubeNames.NAMESPACE_LABEL, ctx.namespaceLabel)
            .runnableInformer(0);
    informer.addEventHandler(this);
  }

  /** Starts the watch and waits (bounded) for its first list. */
  void start(Duration bound) {
    try {
      // One plain list first: a cluster that cannot be reached, or credentials that may not list
      // the pods, fail here with the reason, and not in the informer's thread, which would log the
      // failure as an error of its own before the driver reports it.
      ctx.client
          .pods()
          .inNamespace(ctx.settings.kubeNamespace())
          .withLabel(KubeNames.NAMESPACE_LABEL, ctx.namespaceLabel)
          .list(new ListOptionsBuilder().withLimit(1L).build());
      informer.start().toCompletableFuture().get(bound.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      informer.stop();
      throw dev.orchestra.spi.Exceptions.launder(
          "watching the pods of namespace '"
              + ctx.namespace
              + "' in Kubernetes namespace '"
              + ctx.settings.kubeNamespace()
              + "'",
          e);
    }
  }

  /** Follows a container from now on, and hands it the pod as last seen, if any. */
  void watch(KubernetesContainer c) {
    watched.put(c.podName(), c);
    Pod last = informer.getStore().getByKey(ctx.settings.kubeNamespace() + "/" + c.podName());
    if (last != null) {
      c.observed(last);
    }
  }

  /** The pod as the watch last saw it, or null: no API call. */
  Pod cached(String podName) {
    return informer.getStore().getByKey(ctx.settings.kubeNamespace() + "/" + podName);
  }

  void forget(KubernetesContainer c) {
    watched.remove(c.podName(), c);
  }

  void stop() {
    informer.stop();
  }

  @Override
  public void onAdd(Pod pod) {
    deliver(pod);
  }

  @Override
  public void onUpdate(Pod oldPod, Pod pod) {
    deliver(pod);
  }

  @Override
  public void onDelete(Pod pod, boolean deletedFinalStateUnknown) {
    KubernetesContainer c = watched.get(pod.getMetadata().getName());
    if (c != null) {
      LOG.debug("pod {} ({}) deleted", pod.getMetadata().getName(), pod.getMetadata().getUid());
      c.deleted(pod);
    }
  }

  private void deliver(Pod pod) {
    KubernetesContainer c = watched.get(pod.getMetadata().getName());
    if (c != null) {
      c.observed(pod);
    }
  }
}
