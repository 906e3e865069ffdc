package dev.orchestra.kubernetes;

import dev.orchestra.Driver;
import dev.orchestra.tck.DriverTck;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The whole driver contract against a REAL cluster, the one {@code KUBECONFIG} names: run only with
 * {@code -Dorchestra.kubernetes.realCluster=true -Dtest='RealCluster*'}, as the kind lane of {@code
 * .github/workflows/kubernetes.yml} does. No cluster can run where this project is built, so the
 * build itself never runs it.
 */
@EnabledIfSystemProperty(named = TestCluster.REAL_CLUSTER, matches = "true")
@DisplayName("DriverTck: kubernetes against the REAL cluster of KUBECONFIG")
class RealClusterDriverTckTest extends DriverTck {

  @Override
  protected Driver newDriver(String namespace) {
    return TestCluster.open(namespace, Map.of());
  }
}
