package dev.orchestra.kubernetes;

import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/**
 * The cluster the kits run the driver against: the {@link EmulatedKubelet}, one per JVM, started by
 * the first test that needs it and closed when the JVM ends. Without a Docker engine it cannot run:
 * the tests are then skipped with the reason, or fail when {@code orchestra.requireDocker} (or
 * {@code ORCHESTRA_REQUIRE_DOCKER}) is {@code true}, as in CI.
 *
 * <p>With {@value #REAL_CLUSTER}{@code =true} the {@code RealCluster*} classes run the same kits
 * against the cluster that {@code KUBECONFIG} names (the kind lane of {@code
 * .github/workflows/kubernetes.yml}), in Kubernetes namespace {@value #REAL_NAMESPACE} ({@code
 * default} unless set).
 */
final class TestCluster {

  /** System property: {@code true} to run the kits against a real cluster instead. */
  static final String REAL_CLUSTER = "orchestra.kubernetes.realCluster";

  /** System property: the Kubernetes namespace of the real cluster's tests. */
  static final String REAL_NAMESPACE = "orchestra.kubernetes.namespace";

  private static EmulatedKubelet kubelet;

  private TestCluster() {}

  /** The emulated cluster, started on first use; skips or fails the caller when it cannot run. */
  static synchronized EmulatedKubelet kubelet() {
    if (kubelet == null) {
      String unavailable = EmulatedKubelet.unavailableReason();
      if (unavailable != null) {
        if (Boolean.getBoolean("orchestra.requireDocker")
            || "true".equalsIgnoreCase(System.getenv("ORCHESTRA_REQUIRE_DOCKER"))) {
          throw new IllegalStateException(
              "the emulated kubelet needs a Docker engine, and Docker is required: " + unavailable);
        }
        Assumptions.abort("the emulated kubelet needs a Docker engine: " + unavailable);
      }
      EmulatedKubelet started = EmulatedKubelet.start();
      Runtime.getRuntime()
          .addShutdownHook(new Thread(started::close, "orchestra-emulated-kubelet-close"));
      kubelet = started;
    }
    return kubelet;
  }

  /** Whether the kits run against a real cluster ({@value #REAL_CLUSTER}). */
  static boolean real() {
    return Boolean.getBoolean(REAL_CLUSTER);
  }

  /**
   * A driver of the namespace on the emulated cluster (on the real one, when {@link #real()}), with
   * these parameters besides its own.
   */
  static Driver open(String namespace, Map<String, String> params) {
    Map<String, String> all = new HashMap<>(params);
    if (real()) {
      all.putIfAbsent(
          KubernetesDriverProvider.NAMESPACE, System.getProperty(REAL_NAMESPACE, "default"));
    } else {
      all.putIfAbsent(KubernetesDriverProvider.KUBECONFIG, kubelet().kubeconfig().toString());
    }
    return Orchestra.open(KubernetesDriverProvider.NAME, namespace, all);
  }

  /**
   * A kubeconfig for the emulated cluster reached at another address (the reliability kit's proxy
   * in front of it); deleted when the JVM ends.
   */
  static Path kubeconfigThrough(String server) {
    try {
      Path file = Files.createTempFile("emulated-kubelet-through-", ".kubeconfig");
      file.toFile().deleteOnExit();
      String config = Files.readString(kubelet().kubeconfig());
      String direct = "    server: " + kubelet().url() + "\n";
      if (!config.contains(direct)) {
        throw new IllegalStateException("the emulated kubelet's kubeconfig names no server line");
      }
      Files.writeString(file, config.replace(direct, "    server: " + server + "\n"));
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A client of the emulated cluster, for looking and acting behind the driver's back. */
  static KubernetesClient client() {
    if (real()) {
      return new KubernetesClientBuilder()
          .withConfig(
              new ConfigBuilder(Config.autoConfigure(null))
                  .withNamespace(System.getProperty(REAL_NAMESPACE, "default"))
                  .build())
          .build();
    }
    Config config = kubelet().config();
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  /** Deletes a pod at once (grace period 0), behind the driver's back. */
  static void deletePodNow(String pod) {
    try (KubernetesClient client = client()) {
      client.pods().withName(pod).withGracePeriod(0).delete();
    }
  }

  /** Deletes a claim, behind the driver's back. */
  static void deleteClaimNow(String claim) {
    try (KubernetesClient client = client()) {
      client.persistentVolumeClaims().withName(claim).withGracePeriod(0).delete();
    }
  }

  /** The pods and claims of an orchestra namespace still in the cluster. */
  static List<String> leftovers(String namespace) {
    List<String> left = new ArrayList<>();
    String label = KubeNames.labelValue(namespace);
    try (KubernetesClient client = client()) {
      client
          .pods()
          .withLabel(KubeNames.NAMESPACE_LABEL, label)
          .list()
          .getItems()
          .forEach(p -> left.add("pod " + p.getMetadata().getName()));
      client
          .persistentVolumeClaims()
          .withLabel(KubeNames.NAMESPACE_LABEL, label)
          .list()
          .getItems()
          .forEach(c -> left.add("claim " + c.getMetadata().getName()));
    }
    return left;
  }
}
