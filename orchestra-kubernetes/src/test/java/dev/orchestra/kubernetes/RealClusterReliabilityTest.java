package dev.orchestra.kubernetes;

import dev.orchestra.Container;
import dev.orchestra.Driver;
import dev.orchestra.tck.ReliabilityTck;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The reliability kit against a REAL cluster, the one {@code KUBECONFIG} names (see {@link
 * RealClusterDriverTckTest}). The unresponsive-platform tests are skipped there: they need the API
 * server behind the kit's proxy, which a kubeconfig with TLS does not allow.
 */
@EnabledIfSystemProperty(named = TestCluster.REAL_CLUSTER, matches = "true")
@DisplayName("ReliabilityTck: kubernetes against the REAL cluster of KUBECONFIG")
class RealClusterReliabilityTest extends ReliabilityTck {

  @Override
  protected Driver newDriver(String namespace) {
    return TestCluster.open(namespace, Map.of());
  }

  @Override
  protected List<String> leftovers(String namespace) {
    return TestCluster.leftovers(namespace);
  }

  /**
   * 100 MB, more than the kubelet keeps of a container's log before it rotates it (10 MiB by
   * default): see docs/drivers/kubernetes.md on logs.
   */
  @Override
  protected long bigOutputBytes() {
    return 100_000_000L;
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
