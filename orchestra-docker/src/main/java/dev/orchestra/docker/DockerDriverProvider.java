package dev.orchestra.docker;

import dev.orchestra.Driver;
import dev.orchestra.spi.DriverParams;
import dev.orchestra.spi.DriverProvider;
import dev.orchestra.spi.Names;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Registers the {@code "docker"} driver with {@link dev.orchestra.Orchestra}: every task a
 * container on a Docker engine, local or remote.
 *
 * <pre>{@code
 * try (Driver docker = Orchestra.open("docker", "build-42")) { ... }
 * try (Driver docker = Orchestra.open("docker://build-42?host=tcp://10.0.0.5:2376&pull=never")) { ... }
 * }</pre>
 *
 * <p>Its parameters are {@value #HOST}, {@value #ENGINE}, {@value #PULL} and {@value
 * #REQUEST_TIMEOUT}; opening the driver checks that the engine answers, and fails with an {@link
 * dev.orchestra.OrchestraException} saying where it looked when it does not. What the driver does
 * is described once, on its page in the repository, {@code docs/drivers/docker.md} (<a
 * href="https://github.com/orchestra-java/orchestra/blob/main/docs/drivers/docker.md">online</a>):
 * the connection and the parameters, an engine that restarts or stops answering, names and labels,
 * tasks, logs, the task lifecycle, cleanup, capabilities and what some machines cannot do. The
 * contract it keeps is the Javadoc of {@link Driver}.
 */
public final class DockerDriverProvider implements DriverProvider {

  /** The registry name of the driver. */
  public static final String NAME = "docker";

  /** The parameter that sets the engine's address. */
  public static final String HOST = "host";

  /** The parameter that sets the pull policy. */
  public static final String PULL = "pull";

  /** The parameter that bounds each request that is not a stream. */
  public static final String REQUEST_TIMEOUT = "requestTimeout";

  /**
   * The parameter that names the engine behind {@value #HOST}: {@code docker}, {@code podman}, or
   * {@code auto} (the default: detected from the engine's {@code GET /version}).
   */
  public static final String ENGINE = "engine";

  private static final Duration SHORTEST_REQUEST_TIMEOUT = Duration.ofMillis(1);
  private static final Duration LONGEST_REQUEST_TIMEOUT = Duration.ofHours(24);

  /** Creates the provider; does nothing else (the registry instantiates every provider). */
  public DockerDriverProvider() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Driver create(String namespace, Map<String, String> params) {
    Names.requireNamespace(namespace);
    DriverParams checked =
        DriverParams.of(NAME, params, Set.of(HOST, ENGINE, PULL, REQUEST_TIMEOUT));
    PullPolicy pull = checked.get(PULL).map(PullPolicy::parse).orElse(PullPolicy.MISSING);
    Duration requestTimeout = requestTimeout(checked);
    Optional<EngineFlavour> engine = checked.get(ENGINE).flatMap(EngineFlavour::parse);
    return new DockerDriver(
        namespace, DockerConnection.open(checked.get(HOST), requestTimeout, engine), pull);
  }

  private static Duration requestTimeout(DriverParams params) {
    Duration timeout =
        params.getDuration(REQUEST_TIMEOUT).orElse(DockerConnection.DEFAULT_REQUEST_TIMEOUT);
    if (timeout.compareTo(SHORTEST_REQUEST_TIMEOUT) < 0
        || timeout.compareTo(LONGEST_REQUEST_TIMEOUT) > 0) {
      throw new IllegalArgumentException(
          "parameter '"
              + REQUEST_TIMEOUT
              + "' of driver '"
              + NAME
              + "' must be from "
              + SHORTEST_REQUEST_TIMEOUT
              + " to "
              + LONGEST_REQUEST_TIMEOUT
              + ", was '"
              + params.get(REQUEST_TIMEOUT).orElse("")
              + "'");
    }
    return timeout;
  }
}
