package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;
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
import dev.orchestra.tck.BrokenDrivers.FollowDropsPartialLastLine;
import dev.orchestra.tck.BrokenDrivers.FollowNeverReturns;
import dev.orchestra.tck.BrokenDrivers.FollowOnlyAfterExit;
import dev.orchestra.tck.BrokenDrivers.FollowReturnsAtOnce;
import dev.orchestra.tck.BrokenDrivers.FollowSwallowsInterrupt;
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
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.Event;
import org.junit.platform.testkit.engine.Events;

/**
 * The contract kit tested against the local driver, correct and deliberately broken: each broken
 * driver must fail exactly the tests of the rules it breaks, each for its stated reason, while the
 * other groups still pass ({@link ProofRunner}); the correct one must pass; a missing capability
 * must be reported as skipped with the reason.
 */
class DriverTckSelfTest {

  /**
   * The proofs of the broken drivers of {@link DriverTck}, for this test and the coverage table.
   */
  static List<Proof> proofs() {
    return List.of(
        Proof.of(ExitCodeAlwaysZero.class)
            .fails(
                ExitCodes.class, "failureIsDoneAndStaysExact", "after done] expected: 1 but was: 0")
            .fails(ExitCodes.class, "exactExitCode", "[exit code] expected:")
            .fails(ExitCodes.class, "killedBySignal", "[exit code of a task killed by signal"),
        Proof.of(StatusNeverDone.class)
            .onlyExpected()
            .fails(ExitCodes.class, "failureIsDoneAndStaysExact", "to finish"),
        Proof.of(StatusFlickers.class)
            .fails(ExitCodes.class, "failureIsDoneAndStaysExact", "[isDone() on poll"),
        Proof.of(LogsSwapped.class)
            .fails(Logs.class, "streamsKeptApart", "[stdout]")
            .fails(Logs.class, "megabyteLogsExact", "stdout: expected")
            .fails(Logs.class, "partialLastLineKept", "[stdout]")
            .fails(Logs.class, "logsRepeatable", "[stdout]")
            .fails(Logs.class, "logsWhileRunning", "first line"),
        Proof.of(LogsDropLastByte.class)
            .fails(Logs.class, "streamsKeptApart", "[stdout]")
            .fails(Logs.class, "megabyteLogsExact", "stdout: expected")
            .fails(Logs.class, "binarySafe", "stdout: expected")
            .fails(Logs.class, "partialLastLineKept", "[stdout]")
            .fails(Logs.class, "logsRepeatable", "[stdout]")
            .fails(Logs.class, "logsWhileRunning", "first line"),
        Proof.of(LogsOnlyAfterExit.class)
            .onlyExpected()
            .fails(Logs.class, "logsWhileRunning", "first line"),
        Proof.of(EnvLeaksCaller.class)
            .fails(Environment.class, "callerEnvironmentAbsent", DriverTck.CALLER_MARKER),
        Proof.of(EnvDropsEmpty.class)
            .fails(
                Environment.class, "givenVariablesExact", "[the variables as the task sees them]"),
        Proof.of(StdinDropped.class)
            .fails(Stdin.class, "bytesThenEndOfFile", "[stdout of cat]")
            .fails(Stdin.class, "megabytesExact", "stdout of cat: expected")
            .fails(Stdin.class, "stringIsUtf8", "stdout of cat: expected"),
        Proof.of(NotIdempotent.class)
            .fails(
                HappyPath.class,
                "sameTaskIdSameContainerOneRun",
                "[id of the container of the second call]")
            .fails(Concurrency.class, "manyThreadsOneRun", "[ids of the containers returned]")
            .fails(
                Concurrency.class,
                "twoInstancesOneRun",
                "[ids of the containers returned by both instances]"),
        Proof.of(CloseNoOp.class)
            .fails(Close.class, "closeRemovesEverything", "after close")
            .fails(Close.class, "closeStopsRunningTask", "after close")
            .fails(Close.class, "closedDriverRefusesWork", "IllegalStateException"),
        Proof.of(ClosePrefixMatching.class)
            .fails(Close.class, "closeSparesOtherNamespaces", "other namespace"),
        Proof.of(VolumeCleanupNoOp.class)
            .fails(Volumes.class, "cleanupDeletesData", "on the cleaned volume"),
        Proof.of(VolumePlatformName.class)
            .fails(Volumes.class, "nameIsCallersName", "Build Cache #1")
            .fails(Volumes.class, "createAgainKeepsData", "expected: \"data\""),
        Proof.of(CleanupNoOp.class)
            .onlyExpected()
            .fails(Cleanup.class, "cleanupStopsRunningTask", "right after cleanup()")
            .fails(Cleanup.class, "cleanupStopsProcessTree", "to stop")
            .fails(HappyPath.class, "cleanupFreesTheTaskId", "[runs recorded]"),
        Proof.of(WorkDirIgnored.class)
            .fails(TaskDirectory.class, "workDirIsInsideTaskDirectory", "[pwd]")
            .fails(TaskDirectory.class, "workDirCreated", "[pwd]")
            .fails(TaskDirectory.class, "workDirIsMount", "expected")
            .fails(TaskDirectory.class, "workDirInsideMount", "expected"),
        Proof.of(AbsoluteMountElsewhere.class)
            .fails(Mounts.class, "absoluteAndRelativeSame", "[file read through mount"),
        Proof.of(CapabilitiesOverclaimed.class)
            .fails(Capabilities.class, "user", "[id -un]")
            .fails(Capabilities.class, "missingImage", NO_SUCH_IMAGE_FRAGMENT),
        Proof.of(FollowOnlyAfterExit.class)
            .onlyExpected()
            .fails(Follow.class, "firstLineBeforeEnd", "follow() to deliver the first line"),
        Proof.of(FollowReturnsAtOnce.class)
            .onlyExpected()
            .fails(Follow.class, "firstLineBeforeEnd", "follow() still runs while the task runs")
            .fails(Follow.class, "megabytesAtExitExact", "once follow() returned")
            .fails(Follow.class, "returnsWhenTaskEnds", "once follow() returned"),
        Proof.of(FollowDropsPartialLastLine.class)
            .fails(Follow.class, "megabytesAtExitExact", "stdout followed")
            .fails(Follow.class, "finishedTask", "stderr followed"),
        Proof.of(FollowNeverReturns.class)
            .onlyExpected()
            .fails(Follow.class, "returnsWhenTaskEnds", "did not return within")
            .fails(Follow.class, "finishedTask", "did not return within"),
        Proof.of(FollowSwallowsInterrupt.class)
            .fails(Follow.class, "interruptStopsFollow", "OrchestraInterruptedException"),
        Proof.of(AwaitReturnsAtOnce.class)
            .fails(Await.class, "returnsFinalStatus", "[isDone() of the status await() returned]")
            .fails(Await.class, "timesOut", "[time await(PT0.5S) took]")
            .fails(Await.class, "interrupted", "OrchestraInterruptedException"),
        Proof.of(OnExitNeverCompletes.class)
            .fails(Await.class, "onExitOfManyTasks", "did not complete within")
            .fails(Await.class, "onExitOfFinishedTask", "did not complete within"),
        Proof.of(DurationsOverflow.class)
            .onlyExpected()
            .fails(Await.class, "unlimitedWaitsForTheEnd", "ArithmeticException")
            .fails(Stop.class, "unlimitedGrace", "ArithmeticException")
            .fails(Timeouts.class, "unlimitedTimeout", "ArithmeticException")
            .fails(Sandboxes.class, "stepTimeout", "ArithmeticException"),
        Proof.of(StopNeverKills.class)
            .onlyExpected()
            .fails(Stop.class, "killsAfterGrace", "did not return within"),
        Proof.of(StopKillsAtOnce.class)
            .fails(Stop.class, "killsAfterGrace", "[time stop(PT2S) took]")
            .fails(
                Stop.class,
                "trappedTermExitsItself",
                "[exit code of a task that exits 0 on SIGTERM]"),
        Proof.of(StopReasonLost.class)
            .fails(Stop.class, "endsSleep", "[reason of the status stop() returned]")
            .fails(Stop.class, "killsAfterGrace", "[reason of the status stop() returned]")
            .fails(Stop.class, "trappedTermExitsItself", "[reason of the status stop() returned]"),
        Proof.of(StopRemoves.class).fails(Stop.class, "logsKept", "[stdout after stop()]"),
        Proof.of(StopSignalsChildrenFirst.class)
            .onlyExpected()
            .fails(Stop.class, "trappedTermWithBackgroundChild", "exit 7, STOPPED"),
        Proof.of(StopRelabelsFinished.class)
            .fails(Stop.class, "finishedTaskUnchanged", "[reason stop() returned]"),
        Proof.of(TimeoutIgnored.class)
            .onlyExpected()
            .fails(Timeouts.class, "sleepTimesOut", "to finish"),
        Proof.of(TimeoutRelabelsFinished.class)
            .onlyExpected()
            .fails(Timeouts.class, "endingInTimeExited", "[status() past the timeout]"),
        Proof.of(ReasonAlwaysExited.class)
            .fails(ExitReasons.class, "signaled", "[reason] expected: SIGNALED"),
        Proof.of(FindAlwaysEmpty.class)
            .fails(Reattach.class, "findsRunningTask", "found nothing")
            .fails(Reattach.class, "findsFinishedTask", "found nothing")
            .fails(Reattach.class, "runContainerOfFoundTask", "found nothing"),
        Proof.of(FindRemembersEverything.class)
            .fails(Reattach.class, "unknownIsEmpty", "find of a"),
        Proof.of(SandboxStepsApart.class)
            .fails(Sandboxes.class, "stepsShareFilesystem", "file read by step 2")
            .fails(Sandboxes.class, "stepEnvironment", "variables of a step with its own")
            .fails(Sandboxes.class, "stepWorkDir", "marker"),
        Proof.of(SandboxCloseNoOp.class)
            .fails(Sandboxes.class, "closeRemovesSandbox", "after close()"),
        Proof.of(SandboxExecNotIdempotent.class)
            .fails(Sandboxes.class, "execIdempotent", "[id of the second exec()]"),
        Proof.of(SandboxesOutliveDriver.class)
            .fails(Sandboxes.class, "driverCloseRemovesSandboxes", "after the driver was closed"));
  }

  /** The tests ({@code Group.method}) no broken driver fails yet: the gaps the coverage shows. */
  static Set<String> notYetProven() {
    return Set.of(
        "HappyPath.cleanupIsIdempotent",
        "HappyPath.echoPrintsToStdout",
        "HappyPath.idIsStable",
        "HappyPath.nameIsRegistryName",
        "ExitCodes.runningTaskIsNotDone",
        "Stdin.noStdinIsEndOfFile",
        "TaskDirectory.defaultWorkingDirectoryIsTaskDirectory",
        "TaskDirectory.taskDirectoryIsFresh",
        "Mounts.nestedMountPath",
        "Mounts.twoVolumesSeparate",
        "Volumes.namespacesIsolated",
        "Volumes.negativeSizeRefused",
        "Volumes.sizesAccepted",
        "Close.closeIsIdempotent",
        "Cleanup.logsAfterCleanup",
        "Cleanup.statusAfterCleanup",
        "Capabilities.cpuLimit",
        "Capabilities.memoryLimit",
        "Capabilities.privileged",
        "Stop.badGraceRefused",
        "Stop.cleanupReadsStopped",
        "Stop.endsProcessTree",
        "Timeouts.trappedTermWithBackgroundChild",
        "ExitReasons.exited",
        "ExitReasons.running",
        "Reattach.badCallsRefused",
        "Sandboxes.endedSandboxRefusesExec",
        "Sandboxes.mainProcess",
        "Sandboxes.sandboxOptionsOnStepRefused",
        "Sandboxes.stepIoAndExitCode",
        "Sandboxes.trappedTermStepsWithBackgroundChild");
  }

  private static final String NO_SUCH_IMAGE_FRAGMENT = "orchestra-tck-no-such-image:0";

  /** The groups whose tests need a capability, each with that capability. */
  private static final Map<Class<?>, Capability> GROUP_CAPABILITIES =
      Map.of(
          Follow.class, Capability.FOLLOW,
          Stop.class, Capability.STOP,
          Timeouts.class, Capability.TIMEOUT,
          Reattach.class, Capability.REATTACH,
          Sandboxes.class, Capability.SANDBOX);

  @ParameterizedTest(name = "{0}")
  @MethodSource("proofs")
  @DisplayName(
      "a broken driver fails exactly the tests of the rules it breaks, for the stated reason")
  void brokenDriverProvesItsRules(Proof proof) {
    ProofRunner.prove(proof);
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
    return ProofRunner.run(tck, selectors);
  }

  private static String summary(Events events) {
    return ProofRunner.summary(events);
  }

  private static String qualifiedName(Event e) {
    return ProofRunner.qualifiedName(e);
  }

  private static Set<String> qualifiedNames(Events events) {
    return events.stream()
        .map(ProofRunner::qualifiedName)
        .collect(Collectors.toCollection(TreeSet::new));
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
    return ProofRunner.testsOf(group).stream()
        .map(m -> group.getSimpleName() + "." + m.getName())
        .toList();
  }
}
