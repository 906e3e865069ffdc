package dev.orchestra.docker;

import static org.awaitility.Awaitility.await;

import com.github.dockerjava.api.DockerClient;
import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/** What the Docker tests share: unique namespaces, an engine client to look behind the driver. */
final class DockerTesting {

  static final String IMAGE = "busybox";
  static final Duration TASK_TIMEOUT = Duration.ofSeconds(60);

  /** Where the Docker engine listens unless {@code DOCKER_HOST} says otherwise. */
  static final Path DEFAULT_SOCKET = Path.of("/var/run/docker.sock");

  private static DockerConnection engine;

  private DockerTesting() {}

  /** A namespace no other test uses. */
  static String namespace(String purpose) {
    return "dt" + purpose + UUID.randomUUID().toString().substring(0, 8);
  }

  static Driver open(String namespace) {
    return Orchestra.open("docker", TestNamespaces.record(namespace));
  }

  static Driver open(String namespace, Map<String, String> params) {
    return Orchestra.open("docker", TestNamespaces.record(namespace), params);
  }

  /** A client of the engine for looking behind the driver's back. Lives as long as the JVM. */
  static synchronized DockerClient engine() {
    if (engine == null) {
      engine = DockerConnection.open(Optional.empty());
    }
    return engine.api();
  }

  static ContainerStatus awaitDone(Container c) {
    await()
        .atMost(TASK_TIMEOUT)
        .pollInterval(Duration.ofMillis(50))
        .until(() -> c.status().isDone());
    return c.status();
  }

  static String stdout(Container c) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    c.logs(out, new ByteArrayOutputStream());
    return out.toString(StandardCharsets.UTF_8);
  }

  /** The names of every container (running or not) labelled with the namespace. */
  static List<String> containersOf(String namespace) {
    return containersOf(engine(), namespace);
  }

  /** The names of every container (running or not) on that engine labelled with the namespace. */
  static List<String> containersOf(DockerClient engine, String namespace) {
    List<String> names = new ArrayList<>();
    engine
        .listContainersCmd()
        .withShowAll(true)
        .withLabelFilter(Map.of(Labels.NAMESPACE, namespace))
        .exec()
        .forEach(c -> names.add(String.join(",", c.getNames())));
    return names;
  }

  /** The names of every volume labelled with the namespace. */
  static List<String> volumesOf(String namespace) {
    return volumesOf(engine(), namespace);
  }

  /** The names of every volume on that engine labelled with the namespace. */
  static List<String> volumesOf(DockerClient engine, String namespace) {
    List<String> names = new ArrayList<>();
    var listed =
        engine
            .listVolumesCmd()
            .withFilter("label", List.of(Labels.namespaceFilter(namespace)))
            .exec();
    if (listed.getVolumes() != null) {
      listed.getVolumes().forEach(v -> names.add(v.getName()));
    }
    return names;
  }
}
