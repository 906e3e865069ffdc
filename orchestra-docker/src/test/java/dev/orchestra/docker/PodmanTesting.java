package dev.orchestra.docker;

import com.github.dockerjava.api.DockerClient;
import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import dev.orchestra.OrchestraException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What the tests on Podman share: where its Docker-compatible service listens ({@value #HOST_ENV},
 * by default the socket {@code scripts/podman-up.sh} starts), drivers on it, a client of it.
 */
final class PodmanTesting {

  /** The environment variable that gives the service's address, {@code unix:///path}. */
  static final String HOST_ENV = "ORCHESTRA_PODMAN_HOST";

  /** Where {@code scripts/podman-up.sh} starts the service. */
  static final String DEFAULT_HOST = "unix:///run/orchestra-podman/podman.sock";

  private static DockerConnection engine;
  private static boolean probed;
  private static String unavailable;

  private PodmanTesting() {}

  /** The service's address. */
  static String host() {
    String host = System.getenv(HOST_ENV);
    return host == null || host.isBlank() ? DEFAULT_HOST : host.strip();
  }

  /** The service's unix socket. */
  static Path socket() {
    return Path.of(host().substring("unix://".length()));
  }

  /**
   * A driver on Podman, at {@link #host()} unless {@code params} give another address (the kit's
   * proxy in front of it); the engine is detected, as a user's would be.
   */
  static Driver open(String namespace, Map<String, String> params) {
    Map<String, String> all = new HashMap<>(params);
    all.putIfAbsent(DockerDriverProvider.HOST, host());
    return Orchestra.open("docker", TestNamespaces.record(namespace), all);
  }

  /** A client of Podman for looking behind the driver's back. Lives as long as the JVM. */
  static synchronized DockerClient engine() {
    if (engine == null) {
      engine = DockerConnection.open(Optional.of(host()));
    }
    return engine.api();
  }

  /** Why the tests cannot use Podman, or {@code null} when its service answers. Once per JVM. */
  static synchronized String unavailableReason() {
    if (!probed) {
      probed = true;
      if (!host().startsWith("unix://")) {
        unavailable = HOST_ENV + " must be a unix:// address, was '" + host() + "'";
        return unavailable;
      }
      try (DockerConnection c = DockerConnection.open(Optional.of(host()))) {
        unavailable =
            c.flavour() == EngineFlavour.PODMAN
                ? null
                : "the engine at " + host() + " is not Podman (its /_ping names no Libpod)";
      } catch (OrchestraException | IllegalArgumentException e) {
        unavailable =
            "no Podman service: "
                + e.getMessage()
                + " (start one with scripts/podman-up.sh, or set "
                + HOST_ENV
                + ")";
      }
    }
    return unavailable;
  }
}
