package dev.orchestra.tck;

import dev.orchestra.Capability;
import dev.orchestra.Driver;
import java.time.Duration;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What both kits, {@link DriverTck} and {@link ReliabilityTck}, ask of the driver under test: the
 * hooks a driver's test class overrides once, whichever kit it extends.
 *
 * <table>
 *   <caption>The hooks of the kits</caption>
 *   <tr><th>hook</th><th>declared in</th><th>used by</th></tr>
 *   <tr><td>{@link #newDriver(String)} (required)</td><td>here</td><td>both kits</td></tr>
 *   <tr><td>{@link #image()}</td><td>here</td><td>both kits</td></tr>
 *   <tr><td>{@link #awaitTimeout()}</td><td>here</td><td>both kits</td></tr>
 *   <tr><td>{@link #testTimeout()}</td><td>here</td><td>both kits</td></tr>
 *   <tr><td>{@link DriverTck#platformVariables()}</td><td>{@link DriverTck}</td>
 *     <td>the contract kit's environment rules</td></tr>
 *   <tr><td>{@link DriverTck#appliedCpuShares}</td><td>{@link DriverTck}</td>
 *     <td>the contract kit's CPU_LIMIT rule</td></tr>
 *   <tr><td>{@link ReliabilityTck#leftovers(String)} (required)</td>
 *     <td>{@link ReliabilityTck}</td><td>every reliability test</td></tr>
 *   <tr><td>{@link ReliabilityTck#removeContainerBehindDriver removeContainerBehindDriver}, {@link
 *     ReliabilityTck#removeVolumeBehindDriver removeVolumeBehindDriver}</td>
 *     <td>{@link ReliabilityTck}</td><td>external interference</td></tr>
 *   <tr><td>{@link ReliabilityTck#platformEndpoint()}, {@link ReliabilityTck#newDriverThrough
 *     newDriverThrough}, {@link ReliabilityTck#unresponsivePlatformBound()}</td>
 *     <td>{@link ReliabilityTck}</td><td>unresponsive platform</td></tr>
 *   <tr><td>{@link ReliabilityTck#driverAreas()}</td><td>{@link ReliabilityTck}</td>
 *     <td>hostile input</td></tr>
 *   <tr><td>{@link ReliabilityTck#loadTasks()}, {@link ReliabilityTck#loadThreads()}</td>
 *     <td>{@link ReliabilityTck}</td><td>load</td></tr>
 *   <tr><td>{@link ReliabilityTck#bigOutputBytes()}</td><td>{@link ReliabilityTck}</td>
 *     <td>big output</td></tr>
 * </table>
 *
 * <p>Each test of either kit runs in a fresh instance of the driver's test class ({@link
 * TestInstance.Lifecycle#PER_METHOD}): the kit calls {@link #newDriver(String)} after the test
 * class's own {@code @BeforeEach} methods, and closes every driver it opened before the test
 * class's own {@code @AfterEach} methods, even when the test fails. Each test method, and each of
 * the kits' and the test class's set-up and tear-down methods, is bounded by {@link
 * #testTimeout()}: a test stuck in a driver call is interrupted and fails with a {@link
 * java.util.concurrent.TimeoutException} whose stack trace shows where it was stuck.
 *
 * <p>Only the two kits extend this class.
 */
@TestInstance(TestInstance.Lifecycle.PER_METHOD)
@ExtendWith(TckTimeoutExtension.class)
public abstract class KitBase {

  /** Only {@link DriverTck} and {@link ReliabilityTck} extend it. */
  KitBase() {}

  /**
   * Opens the driver under test for a namespace. Called at least once per test, with a namespace no
   * other test uses; some tests open several drivers, for one namespace or for several. The kit
   * closes every driver it opened.
   *
   * @param namespace the namespace: a prefix of the kit ({@code tck-} for {@link DriverTck}, {@code
   *     rel-} for {@link ReliabilityTck}), random lower-case letters and digits, and sometimes a
   *     suffix such as {@code -other}
   * @return a new driver for the namespace, never null
   */
  protected abstract Driver newDriver(String namespace);

  /**
   * The image every task of the kits names. Drivers without {@link Capability#IMAGE} ignore it; an
   * image-based driver needs it to hold a POSIX shell and the busybox (or coreutils) commands, and
   * a user {@code nobody} for the {@link Capability#USER} test.
   *
   * @return the image reference; {@code "busybox"} by default
   */
  protected String image() {
    return "busybox";
  }

  /**
   * The most one wait for a task's state may take before the test fails.
   *
   * @return the system property {@code orchestra.tck.await} (ISO-8601 duration or seconds) or 60
   *     seconds
   */
  protected Duration awaitTimeout() {
    return TckSettings.awaitTimeout();
  }

  /**
   * The most one test method (or one {@code @BeforeEach} or {@code @AfterEach} method) may take
   * before it is interrupted and fails.
   *
   * @return the system property {@code orchestra.tck.timeout} (ISO-8601 duration or seconds) or 2
   *     minutes
   */
  protected Duration testTimeout() {
    return TckSettings.testTimeout();
  }
}
