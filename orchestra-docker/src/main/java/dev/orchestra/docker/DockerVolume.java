package dev.orchestra.docker;

import dev.orchestra.Volume;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A named volume of one namespace: the Docker volume {@code {namespace}-{name}}. Its data moves
 * through {@link DockerVolumeData}.
 */
final class DockerVolume implements Volume {

  private static final Logger LOG = LoggerFactory.getLogger(DockerVolume.class);

  private final DockerNamespace namespace;
  private final DockerVolumes volumes;
  private final String name;
  private final String dockerName;
  private final DockerVolumeData data;

  DockerVolume(
      DockerNamespace namespace,
      DockerVolumes volumes,
      String name,
      String dockerName,
      DockerVolumeData data) {
    this.namespace = namespace;
    this.volumes = volumes;
    this.name = name;
    this.dockerName = dockerName;
    this.data = data;
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
  public void copyIn(InputStream tar) {
    data.copyIn(name, dockerName, tar);
  }

  @Override
  public void copyOut(OutputStream tar) {
    data.copyOut(name, dockerName, tar);
  }

  @Override
  public void copyIn(Path directory) {
    data.copyIn(name, dockerName, directory);
  }

  @Override
  public void copyOut(Path directory, boolean merge) {
    data.copyOut(name, dockerName, directory, merge);
  }

  @Override
  public String toString() {
    return "DockerVolume[" + name + " as " + dockerName + "]";
  }
}
