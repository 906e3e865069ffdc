package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectNestedClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectNestedMethod;

import dev.orchestra.Capability;
import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import dev.orchestra.tck.BrokenDrivers.AbsoluteMountElsewhere;
import dev.orchestra.tck.BrokenDrivers.AwaitReturnsAtOnce;
import dev.orchestra.tck.BrokenDrivers.CapabilitiesOverclaimed;
import dev.orchestra.tck.BrokenDrivers.CleanupNoOp;
import dev.orchestra.tck.BrokenDrivers.CloseNoOp;
import dev.orchestra.tck.BrokenDrivers.ClosePrefixMatching;
import dev.orchestra.tck.BrokenDrivers.Correct;
import dev.orchestra.tck.BrokenDrivers.CorrectReliability;
import dev.orchestra.tck.BrokenDrivers.DurationsOverflow;
import dev.orchestra.tck.BrokenDrivers.EnvDropsEmpty;
import dev.orchestra.tck.BrokenDrivers.EnvLeaksCaller;
import dev.orchestra.tck.BrokenDrivers.ExitCodeAlwaysZero;
import dev.orchestra.tck.BrokenDrivers.FindAlwaysEmpty;
import dev.orchestra.tck.BrokenDrivers.FindRemembersEverything;
import dev.orchestra.tck.BrokenDrivers.FoldingIds;
import dev.orchestra.tck.BrokenDrivers.FollowDropsPartialLastLine;
import dev.orchestra.tck.BrokenDrivers.FollowNeverReturns;
import dev.orchestra.tck.BrokenDrivers.FollowOnlyAfterExit;
import dev.orchestra.tck.BrokenDrivers.FollowReturnsAtOnce;
import dev.orchestra.tck.BrokenDrivers.FollowSwallowsInterrupt;
import dev.orchestra.tck.BrokenDrivers.InterruptSwallowed;
import dev.orchestra.tck.BrokenDrivers.LogsDropLastByte;
import dev.orchestra.tck.BrokenDrivers.LogsOnlyAfterExit;
import dev.orchestra.tck.BrokenDrivers.LogsSwapped;
import dev.orchestra.tck.BrokenDrivers.NoCapabilities;
import dev.orchestra.tck.BrokenDrivers.NotIdempotent;
import dev.orchestra.tck.BrokenDrivers.OnExitNeverCompletes;
import dev.orchestra.tck.BrokenDrivers.ReasonAlwaysExited;
import dev.orchestra.tck.BrokenDrivers.SandboxCloseNoOp;
import dev.orchestra.tck.BrokenDrivers.SandboxExecNotIdempotent;
import dev.orchestra.tck.BrokenDrivers.SandboxStepsApart;
import dev.orchestra.tck.BrokenDrivers.SandboxesOutliveDriver;
import dev.orchestra.tck.BrokenDrivers.StatusFlickers;
import dev.orchestra.tck.BrokenDrivers.StatusHangs;
import dev.orchestra.tck.BrokenDrivers.StatusNeverDone;
import dev.orchestra.tck.BrokenDrivers.StdinDropped;
import dev.orchestra.tck.BrokenDrivers.StopKillsAtOnce;
import dev.orchestra.tck.BrokenDrivers.StopNeverKills;
import dev.orchestra.tck.BrokenDrivers.StopReasonLost;
import dev.orchestra.tck.BrokenDrivers.StopRelabelsFinished;
import dev.orchestra.tck.BrokenDrivers.StopRemoves;
import dev.orchestra.tck.BrokenDrivers.StopSignalsChildrenFirst;
import dev.orchestra.tck.BrokenDrivers.TimeoutIgnored;
import dev.orchestra.tck.BrokenDrivers.TimeoutRelabelsFinished;
import dev.orchestra.tck.BrokenDrivers.VolumeCleanupNoOp;
import dev.orchestra.tck.BrokenDrivers.VolumeEscape;
import dev.orchestra.tck.BrokenDrivers.VolumePlatformName;
import dev.orchestra.tck.BrokenDrivers.WorkDirIgnored;
import dev.orchestra.tck.DriverTck.Await;
import dev.orchestra.tck.DriverTck.Capabilities;
import dev.orchestra.tck.DriverTck.Cleanup;
import dev.orchestra.tck.DriverTck.Close;
import dev.orchestra.tck.DriverTck.Concurrency;
import dev.orchestra.tck.DriverTck.Environment;
import dev.orchestra.tck.DriverTck.ExitCodes;
import dev.orchestra.tck.DriverTck.ExitReasons;
import dev.orchestra.tck.DriverTck.Follow;
import dev.orchestra.tck.DriverTck.HappyPath;
import dev.orchestra.tck.DriverTck.Logs;
import dev.orchestra.tck.DriverTck.Mounts;
import dev.orchestra.tck.DriverTck.Reattach;
import dev.orchestra.tck.DriverTck.Sandboxes;
import dev.orchestra.tck.DriverTck.Stdin;
import dev.orchestra.tck.DriverTck.Stop;
import dev.orchestra.tck.DriverTck.TaskDirectory;
import dev.orchestra.tck.DriverTck.Timeouts;
import dev.orchestra.tck.DriverTck.Volumes;
import dev.orchestra.tck.ReliabilityTck.HostileInput;
import dev.orchestra.tck.ReliabilityTck.Interruption;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.assertj.core.api.SoftAssertions;
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
 * The kits tested against the local driver, correct and deliberately broken: a broken driver must
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
        only(FoldingIds.class, HostileInput.class, "foldedTaskIdsDistinct"),
        only(VolumeEscape.class, HostileInput.class, "volumeNameEscapeRefused"),
        group(
            WorkDirIgnored.class,
            TaskDirectory.class,
            "workDirIsInsideTaskDirectory",
            "workDirCreated",
            "workDirIsMount",
            "workDirInsideMount"),
        group(AbsoluteMountElsewhere.class, Mounts.class, "absoluteAndRelativeSame"),
        only(InterruptSwallowed.class, Interruption.class, "interruptFlagKept"),
        group(CapabilitiesOverclaimed.class, Capabilities.class, "user", "missingImage"),
        only(FollowOnlyAfterExit.class, Follow.class, "firstLineBeforeEnd"),
        only(
            FollowReturnsAtOnce.class,
            Follow.class,
            "firstLineBeforeEnd",
            "megabytesAtExitExact",
            "returnsWhenTaskEnds"),
        group(
            FollowDropsPartialLastLine.class, Follow.class, "megabytesAtExitExact", "finishedTask"),
        only(FollowNeverReturns.class, Follow.class, "returnsWhenTaskEnds", "finishedTask"),
        group(FollowSwallowsInterrupt.class, Follow.class, "interruptStopsFollow"),
        group(
            AwaitReturnsAtOnce.class, Await.class, "returnsFinalStatus", "timesOut", "interrupted"),
        group(OnExitNeverCompletes.class, Await.class, "onExitOfManyTasks", "onExitOfFinishedTask"),
        only(DurationsOverflow.class, Await.class, "unlimitedWaitsForTheEnd"),
        only(DurationsOverflow.class, Stop.class, "unlimitedGrace"),
        only(DurationsOverflow.class, Timeouts.class, "unlimitedTimeout"),
        only(DurationsOverflow.class, Sandboxes.class, "stepTimeout"),
        only(StopNeverKills.class, Stop.class, "killsAfterGrace"),
        group(StopKillsAtOnce.class, Stop.class, "killsAfterGrace", "trappedTermExitsItself"),
        group(
            StopReasonLost.class,
            Stop.class,
            "endsSleep",
            "killsAfterGrace",
            "trappedTermExitsItself"),
        group(StopRemoves.class, Stop.class, "logsKept"),
        only(StopSignalsChildrenFirst.class, Stop.class, "trappedTermWithBackgroundChild"),
        group(StopRelabelsFinished.class, Stop.class, "finishedTaskUnchanged"),
        only(TimeoutIgnored.class, Timeouts.class, "sleepTimesOut"),
        only(TimeoutRelabelsFinished.class, Timeouts.class, "endingInTimeExited"),
        group(ReasonAlwaysExited.class, ExitReasons.class, "signaled"),
        group(
            FindAlwaysEmpty.class,
            Reattach.class,
            "findsRunningTask",
            "findsFinishedTask",
            "runContainerOfFoundTask"),
        group(FindRemembersEverything.class, Reattach.class, "unknownIsEmpty"),
        group(
            SandboxStepsApart.class,
            Sandboxes.class,
            "stepsShareFilesystem",
            "stepEnvironment",
            "stepWorkDir"),
        group(SandboxCloseNoOp.class, Sandboxes.class, "closeRemovesSandbox"),
        group(SandboxExecNotIdempotent.class, Sandboxes.class, "execIdempotent"),
        group(SandboxesOutliveDriver.class, Sandboxes.class, "driverCloseRemovesSandboxes"));
  }

  /** The groups whose tests need a capability, each with that capability. */
  private static final Map<Class<?>, Capability> GROUP_CAPABILITIES =
      Map.of(
          Follow.class, Capability.FOLLOW,
          Stop.class, Capability.STOP,
          Timeouts.class, Capability.TIMEOUT,
          Reattach.class, Capability.REATTACH,
          Sandboxes.class, Capability.SANDBOX);

  /** Runs the whole group; the named tests must be among its failures. */
  private static Arguments group(Class<? extends KitBase> tck, Class<?> group, String... mustFail) {
    return arguments(tck, group, mustFail, List.of(selectNestedClass(List.of(tck), group)));
  }

  /** Runs only the named tests of the group (not parameterized ones), which must all fail. */
  private static Arguments only(Class<? extends KitBase> tck, Class<?> group, String... mustFail) {
    List<DiscoverySelector> selectors =
        Stream.of(mustFail)
            .<DiscoverySelector>map(m -> selectNestedMethod(List.of(tck), group, m))
            .toList();
    return arguments(tck, group, mustFail, selectors);
  }

  private static Arguments arguments(
      Class<? extends KitBase> tck,
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
      Class<? extends KitBase> tck,
      Class<?> group,
      Set<String> mustFail,
      List<DiscoverySelector> selectors) {
    Capability needed = GROUP_CAPABILITIES.get(group);
    assumeTrue(
        needed == null || localCapabilities().contains(needed),
        () -> "the local driver does not declare " + needed + ": there is nothing to break");

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
    Set<Capability> missing = EnumSet.complementOf(localCapabilities());
    assertThat(qualifiedNames(tests.aborted()))
        .as("skipped tests")
        .containsExactlyInAnyOrderElementsOf(capabilityTests(missing).keySet());
    assertThat(tests.succeeded().count()).as("passed tests").isGreaterThan(50);
  }

  @Test
  @DisplayName(
      "the correct driver behind a forwarding decorator passes the reliability kit's hostile input"
          + " and interruption groups")
  void correctDriverPassesBadInputAndInterruption() {
    Events tests =
        run(
            CorrectReliability.class,
            selectNestedClass(List.of(CorrectReliability.class), HostileInput.class),
            selectNestedClass(List.of(CorrectReliability.class), Interruption.class));

    assertThat(tests.failed().count()).as("failed tests (%s)", summary(tests)).isZero();
    assertThat(tests.aborted().count()).as("skipped tests (%s)", summary(tests)).isZero();
    assertThat(qualifiedNames(tests.succeeded()))
        .as("passed tests")
        .containsAll(
            List.of(
                "HostileInput.volumeNameEscapeRefused",
                "HostileInput.pathEscapeRefused",
                "HostileInput.oddTaskIds",
                "HostileInput.foldedTaskIdsDistinct",
                "Interruption.interruptFlagKept"));
  }

  @Test
  @DisplayName(
      "the tests of a capability the driver lacks, task options and lifecycle groups alike, are"
          + " reported as skipped with the reason")
  void missingCapabilitySkippedVisibly() {
    List<DiscoverySelector> groups = new ArrayList<>();
    groups.add(selectNestedClass(List.of(NoCapabilities.class), Capabilities.class));
    GROUP_CAPABILITIES
        .keySet()
        .forEach(g -> groups.add(selectNestedClass(List.of(NoCapabilities.class), g)));

    Events tests = run(NoCapabilities.class, groups);

    assertThat(tests.succeeded().count()).as("passed capability tests").isZero();
    assertThat(tests.failed().count()).as("failed capability tests (%s)", summary(tests)).isZero();
    Map<String, Capability> expected = capabilityTests(EnumSet.allOf(Capability.class));
    Map<String, String> reasons = new TreeMap<>();
    tests.aborted().stream()
        .forEach(
            e ->
                reasons.put(
                    qualifiedName(e),
                    e.getRequiredPayload(TestExecutionResult.class)
                        .getThrowable()
                        .map(Throwable::getMessage)
                        .orElse("no reason")));
    assertThat(reasons.keySet())
        .as("skipped tests")
        .containsExactlyInAnyOrderElementsOf(expected.keySet());
    SoftAssertions softly = new SoftAssertions();
    expected.forEach(
        (test, capability) ->
            softly
                .assertThat(reasons.get(test))
                .as("reason %s was skipped", test)
                .endsWith("driver 'local' does not declare capability " + capability));
    softly.assertAll();
    assertThat(Set.copyOf(expected.values()))
        .as("capabilities with skipped tests")
        .containsExactlyInAnyOrder(Capability.values());
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

  private static Events run(Class<? extends KitBase> tck, DiscoverySelector... selectors) {
    return run(tck, List.of(selectors));
  }

  private static Events run(Class<? extends KitBase> tck, List<DiscoverySelector> selectors) {
    try {
      return EngineTestKit.engine("junit-jupiter")
          .selectors(selectors.toArray(DiscoverySelector[]::new))
          .execute()
          .testEvents();
    } finally {
      BrokenDrivers.closeRealDrivers(tck);
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

  private static Set<String> qualifiedNames(Events events) {
    return events.stream()
        .map(DriverTckSelfTest::qualifiedName)
        .collect(Collectors.toCollection(TreeSet::new));
  }

  /** The test's group and method, such as {@code Follow.firstLineBeforeEnd}. */
  private static String qualifiedName(Event e) {
    return e.getTestDescriptor()
        .getSource()
        .filter(org.junit.platform.engine.support.descriptor.MethodSource.class::isInstance)
        .map(org.junit.platform.engine.support.descriptor.MethodSource.class::cast)
        .map(m -> m.getJavaClass().getSimpleName() + "." + m.getMethodName())
        .orElseGet(() -> e.getTestDescriptor().getDisplayName());
  }

  private static EnumSet<Capability> localCapabilities() {
    try (Driver local = Orchestra.open("local", "tck-self-test-capabilities")) {
      EnumSet<Capability> declared = EnumSet.noneOf(Capability.class);
      declared.addAll(local.capabilities());
      return declared;
    }
  }

  /** The tests (group and method) that need one of the capabilities, each with the one it needs. */
  private static Map<String, Capability> capabilityTests(Set<Capability> capabilities) {
    Map<String, Capability> tests = new TreeMap<>();
    for (Capability c : capabilities) {
      switch (c) {
        case USER -> tests.put("Capabilities.user", c);
        case PRIVILEGED -> tests.put("Capabilities.privileged", c);
        case CPU_LIMIT -> tests.put("Capabilities.cpuLimit", c);
        case MEMORY_LIMIT -> tests.put("Capabilities.memoryLimit", c);
        case IMAGE -> tests.put("Capabilities.missingImage", c);
        case FOLLOW, STOP, TIMEOUT, REATTACH, SANDBOX ->
            GROUP_CAPABILITIES.forEach(
                (group, needed) -> {
                  if (needed == c) {
                    testsOf(group).forEach(t -> tests.put(t, c));
                  }
                });
      }
    }
    return tests;
  }

  /** Every test method of a group (declared in its rules), as group and method. */
  private static List<String> testsOf(Class<?> group) {
    return Stream.<Class<?>>iterate(group, c -> c != null, Class::getSuperclass)
        .flatMap(c -> Stream.of(c.getDeclaredMethods()))
        .filter(
            m ->
                m.isAnnotationPresent(Test.class) || m.isAnnotationPresent(ParameterizedTest.class))
        .map(m -> group.getSimpleName() + "." + m.getName())
        .toList();
  }
}
