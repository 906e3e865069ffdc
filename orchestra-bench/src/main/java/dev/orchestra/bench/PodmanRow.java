package dev.orchestra.bench;

import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The row that needs Podman's Docker-compatible service ({@code ORCHESTRA_PODMAN_HOST}, by default
 * the socket {@code scripts/podman-up.sh} starts): one task through the driver against {@code
 * podman run --rm}. Where the variable is not set and the default socket does not exist, the row
 * says it was not measured.
 */
final class PodmanRow {

  private static final String NAME = "podman one task";
  private static final String DEFAULT_HOST = "unix:///run/orchestra-podman/podman.sock";

  private final Settings settings;

  PodmanRow(Settings settings) {
    this.settings = settings;
  }

  /**
   * Where the service listens: {@code ORCHESTRA_PODMAN_HOST}, or else the default socket if it
   * exists; empty when neither.
   */
  static Optional<String> host() {
    String host = System.getenv("ORCHESTRA_PODMAN_HOST");
    if (host != null && !host.isBlank()) {
      return Optional.of(host.strip());
    }
    return Files.exists(Path.of(DEFAULT_HOST.substring("unix://".length())))
        ? Optional.of(DEFAULT_HOST)
        : Optional.empty();
  }

  /**
   * One {@code true} task at a time until observed done, against {@code podman run --rm}; a row
   * that says it was not measured when there is no service ({@link #host()}).
   */
  Row latency() throws Exception {
    Optional<String> given = host();
    if (given.isEmpty()) {
      return Row.notMeasured(
          NAME,
          "Not measured in this run: it needs Podman's Docker-compatible service, given as"
              + " ORCHESTRA_PODMAN_HOST or started by scripts/podman-up.sh at "
              + DEFAULT_HOST
              + ".");
    }
    String host = given.get();
    try (Driver driver =
        Orchestra.open("docker", DockerRows.freshNamespace(), Map.of("host", host))) {
      Rotation.Trial library =
          DockerRows.oneTask(driver, settings.image(), "podman-", "library on Podman");
      Rotation.Trial podmanRun =
          DockerRows.timedCommand(
              "podman run --rm", () -> podman(host, "run", "--rm", settings.image(), "true"));
      List<Samples> s =
          Rotation.run(settings.warmups(), settings.runs(), List.of(library, podmanRun));
      return Row.timed(
          NAME,
          "runContainer(true) + await",
          "podman run --rm busybox true",
          s.get(0),
          s.get(1),
          Rotation.describeOrder("L", "P"),
          1.0,
          "Against Podman's Docker-compatible service at "
              + host
              + ": one task at a time, from the call to the observed exit (code 0 checked);"
              + " the library's cleanup() is not timed, while `podman run --rm` (Podman's own"
              + " command line, not the Docker API, whose `--rm` misreports exit codes on Podman)"
              + " includes its removal and the command's start.");
    }
  }

  /**
   * Runs the podman command line, with the service's {@code containers.conf} beside its socket when
   * there is one (as {@code scripts/podman-up.sh} writes it).
   */
  private static int podman(String host, String... args) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder();
    pb.command().add("podman");
    pb.command().addAll(List.of(args));
    if (host.startsWith("unix://")) {
      Path conf = Path.of(host.substring("unix://".length())).resolveSibling("containers.conf");
      if (Files.isRegularFile(conf)) {
        pb.environment().put("CONTAINERS_CONF", conf.toString());
      }
    }
    return pb.redirectOutput(Redirect.DISCARD).redirectError(Redirect.DISCARD).start().waitFor();
  }
}
