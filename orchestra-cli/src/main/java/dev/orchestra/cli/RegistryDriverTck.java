package dev.orchestra.cli;

import dev.orchestra.Driver;
import dev.orchestra.tck.DriverTck;
import java.util.Map;

/**
 * The TCK against whichever driver {@code orchestra tck} names, opened through the registry. JUnit
 * creates instances itself, so the command hands over the driver's name, parameters and image
 * through {@link #use(String, Map, String)} before it launches the run.
 */
final class RegistryDriverTck extends DriverTck {

  private static volatile Target target;

  private record Target(DriverTarget driver, Map<String, String> params, String image) {}

  /** Created by JUnit. */
  RegistryDriverTck() {}

  /**
   * Chooses the driver that the next runs of this class test.
   *
   * @param driver the driver's registry name or URI (whose namespace the TCK replaces)
   * @param params the driver's parameters
   * @param image the image for every task, or {@code null} for the TCK's default
   */
  static void use(String driver, Map<String, String> params, String image) {
    target = new Target(DriverTarget.parse(driver), Map.copyOf(params), image);
  }

  @Override
  protected Driver newDriver(String namespace) {
    return target().driver().open(namespace, target().params());
  }

  @Override
  protected String image() {
    String image = target().image();
    return image != null ? image : super.image();
  }

  private static Target target() {
    Target t = target;
    if (t == null) {
      throw new IllegalStateException(
          "RegistryDriverTck runs from 'orchestra tck', which names the driver first");
    }
    return t;
  }
}
