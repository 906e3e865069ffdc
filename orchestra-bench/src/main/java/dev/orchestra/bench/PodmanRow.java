package dev.orchestra.bench;

import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The rows that need Podman's Docker-compatible service ({@code ORCHESTRA_PODMAN_HOST}, by default
 * the socket {@code scripts/podman-up.sh} starts): one task through the driver against {@code
 * podman --url HOST run --rm}, and against the one-socket floor on the same service. Where the
 * variable is not set and the default socket does not exist, the row says it was not measured.
 */
final class PodmanRow {

  private static final String NAME = "podman one task";
  private static final String DEFAULT_HOST = "unix:///run/orchestra-podman/podman.sock";

  /** The log configuration the driver asks Podman for, as JSON: json-file, without options. */
  private static final String PODMAN_LOG_CONFIG = "{\"Type\":\"json-file\",\"Config\":{}}";

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
    return Files.exists(UnixSockets.socketOf(DEFAULT_HOST).orElseThrow())
        ? Optional.of(DEFAULT_HOST)
        : Optional.empty();
  }

  /**
   * One {@code true} task at a time until observed done, against {@code podman run --rm} and, where
   * the service listens on a Unix socket, against the one-socket floor on the same service; rows
   * that say they were not measured when there is no service ({@link #host()}).
   */
  List<Row> latency() throws Exception {
    Optional<String> given = host();
    if (given.isEmpty()) {
      return List.of(
          Row.notMeasured(
              NAME,
              "Not measured in this run: it needs Podman's Docker-compatible service, given as"
                  + " ORCHESTRA_PODMAN_HOST or started by scripts/podman-up.sh at "
                  + DEFAULT_HOST
                  + "."));
    }
    String host = given.get();
    String ns = DockerRows.freshNamespace();
    Optional<Path> socket = UnixSockets.socketOf(host);
    Optional<EngineClient> floorClient =
        socket.isPresent() ? Optional.of(new EngineClient(socket.get())) : Optional.empty();
    try (Driver driver = Orchestra.open("docker", ns, Map.of("host", host))) {
      List<Rotation.Trial> trials = new ArrayList<>();
      trials.add(DockerRows.oneTask(driver, settings.image(), "podman-", "library on Podman"));
      trials.add(
          DockerRows.timedCommand(
              "podman run --rm", () -> podman(host, "run", "--rm", settings.image(), "true")));
      floorClient.ifPresent(
          floor ->
              trials.add(
                  DockerRows.floorTrial(
                      floor,
                      ns,
                      DockerRows.floorCreateBody(settings.image(), ns, PODMAN_LOG_CONFIG))));
      List<Samples> s = Rotation.run(settings.warmups(), settings.quickRuns(), trials);
      String order =
          floorClient.isPresent()
              ? Rotation.describeOrder("L", "P", "F")
              : Rotation.describeOrder("L", "P");
      Row row =
          Row.timed(
              NAME,
              "runContainer(true) + await",
              "podman run --rm busybox true",
              s.get(0),
              s.get(1),
              order,
              1.0,
              "Against Podman's Docker-compatible service at "
                  + host
                  + ": one task at a time, from the call to the observed exit (code 0 checked);"
                  + " the library's cleanup() is not timed, while `podman --url "
                  + host
                  + " run --rm` (Podman's own command line, as a client of the same service, not"
                  + " the Docker API, whose `--rm` misreports exit codes on Podman) includes its"
                  + " removal and the command's start.");
      if (floorClient.isEmpty()) {
        return List.of(row);
      }
      Row floorRow =
          Row.timed(
              NAME + " floor",
              "runContainer(true) + await",
              "create, start, wait on one socket",
              s.get(0),
              s.get(2),
              order,
              1.05,
              "The Podman floor: the latency floor's minimal HTTP/1.1 client on one kept-alive"
                  + " connection to the same service, with the configuration the driver sends to"
                  + " Podman (labels, init, the json-file log driver, working directory): POST"
                  + " /containers/create, POST .../start, POST .../wait; removal not timed. The"
                  + " three contenders of the two Podman rows take turns in one rotation (L the"
                  + " library, P `podman run --rm`, F the floor).");
      return List.of(row.judgedAgainst(floorRow, 1.0), floorRow);
    } finally {
      if (floorClient.isPresent()) {
        floorClient.get().close();
      }
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
