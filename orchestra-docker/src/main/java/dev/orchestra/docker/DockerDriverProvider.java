package dev.orchestra.docker;

import dev.orchestra.Driver;
import dev.orchestra.spi.DriverParams;
import dev.orchestra.spi.DriverProvider;
import dev.orchestra.spi.Names;
import java.util.Map;
import java.util.Set;

/**
 * Registers the {@code "docker"} driver with {@link dev.orchestra.Orchestra}.
 *
 * <p>Parameters:
 *
 * <ul>
 *   <li>{@code host}: the engine's address, {@code unix:///var/run/docker.sock} or {@code
 *       tcp://host:2376}; defaults to {@code DOCKER_HOST}, then to the local socket. TLS follows
 *       {@code DOCKER_TLS_VERIFY} and {@code DOCKER_CERT_PATH}.
 *   <li>{@code pull}: {@code missing} (the default: pull only images the engine lacks), {@code
 *       always} or {@code never}.
 * </ul>
 *
 * Opening checks that the engine answers, and fails with an {@link
 * dev.orchestra.OrchestraException} saying where it looked when it does not.
 */
public final class DockerDriverProvider implements DriverProvider {

  /** The registry name of the driver. */
  public static final String NAME = "docker";

  /** The parameter that sets the engine's address. */
  public static final String HOST = "host";

  /** The parameter that sets the pull policy. */
  public static final String PULL = "pull";

  /** Creates the provider; does nothing else (the registry instantiates every provider). */
  public DockerDriverProvider() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Driver create(String namespace, Map<String, String> params) {
    Names.requireNamespace(namespace);
    DriverParams checked = DriverParams.of(NAME, params, Set.of(HOST, PULL));
    PullPolicy pull = checked.get(PULL).map(PullPolicy::parse).orElse(PullPolicy.MISSING);
    return new DockerDriver(namespace, DockerConnection.open(checked.get(HOST)), pull);
  }
}
