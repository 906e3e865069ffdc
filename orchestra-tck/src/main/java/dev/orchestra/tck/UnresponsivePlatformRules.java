package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.Driver;
import dev.orchestra.OrchestraException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A platform that stops answering: every call ends within {@link
 * ReliabilityTck#unresponsivePlatformBound()}, and once the platform answers again nothing is left.
 */
abstract class UnresponsivePlatformRules extends ReliabilityRules {

  private static final Logger LOG = LoggerFactory.getLogger(ReliabilityTck.class);

  /** The drivers the test opened through the proxy. */
  private final List<Driver> proxied = new ArrayList<>();

  UnresponsivePlatformRules(ReliabilityTck kit) {
    super(kit);
  }

  @Test
  @DisplayName(
      "with the platform accepting connections and never answering, runContainer, status, logs,"
          + " await, cleanup, createVolume and close each end within the bound (with an"
          + " OrchestraException where the platform must act); once it answers again, a driver's"
          + " close() leaves nothing")
  void unansweredRequests() throws IOException {
    try (FaultProxy proxy = proxyToPlatform()) {
      try {
        unansweredRequests(proxy);
      } finally {
        passAndCloseProxied(proxy);
      }
    }
  }

  private void unansweredRequests(FaultProxy proxy) {
    String namespace = newNamespace();
    Driver driver = openThrough(namespace, proxy);
    Container sleeper = driver.runContainer(task("sleeper", "sleep", "300").build());
    Container done = driver.runContainer(task("done", "echo", "hi").build());
    assertThat(awaitDone(done).exitCode()).as("exit code of a task before the stall").isZero();
    driver.createVolume("kept", 0);
    proxy.mode(FaultProxy.Mode.UNANSWERED);

    Duration bound = kit.unresponsivePlatformBound();
    Duration awaited = Duration.ofSeconds(1);
    SoftAssertions softly = new SoftAssertions();
    // The platform must act on these: they cannot succeed while it does not answer.
    Map<String, Callable<?>> acting = new LinkedHashMap<>();
    acting.put(
        "runContainer of a new task",
        () -> driver.runContainer(task("new", "echo", "never").build()));
    acting.put("createVolume of a new volume", () -> driver.createVolume("new-volume", 0));
    acting.put("cleanup() of a running task", () -> call(sleeper::cleanup));
    // These may answer from what the driver knows.
    Map<String, Callable<?>> reading = new LinkedHashMap<>();
    reading.put("status() of a running task", sleeper::status);
    reading.put(
        "logs() of a finished task",
        () -> call(() -> done.logs(new ByteArrayOutputStream(), new ByteArrayOutputStream())));
    reading.forEach((name, c) -> checkStalled(softly, name, bound, c, false));
    checkStalled(
        softly, "await(" + awaited + ")", bound.plus(awaited), () -> sleeper.await(awaited), false);
    acting.forEach((name, c) -> checkStalled(softly, name, bound, c, true));
    checkStalled(softly, "close()", bound, () -> call(driver::close), true);

    proxy.mode(FaultProxy.Mode.PASS);
    within(
        "close() of a new driver of the namespace once the platform answers again",
        () -> call(open(namespace)::close));
    softly.assertAll();
  }

  @Test
  @DisplayName(
      "a follow() whose stream freezes mid-way (nothing forwarded either way, connections kept"
          + " open) ends within the bound, returning or with an OrchestraException; once the"
          + " platform answers again, a driver's close() leaves nothing")
  void frozenFollow() throws Exception {
    try (FaultProxy proxy = proxyToPlatform()) {
      try {
        frozenFollow(proxy);
      } finally {
        passAndCloseProxied(proxy);
      }
    }
  }

  private void frozenFollow(FaultProxy proxy) throws Exception {
    String namespace = newNamespace();
    Driver driver = openThrough(namespace, proxy);
    Assumptions.assumeTrue(
        driver.capabilities().contains(Capability.FOLLOW),
        () -> "driver '" + driver.name() + "' does not declare capability FOLLOW");
    Container ticker =
        driver.runContainer(task("ticker", sh("while :; do echo tick; sleep 0.2; done")).build());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Background<Void> followed =
        inBackground("follow()", () -> call(() -> ticker.follow(out, new ByteArrayOutputStream())));
    awaitAtMost("follow() to deliver the task's first line").until(() -> out.size() > 0);
    proxy.mode(FaultProxy.Mode.FROZEN);

    Duration bound = kit.unresponsivePlatformBound();
    Throwable thrown =
        followed.thrown(
            bound, () -> "follow() still blocks " + bound + " after its stream froze mid-way");
    if (thrown != null) {
      assertThat(isClear(thrown))
          .as("follow() of a frozen stream threw %s", describe(thrown))
          .isTrue();
    }
    proxy.mode(FaultProxy.Mode.PASS);
    within("close() once the platform answers again", () -> call(driver::close));
  }

  /**
   * Lets the platform answer again and closes the drivers opened through the proxy while it still
   * runs (the tear-down does not close them again: the proxy is gone by then); the test has closed
   * a driver of each namespace opened without the proxy, and the tear-down checks what is left.
   */
  private void passAndCloseProxied(FaultProxy proxy) {
    proxy.mode(FaultProxy.Mode.PASS);
    for (Driver d : proxied) {
      dontCloseAfterTest(d);
      try {
        within("close() of a driver opened through the proxy", () -> call(d::close));
      } catch (RuntimeException e) {
        LOG.warn("closing a driver opened through the proxy failed: {}", describe(e));
      }
    }
    proxied.clear();
  }

  /**
   * Runs a call against the stalled platform: it must end within the bound, and may throw only an
   * {@link OrchestraException}; one the platform must act on must throw it.
   */
  private void checkStalled(
      SoftAssertions softly, String name, Duration bound, Callable<?> call, boolean mustFail) {
    long start = System.nanoTime();
    Throwable thrown = catchThrowable(() -> within(bound, name + " on a stalled platform", call));
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    LOG.info("{} on a stalled platform ended after {}: {}", name, took, describe(thrown));
    if (thrown instanceof AssertionError stuck) {
      softly.fail(stuck.getMessage(), stuck);
      return;
    }
    if (mustFail || thrown != null) {
      softly
          .assertThat(isClear(thrown))
          .as(
              "%s on a platform that does not answer threw %s, not an OrchestraException",
              name, describe(thrown))
          .isTrue();
    }
  }

  private FaultProxy proxyToPlatform() throws IOException {
    Optional<InetSocketAddress> endpoint = kit.platformEndpoint();
    Assumptions.assumeTrue(
        endpoint.isPresent(),
        "the driver cannot be put behind a proxy: its test does not override"
            + " platformEndpoint() and newDriverThrough()");
    return FaultProxy.start(endpoint.get());
  }

  private Driver openThrough(String namespace, FaultProxy proxy) {
    Optional<Driver> driver = kit.newDriverThrough(namespace, proxy.address());
    Assumptions.assumeTrue(
        driver.isPresent(),
        "the driver cannot be put behind a proxy: its test does not override"
            + " newDriverThrough()");
    closeAfterTest(driver.get());
    proxied.add(driver.get());
    return driver.get();
  }
}
