package dev.orchestra.kubernetes;

import dev.orchestra.Driver;
import dev.orchestra.tck.DriverTck;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The whole driver contract against the EMULATED kubelet ({@link EmulatedKubelet}): a strict API
 * server subset whose pods run as containers on the local Docker engine. Passing here proves the
 * driver against that emulation, not against a real cluster (docs/drivers/kubernetes.md says what
 * the emulation does not cover).
 */
@DisabledIfSystemProperty(named = TestCluster.REAL_CLUSTER, matches = "true")
@DisplayName("DriverTck: kubernetes against the EMULATED kubelet")
@ExtendWith(EmulatedKubeletCondition.class)
class KubernetesDriverTckTest extends DriverTck {

  @Override
  protected Driver newDriver(String namespace) {
    return TestCluster.open(namespace, Map.of());
  }
}
