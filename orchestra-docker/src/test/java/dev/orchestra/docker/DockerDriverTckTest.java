package dev.orchestra.docker;

import com.github.dockerjava.api.DockerClient;
import dev.orchestra.Container;
import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import dev.orchestra.tck.DriverTck;
import java.util.OptionalLong;

/** The whole driver contract, against a real Docker engine. */
@RequiresDocker
class DockerDriverTckTest extends DriverTck {

  @Override
  protected Driver newDriver(String namespace) {
    return Orchestra.open("docker", TestNamespaces.record(namespace));
  }

  /** The engine's {@code HostConfig.CpuShares} of the container ({@code docker inspect}). */
  @Override
  protected OptionalLong appliedCpuShares(Container container) {
    return cpuShares(DockerTesting.engine(), container);
  }

  static OptionalLong cpuShares(DockerClient engine, Container container) {
    Integer shares =
        engine.inspectContainerCmd(container.id()).exec().getHostConfig().getCpuShares();
    return OptionalLong.of(shares == null ? 0 : shares);
  }
}
