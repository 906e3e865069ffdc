package dev.orchestra.docker;

import dev.orchestra.Container;
import dev.orchestra.Driver;
import dev.orchestra.tck.DriverTck;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The whole driver contract against Podman's Docker-compatible service: the driver is given its
 * address only and detects the engine.
 */
@RequiresPodman
class PodmanDriverTckTest extends DriverTck {

  @Override
  protected Driver newDriver(String namespace) {
    return PodmanTesting.open(namespace, Map.of());
  }

  /**
   * Podman 4.3.1 with conmon 2.1.6 kills a task over its memory limit (137) and reads {@code
   * OOMKilled} false, also through its own command line: conmon writes its {@code oom} marker into
   * its working directory (an empty file named {@code oom} appears in the directory {@code podman
   * run} or the service was started from, at the kill), not where Podman looks for it, and Podman
   * sends no {@code oom} event. See docs/drivers/docker.md, "Podman".
   */
  @Override
  protected Optional<String> unreportedOomKills() {
    return Optional.of(
        "Podman 4.3.1 reads OOMKilled false and sends no oom event: conmon 2.1.6 writes its oom"
            + " marker into its working directory, not where Podman looks");
  }

  @Override
  protected OptionalLong appliedCpuShares(Container container) {
    return DockerDriverTckTest.cpuShares(PodmanTesting.engine(), container);
  }
}
