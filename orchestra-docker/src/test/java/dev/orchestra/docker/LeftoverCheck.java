package dev.orchestra.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectVolumeResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Run by the build after the tests: fails when any container or volume carrying an Orchestra
 * namespace label is left on the engine, listing them. Passes (with a warning) when no engine
 * answers and Docker is not required.
 */
public final class LeftoverCheck {

  private static final Logger LOG = LoggerFactory.getLogger(LeftoverCheck.class);

  private LeftoverCheck() {}

  /**
   * Checks the engine; exits with status 1 when something is left.
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    String unavailable = DockerEngineCondition.unavailableReason();
    if (unavailable != null) {
      if (DockerEngineCondition.isRequired()) {
        LOG.error("cannot check for leftover Docker resources: {}", unavailable);
        System.exit(2);
      }
      LOG.warn("not checking for leftover Docker resources: {}", unavailable);
      return;
    }
    List<String> left = new ArrayList<>();
    try (DockerConnection connection = DockerConnection.open(Optional.empty())) {
      DockerClient docker = connection.api();
      for (var c :
          docker
              .listContainersCmd()
              .withShowAll(true)
              .withLabelFilter(List.of(Labels.NAMESPACE))
              .exec()) {
        left.add(
            "container "
                + String.join(",", c.getNames())
                + " ("
                + c.getState()
                + ") of namespace '"
                + c.getLabels().get(Labels.NAMESPACE)
                + "'");
      }
      var volumes = docker.listVolumesCmd().withFilter("label", List.of(Labels.NAMESPACE)).exec();
      if (volumes.getVolumes() != null) {
        for (InspectVolumeResponse v : volumes.getVolumes()) {
          left.add(
              "volume "
                  + v.getName()
                  + " of namespace '"
                  + (v.getLabels() == null ? null : v.getLabels().get(Labels.NAMESPACE))
                  + "'");
        }
      }
    }
    if (!left.isEmpty()) {
      LOG.error(
          "{} Orchestra resource(s) left on the Docker engine after the tests; a test or close()"
              + " does not clean up:\n  {}",
          left.size(),
          String.join("\n  ", left));
      System.exit(1);
    }
    LOG.info("no Orchestra container or volume is left on the Docker engine");
  }
}
