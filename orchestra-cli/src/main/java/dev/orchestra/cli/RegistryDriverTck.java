package dev.orchestra.cli;

import dev.orchestra.Driver;
import dev.orchestra.tck.DriverTck;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The TCK against whichever driver {@code orchestra tck} names, opened through the registry. JUnit
 * creates instances itself, so the command registers the driver's name, parameters and image
 * ({@link #register(String, Map, String)}) and names the registration in the run's configuration
 * parameter {@value #TARGET}: each run tests its own driver, also when several runs share a JVM.
 */
final class RegistryDriverTck extends DriverTck {

  /** The configuration parameter that names a run's registered target. */
  static final String TARGET = "dev.orchestra.cli.tck.target";

  private static final Map<String, Target> TARGETS = new ConcurrentHashMap<>();
  private static final AtomicLong RUNS = new AtomicLong();

  private record Target(DriverTarget driver, Map<String, String> params, String image) {}

  /** Reads the run's target before each test, from the run's own configuration. */
  @RegisterExtension final TargetOfRun run = new TargetOfRun();

  /** Created by JUnit. */
  RegistryDriverTck() {}

  /**
   * Registers the driver that one run of this class tests; {@link #unregister(String)} after it.
   *
   * @param driver the driver's registry name or URI (whose namespace the TCK replaces)
   * @param params the driver's parameters
   * @param image the image for every task, or {@code null} for the TCK's default
   * @return the value of {@value #TARGET} for the run
   */
  static String register(String driver, Map<String, String> params, String image) {
    String key = "run-" + RUNS.incrementAndGet();
    TARGETS.put(key, new Target(DriverTarget.parse(driver), Map.copyOf(params), image));
    return key;
  }

  /** Forgets a run's target. */
  static void unregister(String key) {
    TARGETS.remove(key);
  }

  @Override
  protected Driver newDriver(String namespace) {
    return run.target().driver().open(namespace, run.target().params());
  }

  @Override
  protected String image() {
    String image = run.target().image();
    return image != null ? image : super.image();
  }

  /** The target of the run that executes this instance's tests. */
  static final class TargetOfRun implements BeforeEachCallback {

    private volatile Target target;

    @Override
    public void beforeEach(ExtensionContext context) {
      target = context.getConfigurationParameter(TARGET).map(TARGETS::get).orElse(null);
    }

    Target target() {
      Target t = target;
      if (t == null) {
        throw new IllegalStateException(
            "RegistryDriverTck runs from 'orchestra tck', which names the driver first");
      }
      return t;
    }
  }
}
