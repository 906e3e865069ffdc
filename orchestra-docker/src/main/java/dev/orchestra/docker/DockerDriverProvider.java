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
 * <p>Its parameters are {@value #HOST}, {@value #ENGINE}, {@value #PULL}, {@value #REQUEST_TIMEOUT}
 * and {@value #VOLUME_HELPER_IMAGE}, and for an {@code ssh://} host {@value #KNOWN_HOSTS}, {@value
 * #STRICT_HOST_KEY_CHECKING}, {@value #IDENTITY_FILE}, {@value #IDENTITY_PASSPHRASE} and {@value
 * #SSH_CONFIG}; opening the driver checks that the engine answers, and fails with an {@link
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
   * {@code auto} (the default: detected from the engine's {@code GET /_ping}).
   */
  public static final String ENGINE = "engine";

  /**
   * The parameter that names the image of the helper container that copies volume data (default
   * {@code busybox}); it must be present on the engine: it is never pulled, nor run.
   */
  public static final String VOLUME_HELPER_IMAGE = "volumeHelperImage";

  /** The parameter that names the {@code known_hosts} file of an {@code ssh://} host. */
  public static final String KNOWN_HOSTS = "knownHosts";

  /** The parameter that turns host key checking of an {@code ssh://} host off: {@code no}. */
  public static final String STRICT_HOST_KEY_CHECKING = "strictHostKeyChecking";

  /** The parameter that names the private key to log in to an {@code ssh://} host with. */
  public static final String IDENTITY_FILE = "identityFile";

  /** The parameter that holds the passphrase of the private keys; a secret, never shown. */
  public static final String IDENTITY_PASSPHRASE = "identityPassphrase";

  /** The parameter that names the OpenSSH client configuration to read instead of ~/.ssh/config. */
  public static final String SSH_CONFIG = "sshConfig";

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
        DriverParams.of(
            NAME,
            params,
            Set.of(
                HOST,
                ENGINE,
                PULL,
                REQUEST_TIMEOUT,
                KNOWN_HOSTS,
                STRICT_HOST_KEY_CHECKING,
                IDENTITY_FILE,
                IDENTITY_PASSPHRASE,
                SSH_CONFIG,
                VOLUME_HELPER_IMAGE));
    PullPolicy pull = checked.get(PULL).map(PullPolicy::parse).orElse(PullPolicy.MISSING);
    Duration requestTimeout = requestTimeout(checked);
    Optional<EngineFlavour> engine = checked.get(ENGINE).flatMap(EngineFlavour::parse);
    SshTarget.Params ssh =
        new SshTarget.Params(
            checked.get(KNOWN_HOSTS),
            checked.get(STRICT_HOST_KEY_CHECKING),
            checked.get(IDENTITY_FILE),
            checked.get(IDENTITY_PASSPHRASE),
            checked.get(SSH_CONFIG));
    String helperImage =
        checked.get(VOLUME_HELPER_IMAGE).orElse(DockerVolumeData.DEFAULT_HELPER_IMAGE).strip();
    if (helperImage.isEmpty()) {
      throw new IllegalArgumentException(
          "parameter '" + VOLUME_HELPER_IMAGE + "' of driver '" + NAME + "' must not be blank");
    }
    return new DockerDriver(
        namespace,
        DockerConnection.open(checked.get(HOST), requestTimeout, ssh, engine),
        pull,
        helperImage);
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
