package dev.orchestra.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectVolumeResponse;
import com.github.dockerjava.api.model.Container;
import dev.orchestra.spi.Names;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Run by the build after the tests: exits with status 1 when a container or volume of a namespace
 * the tests used is left on the Docker engine or on Podman ({@link PodmanTesting}), listing them.
 * Resources of other Orchestra namespaces (from another build sharing the engine) are listed as a
 * warning. Passes with a warning when no engine answers and Docker is not required.
 */
public final class LeftoverCheck {

  private static final Logger LOG = LoggerFactory.getLogger(LeftoverCheck.class);

  private LeftoverCheck() {}

  /** The client-side step directories of the namespaces ({@code orchestra-docker-<ns>-*}). */
  private static List<String> clientDirectories(Set<String> namespaces) throws IOException {
    Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
    List<String> left = new ArrayList<>();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(tmp, "orchestra-docker-*")) {
      for (Path dir : dirs) {
        String file = dir.getFileName().toString();
        for (String namespace : namespaces) {
          if (file.startsWith("orchestra-docker-" + Names.safe(namespace) + "-")) {
            left.add("client-side directory " + dir + " of namespace '" + namespace + "'");
          }
        }
      }
    }
    return left;
  }

  /** Every container of an Orchestra namespace on the engine, running or not. */
  static List<Container> namespaceContainers(DockerClient docker) {
    return docker
        .listContainersCmd()
        .withShowAll(true)
        .withLabelFilter(List.of(Labels.NAMESPACE))
        .exec();
  }

  /** Every volume of an Orchestra namespace on the engine. */
  static List<InspectVolumeResponse> namespaceVolumes(DockerClient docker) {
    var volumes = docker.listVolumesCmd().withFilter("label", List.of(Labels.NAMESPACE)).exec();
    return volumes.getVolumes() == null ? List.of() : volumes.getVolumes();
  }

  /** Lists the containers and volumes of Orchestra namespaces on one engine: ours, or others'. */
  private static void list(
      DockerClient docker,
      String engine,
      Set<String> ours,
      List<String> left,
      List<String> others) {
    for (var c : namespaceContainers(docker)) {
      String namespace = c.getLabels().get(Labels.NAMESPACE);
      String what =
          "container "
              + String.join(",", c.getNames())
              + " ("
              + c.getState()
              + ") of namespace '"
              + namespace
              + "' on "
              + engine;
      (ours == null || ours.contains(namespace) ? left : others).add(what);
    }
    for (InspectVolumeResponse v : namespaceVolumes(docker)) {
      Map<String, String> labels = v.getLabels() == null ? Map.of() : v.getLabels();
      String namespace = labels.get(Labels.NAMESPACE);
      String what = "volume " + v.getName() + " of namespace '" + namespace + "' on " + engine;
      (ours == null || ours.contains(namespace) ? left : others).add(what);
    }
  }

  /**
   * Checks the Docker engine, and Podman's service when it answers (it must when Docker tests are
   * required).
   *
   * @param args ignored
   * @throws IOException if the namespace log cannot be read
   */
  public static void main(String[] args) throws IOException {
    String unavailable = DockerEngineCondition.unavailableReason();
    if (unavailable != null) {
      if (DockerEngineCondition.isRequired()) {
        LOG.error("cannot check for leftover Docker resources: {}", unavailable);
        System.exit(2);
      }
      LOG.warn("not checking for leftover Docker resources: {}", unavailable);
      return;
    }
    Set<String> ours = TestNamespaces.recorded();
    List<String> left = new ArrayList<>();
    List<String> others = new ArrayList<>();
    try (DockerConnection connection = DockerConnection.open(Optional.empty())) {
      list(connection.api(), "the Docker engine", ours, left, others);
    }
    String podman = PodmanTesting.unavailableReason();
    if (podman == null) {
      try (DockerConnection connection = DockerConnection.open(Optional.of(PodmanTesting.host()))) {
        list(connection.api(), "Podman", ours, left, others);
      }
    } else if (DockerEngineCondition.isRequired()) {
      LOG.error("cannot check for leftover Podman resources: {}", podman);
      System.exit(2);
    } else {
      LOG.warn("not checking for leftover Podman resources: {}", podman);
    }
    if (ours != null) {
      left.addAll(clientDirectories(ours));
    }
    if (!others.isEmpty()) {
      LOG.warn(
          "{} resource(s) of Orchestra namespaces this build did not use are on the engine"
              + " (another build sharing it?):\n  {}",
          others.size(),
          String.join("\n  ", others));
    }
    if (!left.isEmpty()) {
      LOG.error(
          "{} Orchestra resource(s) left on the Docker engine or the client after the tests; a"
              + " test or close()"
              + " does not clean up:\n  {}",
          left.size(),
          String.join("\n  ", left));
      System.exit(1);
    }
    LOG.info(
        "no container or volume of {} is left on the engine",
        ours == null
            ? "any Orchestra namespace"
            : "the " + ours.size() + " namespace(s) noted since the last clean build");
  }
}
