package dev.orchestra.bench;

import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import dev.orchestra.Task;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The row that needs Podman's Docker-compatible service ({@code ORCHESTRA_PODMAN_HOST}, by default
 * the socket {@code scripts/podman-up.sh} starts): one task through the driver against {@code
 * podman run --rm}.
 */
final class PodmanRow {

  private static final Duration PATIENCE = Duration.ofMinutes(5);
  private static final String DEFAULT_HOST = "unix:///run/orchestra-podman/podman.sock";

  private final Settings settings;

  PodmanRow(Settings settings) {
    this.settings = settings;
  }

  /** Where the service listens. */
  static String host() {
    String host = System.getenv("ORCHESTRA_PODMAN_HOST");
    return host == null || host.isBlank() ? DEFAULT_HOST : host.strip();
  }

  /** One {@code true} task at a time until observed done, against {@code podman run --rm}. */
  Row oneTask() throws Exception {
    try (Driver driver =
        Orchestra.open("docker", DockerRows.freshNamespace(), Map.of("host", host()))) {
      Rotation.Trial library =
          round -> {
            long t0 = System.nanoTime();
            Container c =
                driver.runContainer(
                    Task.builder()
                        .id("podman-" + round)
                        .image(settings.image())
                        .command("true")
                        .build());
            ContainerStatus s = c.await(PATIENCE);
            long t1 = System.nanoTime();
            DockerRows.requireExit(0, s, "library on Podman");
            c.cleanup();
            return t1 - t0;
          };
      Rotation.Trial podmanRun =
          round -> {
            long t0 = System.nanoTime();
            int code = podman("run", "--rm", settings.image(), "true");
            long t1 = System.nanoTime();
            DockerRows.requireExit(0, code, "podman run --rm");
            return t1 - t0;
          };
      List<List<Long>> s =
          Rotation.run(settings.warmups(), settings.runs(), List.of(library, podmanRun));
      return Row.timed(
          "podman one task",
          "runContainer(true) + await",
          "podman run --rm busybox true",
          s.get(0),
          s.get(1),
          1.0,
          "Against Podman's Docker-compatible service at "
              + host()
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
  private static int podman(String... args) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder();
    pb.command().add("podman");
    pb.command().addAll(List.of(args));
    if (host().startsWith("unix://")) {
      Path conf = Path.of(host().substring("unix://".length())).resolveSibling("containers.conf");
      if (Files.isRegularFile(conf)) {
        pb.environment().put("CONTAINERS_CONF", conf.toString());
      }
    }
    return pb.redirectOutput(Redirect.DISCARD).redirectError(Redirect.DISCARD).start().waitFor();
  }
}
