package dev.orchestra.docker;

import com.github.dockerjava.api.DockerClient;
import dev.orchestra.Driver;
import java.nio.file.Path;
import java.util.Map;

/** The Docker driver's reliability run against the Docker engine of {@code DOCKER_HOST}. */
@RequiresDocker
class DockerReliabilityTest extends EngineReliabilityKit {

  @Override
  DockerClient engineClient() {
    return DockerTesting.engine();
  }

  @Override
  Path engineSocket() {
    return DockerTesting.DEFAULT_SOCKET;
  }

  @Override
  Driver open(String namespace, Map<String, String> params) {
    return DockerTesting.open(namespace, params);
  }

  @Override
  boolean exhaustive() {
    return true;
  }
}
