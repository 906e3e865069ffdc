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

  /**
   * 50 tasks, not 200: the driver's own handling of the load is {@link DockerReliabilityTest}'s,
   * with the whole count, in the same build, beside this one on the same two cores. Fifty from the
   * kit's eight threads still keep Podman's service creating, starting and removing containers side
   * by side, which is what this lane adds.
   */
  @Override
  protected int loadTasks() {
    return 50;
  }

  /**
   * 10 MB, not 100: Podman's log path (its {@code k8s-file} log driver and its logs API) is not the
   * Docker engine's, and ten megabytes pass it in thousands of messages; the whole size runs in
   * {@link DockerReliabilityTest}. {@value EngineReliabilityKit#BIG_OUTPUT_PROPERTY} overrides it.
   */
  @Override
  protected long bigOutputBytes() {
    return Long.getLong(BIG_OUTPUT_PROPERTY, 10_000_000L);
  }
}
