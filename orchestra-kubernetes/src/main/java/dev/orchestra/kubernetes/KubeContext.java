package dev.orchestra.kubernetes;

import dev.orchestra.OrchestraInterruptedException;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.PodResource;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What the driver's collaborators share: the client, the settings, the orchestra namespace and its
 * label value, and the one pod watch.
 */
final class KubeContext {

  final String namespace;
  final KubernetesClient client;
  final KubernetesDriverProvider.Settings settings;
  final String namespaceLabel;

  /** Whether the API server separates the log streams: null until known. */
  final AtomicReference<Boolean> splitLogs = new AtomicReference<>();

  PodEvents events;

  KubeContext(
      String namespace, KubernetesClient client, KubernetesDriverProvider.Settings settings) {
    this.namespace = namespace;
    this.client = client;
    this.settings = settings;
    this.namespaceLabel = KubeNames.labelValue(namespace);
  }

  PodResource pod(String name) {
    return client.pods().inNamespace(settings.kubeNamespace()).withName(name);
  }

  Pod getPod(String name) {
    return pod(name).get();
  }

  String describe(String taskId) {
    return "task '" + taskId + "' of namespace '" + namespace + "'";
  }

  /** How long a removal may take: the pods' grace and a minute for the API and the kubelet. */
  Duration removalBound() {
    return settings.stopGrace().plusSeconds(60);
  }

  static void sleep(Duration d, String what) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new OrchestraInterruptedException(what + " was interrupted", e);
    }
  }
}
