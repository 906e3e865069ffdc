package dev.orchestra.docker;

import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import dev.orchestra.tck.DriverTck;

/** The whole driver contract, against a real Docker engine. */
@RequiresDocker
class DockerDriverTckTest extends DriverTck {

  @Override
  protected Driver newDriver(String namespace) {
    return Orchestra.open("docker", TestNamespaces.record(namespace));
  }
}
