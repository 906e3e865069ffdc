package dev.orchestra.spi;

import dev.orchestra.Driver;
import java.util.Map;

/**
 * The service a driver module registers so that {@link dev.orchestra.Orchestra} finds it by name.
 *
 * <p>List the implementation in {@code META-INF/services/dev.orchestra.spi.DriverProvider}. It
 * needs a public no-argument constructor, and constructing it should do nothing expensive: the
 * registry instantiates every provider on the class path on first use.
 */
public interface DriverProvider {

  /**
   * The driver's registry name: lower case, unique on the class path.
   *
   * @return the name, for example {@code "docker"}
   */
  String name();

  /**
   * Opens a driver for the namespace.
   *
   * @param namespace the namespace, already checked by {@link Names#requireNamespace(String)}
   * @param params driver-specific settings (see {@link DriverParams}); never {@code null}
   * @return a new driver
   * @throws IllegalArgumentException if a parameter is unknown or invalid
   * @throws dev.orchestra.OrchestraException if the platform cannot be reached
   */
  Driver create(String namespace, Map<String, String> params);
}
