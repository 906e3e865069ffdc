package dev.orchestra.local;

import dev.orchestra.Driver;
import dev.orchestra.spi.DriverProvider;
import java.util.Map;

/**
 * Registers the driver {@code "local"}: each task runs as an operating-system process on this
 * machine, as this JVM's user. It needs nothing installed and is the embedded default.
 *
 * <pre>{@code
 * try (Driver driver = Orchestra.open("local", "build-42")) { ... }
 * try (Driver driver = Orchestra.open("local://build-42?root=/var/ci")) { ... }
 * }</pre>
 *
 * <p>Its one parameter, {@code root}, is the directory under which namespaces live. What the driver
 * does is described once, on its page in the repository, {@code docs/drivers/local.md} (<a
 * href="https://github.com/orchestra-java/orchestra/blob/main/docs/drivers/local.md">online</a>):
 * the parameter, the layout on disk, the task lifecycle, what {@code cleanup()} and {@code close()}
 * remove, its capabilities and what it cannot do. The contract it keeps is the Javadoc of {@link
 * Driver}.
 */
public final class LocalDriverProvider implements DriverProvider {

  /** Creates the provider; {@link java.util.ServiceLoader} calls this. */
  public LocalDriverProvider() {}

  /**
   * The registry name.
   *
   * @return {@code "local"}
   */
  @Override
  public String name() {
    return LocalDriver.NAME;
  }

  /**
   * Opens the local driver for a namespace, creating the root directory if missing.
   *
   * @param namespace the namespace
   * @param params at most {@code root}
   * @return a new driver
   * @throws IllegalArgumentException if a parameter is unknown (the message lists {@code root}) or
   *     {@code root} is not a valid path
   * @throws dev.orchestra.OrchestraException if the root directory cannot be created
   */
  @Override
  public Driver create(String namespace, Map<String, String> params) {
    return LocalDriver.open(namespace, params);
  }
}
