package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectNestedClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectNestedMethod;

import dev.orchestra.Capability;
import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import dev.orchestra.tck.BrokenDrivers.AbsoluteMountElsewhere;
import dev.orchestra.tck.BrokenDrivers.BrokenTck;
import dev.orchestra.tck.BrokenDrivers.CapabilitiesOverclaimed;
import dev.orchestra.tck.BrokenDrivers.CleanupNoOp;
import dev.orchestra.tck.BrokenDrivers.CloseNoOp;
import dev.orchestra.tck.BrokenDrivers.ClosePrefixMatching;
import dev.orchestra.tck.BrokenDrivers.Correct;
import dev.orchestra.tck.BrokenDrivers.EnvDropsEmpty;
import dev.orchestra.tck.BrokenDrivers.EnvLeaksCaller;
import dev.orchestra.tck.BrokenDrivers.ExitCodeAlwaysZero;
import dev.orchestra.tck.BrokenDrivers.FoldingIds;
import dev.orchestra.tck.BrokenDrivers.InterruptSwallowed;
import dev.orchestra.tck.BrokenDrivers.LogsDropLastByte;
import dev.orchestra.tck.BrokenDrivers.LogsOnlyAfterExit;
import dev.orchestra.tck.BrokenDrivers.LogsSwapped;
import dev.orchestra.tck.BrokenDrivers.NoCapabilities;
import dev.orchestra.tck.BrokenDrivers.NotIdempotent;
import dev.orchestra.tck.BrokenDrivers.StatusFlickers;
import dev.orchestra.tck.BrokenDrivers.StatusHangs;
import dev.orchestra.tck.BrokenDrivers.StatusNeverDone;
import dev.orchestra.tck.BrokenDrivers.StdinDropped;
import dev.orchestra.tck.BrokenDrivers.VolumeCleanupNoOp;
import dev.orchestra.tck.BrokenDrivers.VolumeEscape;
import dev.orchestra.tck.BrokenDrivers.VolumePlatformName;
import dev.orchestra.tck.BrokenDrivers.WorkDirIgnored;
import dev.orchestra.tck.DriverTck.BadInput;
import dev.orchestra.tck.DriverTck.Capabilities;
import dev.orchestra.tck.DriverTck.Cleanup;
import dev.orchestra.tck.DriverTck.Close;
import dev.orchestra.tck.DriverTck.Concurrency;
import dev.orchestra.tck.DriverTck.Environment;
import dev.orchestra.tck.DriverTck.ExitCodes;
import dev.orchestra.tck.DriverTck.HappyPath;
import dev.orchestra.tck.DriverTck.Interruption;
import dev.orchestra.tck.DriverTck.Logs;
import dev.orchestra.tck.DriverTck.Mounts;
import dev.orchestra.tck.DriverTck.Stdin;
import dev.orchestra.tck.DriverTck.TaskDirectory;
import dev.orchestra.tck.DriverTck.Volumes;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;
import org.junit.platform.testkit.engine.Events;

/**
 * The TCK tested against the local driver, correct and deliberately broken: a broken driver must
 * fail the tests of the rule it breaks, a correct one must pass, and a missing capability must be
 * reported as skipped with the reason.
 */
class DriverTckSelfTest {

  /**
   * Each broken driver with the group it must fail and the tests of that group that must fail. Most
   * cases run the whole group; those whose failures are slow timeouts run only the tests expected
   * to fail.
   */
  static Stream<Arguments> brokenDrivers() {
    return Stream.of(
        group(
            ExitCodeAlwaysZero.class,
            ExitCodes.class,
            "failureIsDoneAndStaysExact",
            "exactExitCode",
            "killedBySignal"),
        only(StatusNeverDone.class, ExitCodes.class, "failureIsDoneAndStaysExact"),
        group(StatusFlickers.class, ExitCodes.class, "failureIsDoneAndStaysExact"),
        group(
            LogsSwapped.class,
            Logs.class,
            "streamsKeptApart",
            "megabyteLogsExact",
            "partialLastLineKept",
            "logsRepeatable",
            "logsWhileRunning"),
        group(
            LogsDropLastByte.class,
            Logs.class,
            "streamsKeptApart",
            "megabyteLogsExact",
            "binarySafe",
            "partialLastLineKept",
            "logsRepeatable",
            "logsWhileRunning"),
        only(LogsOnlyAfterExit.class, Logs.class, "logsWhileRunning"),
        group(EnvLeaksCaller.class, Environment.class, "callerEnvironmentAbsent"),
        group(EnvDropsEmpty.class, Environment.class, "givenVariablesExact"),
        group(
            StdinDropped.class,
            Stdin.class,
            "bytesThenEndOfFile",
            "megabytesExact",
            "stringIsUtf8"),
        group(NotIdempotent.class, HappyPath.class, "sameTaskIdSameContainerOneRun"),
        group(NotIdempotent.class, Concurrency.class, "manyThreadsOneRun", "twoInstancesOneRun"),
        group(
            CloseNoOp.class,
            Close.class,
            "closeRemovesEverything",
            "closeStopsRunningTask",
            "closedDriverRefusesWork"),
        group(ClosePrefixMatching.class, Close.class, "closeSparesOtherNamespaces"),
        group(VolumeCleanupNoOp.class, Volumes.class, "cleanupDeletesData"),
        group(VolumePlatformName.class, Volumes.class, "nameIsCallersName", "createAgainKeepsData"),
        only(
            CleanupNoOp.class, Cleanup.class, "cleanupStopsRunningTask", "cleanupStopsProcessTree"),
        group(CleanupNoOp.class, HappyPath.class, "cleanupFreesTheTaskId"),
        group(FoldingIds.class, BadInput.class, "foldedTaskIdsDistinct"),
        group(VolumeEscape.class, BadInput.class, "volumeNameEscapeRefused"),
        group(
            WorkDirIgnored.class,
            TaskDirectory.class,
            "workDirIsInsideTaskDirectory",
            "workDirCreated",
            "workDirIsMount",
            "workDirInsideMount"),
        group(AbsoluteMountElsewhere.class, Mounts.class, "absoluteAndRelativeSame"),
        group(InterruptSwallowed.class, Interruption.class, "interruptFlagKept"),
        group(CapabilitiesOverclaimed.class, Capabilities.class, "user", "missingImage"));
  }

  /** Runs the whole group; the named tests must be among its failures. */
  private static Arguments group(
      Class<? extends BrokenTck> tck, Class<?> group, String... mustFail) {
    return arguments(tck, group, mustFail, List.of(selectNestedClass(List.of(tck), group)));
  }

  /** Runs only the named tests of the group (not parameterized ones), which must all fail. */
  private static Arguments only(
      Class<? extends BrokenTck> tck, Class<?> group, String... mustFail) {
    List<DiscoverySelector> selectors =
        Stream.of(mustFail)
            .<DiscoverySelector>map(m -> selectNestedMethod(List.of(tck), group, m))
            .toList();
    return arguments(tck, group, mustFail, selectors);
  }

  private static Arguments arguments(
      Class<? extends BrokenTck> tck,
      Class<?> group,
      String[] mustFail,
      List<DiscoverySelector> selectors) {
    return Arguments.of(
        Named.of(tck.getSimpleName(), tck),
        Named.of(group.getSimpleName(), group),
        new TreeSet<>(Set.of(mustFail)),
        selectors);
  }

  @ParameterizedTest(name = "{0} fails {2} of {1}")
  @MethodSource("brokenDrivers")
  @DisplayName("a broken driver fails the tests of the rule it breaks")
  void brokenDriverFails(
      Class<? extends BrokenTck> tck,
      Class<?> group,
      Set<String> mustFail,
      List<DiscoverySelector> selectors) {
    Events tests = run(tck, selectors);

    assertThat(methodNames(tests.failed()))
        .as(
            "failed tests of %s in group %s (%s)",
            tck.getSimpleName(), group.getSimpleName(), summary(tests))
        .containsAll(mustFail);
  }

  @Test
  @DisplayName(
      "the correct driver behind a forwarding decorator passes every group; only its"
          + " missing capabilities are skipped")
  void correctDriverPasses() {
    Events tests = run(Correct.class, selectClass(Correct.class));

    assertThat(tests.failed().count()).as("failed tests (%s)", summary(tests)).isZero();
    assertThat(methodNames(tests.aborted()))
        .as("skipped tests")
        .containsExactlyInAnyOrderElementsOf(capabilityTestsOf(missingCapabilities()));
    assertThat(tests.succeeded().count()).as("passed tests").isGreaterThan(50);
  }

  @Test
  @DisplayName("the tests of a capability the driver lacks are reported as skipped with the reason")
  void missingCapabilitySkippedVisibly() {
    Events tests =
        run(
            NoCapabilities.class,
            selectNestedClass(List.of(NoCapabilities.class), Capabilities.class));

    assertThat(tests.succeeded().count()).as("passed capability tests").isZero();
    assertThat(tests.failed().count()).as("failed capability tests (%s)", summary(tests)).isZero();
    List<String> reasons =
        tests.aborted().stream()
            .map(e -> e.getRequiredPayload(TestExecutionResult.class).getThrowable())
            .map(t -> t.map(Throwable::getMessage).orElse("no reason"))
            .toList();
    assertThat(reasons).as("reasons of the skipped tests").hasSize(Capability.values().length);
    for (Capability c : Capability.values()) {
      assertThat(reasons)
          .as("reasons of the skipped tests")
          .anySatisfy(
              r -> assertThat(r).endsWith("driver 'local' does not declare capability " + c));
    }
  }

  @Test
  @DisplayName("a test stuck in a driver call fails with a TimeoutException at the test timeout")
  void stuckTestTimesOut() {
    Events tests =
        run(
            StatusHangs.class,
            selectNestedMethod(List.of(StatusHangs.class), HappyPath.class, "echoPrintsToStdout"));

    assertThat(tests.failed().count()).as("failed tests (%s)", summary(tests)).isEqualTo(1);
    Throwable failure =
        tests.failed().stream()
            .findFirst()
            .flatMap(e -> e.getRequiredPayload(TestExecutionResult.class).getThrowable())
            .orElseThrow();
    assertThat(failure)
        .isInstanceOf(TimeoutException.class)
        .hasMessageContaining(TckSettings.TIMEOUT_PROPERTY);
  }

  private static Events run(Class<? extends BrokenTck> tck, DiscoverySelector... selectors) {
    return run(tck, List.of(selectors));
  }

  private static Events run(Class<? extends BrokenTck> tck, List<DiscoverySelector> selectors) {
    try {
      return EngineTestKit.engine("junit-jupiter")
          .selectors(selectors.toArray(DiscoverySelector[]::new))
          .execute()
          .testEvents();
    } finally {
      BrokenTck.closeRealDrivers(tck);
    }
  }

  private static Set<String> methodNames(Events events) {
    return events.stream()
        .map(e -> e.getTestDescriptor().getSource())
        .flatMap(s -> s.stream())
        .filter(org.junit.platform.engine.support.descriptor.MethodSource.class::isInstance)
        .map(s -> ((org.junit.platform.engine.support.descriptor.MethodSource) s).getMethodName())
        .collect(Collectors.toCollection(TreeSet::new));
  }

  private static String summary(Events events) {
    return events.stream()
        .filter(e -> e.getPayload(TestExecutionResult.class).isPresent())
        .map(DriverTckSelfTest::describe)
        .collect(Collectors.joining("; "));
  }

  private static String describe(Event e) {
    TestExecutionResult r = e.getRequiredPayload(TestExecutionResult.class);
    return e.getTestDescriptor().getDisplayName()
        + ": "
        + r.getStatus()
        + r.getThrowable().map(t -> " (" + t + ")").orElse("");
  }

  private static Set<Capability> missingCapabilities() {
    try (Driver local = Orchestra.open("local", "tck-self-test-capabilities")) {
      return EnumSet.complementOf(
          EnumSet.copyOf(
              local.capabilities().isEmpty()
                  ? EnumSet.noneOf(Capability.class)
                  : local.capabilities()));
    }
  }

  private static Set<String> capabilityTestsOf(Set<Capability> capabilities) {
    return capabilities.stream()
        .map(
            c ->
                switch (c) {
                  case USER -> "user";
                  case PRIVILEGED -> "privileged";
                  case CPU_LIMIT -> "cpuLimit";
                  case MEMORY_LIMIT -> "memoryLimit";
                  case IMAGE -> "missingImage";
                })
        .collect(Collectors.toSet());
  }
}
