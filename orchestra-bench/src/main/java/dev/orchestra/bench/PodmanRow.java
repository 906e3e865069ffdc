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
 * podman --url HOST run --rm}. Where the variable is not set and the default socket does not exist,
 * the row says it was not measured.
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
              + " the library's cleanup() is not timed, while `podman --url "
              + host
              + " run --rm` (Podman's own command line, as a client of the same service, not the"
              + " Docker API, whose `--rm` misreports exit codes on Podman) includes its removal"
              + " and the command's start.");
    }
  }

  /**
   * Runs the podman command line as a client of the service at {@code host} ({@code --url}): the
   * same engine, images and storage as the driver's, whoever runs the benchmark (a user's own
   * {@code podman} would otherwise use its rootless storage, without the image).
   */
  private static int podman(String host, String... args) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder();
    pb.command().addAll(List.of("podman", "--url", host));
    pb.command().addAll(List.of(args));
    return pb.redirectOutput(Redirect.DISCARD).redirectError(Redirect.DISCARD).start().waitFor();
  }
}
