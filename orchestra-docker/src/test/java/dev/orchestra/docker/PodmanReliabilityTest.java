package dev.orchestra.docker;

import com.github.dockerjava.api.DockerClient;
import dev.orchestra.Driver;
import java.nio.file.Path;
import java.util.Map;

/**
 * The Docker driver's reliability run against Podman's Docker-compatible service: the driver
 * detects the engine, nothing else is given but its address.
 */
@RequiresPodman
class PodmanReliabilityTest extends EngineReliabilityKit {

  @Override
  DockerClient engineClient() {
    return PodmanTesting.engine();
  }

  @Override
  Path engineSocket() {
    return PodmanTesting.socket();
  }

  @Override
  Driver open(String namespace, Map<String, String> params) {
    return PodmanTesting.open(namespace, params);
  }

  /** Podman's service and log path get the sizes that prove them; the whole ones run on Docker. */
  @Override
  boolean exhaustive() {
    return false;
  }
}
