package dev.orchestra.kubernetes;

import dev.orchestra.Container;
import dev.orchestra.Driver;
import dev.orchestra.tck.ReliabilityTck;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The driver's reliability run against the EMULATED kubelet ({@link EmulatedKubelet}). Leftovers
 * are the namespace's pods and claims in the API server; interference deletes a pod or a claim
 * through a client of the test's own, at once (grace period 0), as an operator's {@code kubectl
 * delete --now} would.
 */
@DisabledIfSystemProperty(named = TestCluster.REAL_CLUSTER, matches = "true")
@DisplayName("ReliabilityTck: kubernetes against the EMULATED kubelet")
@ExtendWith(EmulatedKubeletCondition.class)
class KubernetesReliabilityTest extends ReliabilityTck {

  /** The request timeout of the drivers behind the kit's proxy. */
  private static final String REQUEST_TIMEOUT = "PT10S";

  @Override
  protected Driver newDriver(String namespace) {
    return TestCluster.open(namespace, Map.of());
  }

  @Override
  protected List<String> leftovers(String namespace) {
    return new ArrayList<>(TestCluster.leftovers(namespace));
  }

  /**
   * 100 MB: every byte goes through the emulated kubelet's Docker log driver and back through the
   * log API, a few MB per second on the 2-core CI machines.
   */
  @Override
  protected long bigOutputBytes() {
    return 100_000_000L;
  }

  /** The emulated API server's address: the kit puts its proxy in front of it. */
  @Override
  protected Optional<InetSocketAddress> platformEndpoint() {
    URI url = TestCluster.kubelet().url();
    return Optional.of(new InetSocketAddress(url.getHost(), url.getPort()));
  }

  @Override
  protected Optional<Driver> newDriverThrough(String namespace, InetSocketAddress proxy) {
    Path kubeconfig =
        TestCluster.kubeconfigThrough("http://" + proxy.getHostString() + ":" + proxy.getPort());
    return Optional.of(
        TestCluster.open(
            namespace,
            Map.of(
                KubernetesDriverProvider.KUBECONFIG,
                kubeconfig.toString(),
                KubernetesDriverProvider.REQUEST_TIMEOUT,
                REQUEST_TIMEOUT)));
  }

  /** Six request timeouts, as for the Docker driver: a call, close(), a frozen follow's checks. */
  @Override
  protected Duration unresponsivePlatformBound() {
    return Duration.parse(REQUEST_TIMEOUT).multipliedBy(6);
  }

  @Override
  protected void removeContainerBehindDriver(String namespace, String taskId, Container container) {
    TestCluster.deletePodNow(container.id());
  }

  @Override
  protected void removeVolumeBehindDriver(String namespace, String volumeName) {
    TestCluster.deleteClaimNow(KubeNames.claim(namespace, volumeName));
  }
}
