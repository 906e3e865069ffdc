package dev.orchestra.docker;

import dev.orchestra.Volume;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A named volume of one namespace: the Docker volume {@code {namespace}-{name}}. */
final class DockerVolume implements Volume {

  private static final Logger LOG = LoggerFactory.getLogger(DockerVolume.class);

  private final DockerNamespace namespace;
  private final DockerVolumes volumes;
  private final String name;
  private final String dockerName;

  DockerVolume(DockerNamespace namespace, DockerVolumes volumes, String name, String dockerName) {
    this.namespace = namespace;
    this.volumes = volumes;
    this.name = name;
    this.dockerName = dockerName;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void cleanup() {
    if (namespace.isClosed()) {
      LOG.debug("volume '{}' went with its closed namespace", name);
      return;
    }
    String what =
        "volume '" + name + "' (" + dockerName + ") of namespace '" + namespace.name() + "'";
    if (volumes.remove(dockerName, what, false)) {
      LOG.info("removed {}", what);
    } else {
      LOG.debug("{} was already gone", what);
    }
  }

  @Override
  public String toString() {
    return "DockerVolume[" + name + " as " + dockerName + "]";
  }
}
