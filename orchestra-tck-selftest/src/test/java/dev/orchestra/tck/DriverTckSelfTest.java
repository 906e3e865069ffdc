package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectNestedClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectNestedMethod;

import dev.orchestra.Capability;
import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import dev.orchestra.tck.BrokenDrivers.Correct;
import dev.orchestra.tck.BrokenDrivers.NoCapabilities;
import dev.orchestra.tck.BrokenDrivers.StatusHangs;
import dev.orchestra.tck.BrokenIdentity.CapabilitiesOverclaimed;
import dev.orchestra.tck.BrokenIdentity.FindAlwaysEmpty;
import dev.orchestra.tck.BrokenIdentity.FindRemembersEverything;
import dev.orchestra.tck.BrokenIdentity.IdResolvedLate;
import dev.orchestra.tck.BrokenIdentity.NameIsClassName;
import dev.orchestra.tck.BrokenIdentity.NotIdempotent;
import dev.orchestra.tck.BrokenLifecycle.CleanupNoOp;
import dev.orchestra.tck.BrokenLifecycle.CleanupTwiceThrows;
import dev.orchestra.tck.BrokenLifecycle.CloseNoOp;
import dev.orchestra.tck.BrokenLifecycle.ClosePrefixMatching;
import dev.orchestra.tck.BrokenLifecycle.CloseTwiceThrows;
import dev.orchestra.tck.BrokenLifecycle.DurationsOverflow;
import dev.orchestra.tck.BrokenLifecycle.LogsAfterCleanupFails;
import dev.orchestra.tck.BrokenLifecycle.NegativeGraceIsZero;
import dev.orchestra.tck.BrokenLifecycle.StatusAfterCleanupFails;
import dev.orchestra.tck.BrokenLifecycle.StopKillsAtOnce;
import dev.orchestra.tck.BrokenLifecycle.StopMainProcessOnly;
import dev.orchestra.tck.BrokenLifecycle.StopNeverKills;
import dev.orchestra.tck.BrokenLifecycle.StopReasonLost;
import dev.orchestra.tck.BrokenLifecycle.StopRelabelsFinished;
import dev.orchestra.tck.BrokenLifecycle.StopRemoves;
import dev.orchestra.tck.BrokenLifecycle.StopSignalsChildrenFirst;
import dev.orchestra.tck.BrokenLifecycle.TimeoutIgnored;
import dev.orchestra.tck.BrokenLifecycle.TimeoutRelabelsFinished;
import dev.orchestra.tck.BrokenLifecycle.TimeoutSignalsChildrenFirst;
import dev.orchestra.tck.BrokenOutput.ArgsDropEmpty;
import dev.orchestra.tck.BrokenOutput.EnvDropsEmpty;
import dev.orchestra.tck.BrokenOutput.EnvLeaksCaller;
import dev.orchestra.tck.BrokenOutput.FollowDropsPartialLastLine;
import dev.orchestra.tck.BrokenOutput.FollowNeverReturns;
import dev.orchestra.tck.BrokenOutput.FollowOnlyAfterExit;
import dev.orchestra.tck.BrokenOutput.FollowReturnsAtOnce;
import dev.orchestra.tck.BrokenOutput.FollowSwallowsInterrupt;
import dev.orchestra.tck.BrokenOutput.LogsDecodedAsText;
import dev.orchestra.tck.BrokenOutput.LogsDropPartialLastLine;
import dev.orchestra.tck.BrokenOutput.LogsMergedIntoStdout;
import dev.orchestra.tck.BrokenOutput.LogsOnlyAfterExit;
import dev.orchestra.tck.BrokenOutput.StdinDropped;
import dev.orchestra.tck.BrokenOutput.StdinNeverClosed;
import dev.orchestra.tck.BrokenSandboxes.EndedSandboxRunsSteps;
import dev.orchestra.tck.BrokenSandboxes.SandboxCloseNoOp;
import dev.orchestra.tck.BrokenSandboxes.SandboxCreateNotIdempotent;
import dev.orchestra.tck.BrokenSandboxes.SandboxExecNotIdempotent;
import dev.orchestra.tck.BrokenSandboxes.SandboxExecRaces;
import dev.orchestra.tck.BrokenSandboxes.SandboxStepsApart;
import dev.orchestra.tck.BrokenSandboxes.SandboxesOutliveDriver;
import dev.orchestra.tck.BrokenSandboxes.StepOptionsIgnored;
import dev.orchestra.tck.BrokenSandboxes.StepStdinDropped;
import dev.orchestra.tck.BrokenStatus.AwaitReturnsAtOnce;
import dev.orchestra.tck.BrokenStatus.ExitCodeInByte;
import dev.orchestra.tck.BrokenStatus.OnExitNeverCompletes;
import dev.orchestra.tck.BrokenStatus.ReasonAlwaysExited;
import dev.orchestra.tck.BrokenStatus.ReasonIgnoresRunning;
import dev.orchestra.tck.BrokenStatus.RunningExitCodeZero;
import dev.orchestra.tck.BrokenStatus.SignaledFrom128;
import dev.orchestra.tck.BrokenStatus.StatusFlickers;
import dev.orchestra.tck.BrokenStorage.AbsoluteMountElsewhere;
import dev.orchestra.tck.BrokenStorage.MountsAllFirstVolume;
import dev.orchestra.tck.BrokenStorage.NegativeSizeAccepted;
import dev.orchestra.tck.BrokenStorage.NestedMountFlattened;
import dev.orchestra.tck.BrokenStorage.SharedTaskDirectory;
import dev.orchestra.tck.BrokenStorage.SizedVolumesRefused;
import dev.orchestra.tck.BrokenStorage.VolumeCleanupNoOp;
import dev.orchestra.tck.BrokenStorage.VolumePlatformName;
import dev.orchestra.tck.BrokenStorage.VolumesShared;
import dev.orchestra.tck.BrokenStorage.WorkDirIgnored;
import dev.orchestra.tck.BrokenVolumeData.CopyInterruptSwallowed;
import dev.orchestra.tck.BrokenVolumeData.DeletedVolumeEmpty;
import dev.orchestra.tck.BrokenVolumeData.LinksFollowed;
import dev.orchestra.tck.BrokenVolumeData.MergesAlways;
import dev.orchestra.tck.BrokenVolumeData.ModesDropped;
import dev.orchestra.tck.BrokenVolumeData.TarSlipAllowed;
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
import dev.orchestra.tck.DriverTck.VolumeData;
import dev.orchestra.tck.DriverTck.Volumes;
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
        // status
        Proof.of(ExitCodeInByte.class)
            .fails(ExitCodes.class, "exactExitCode", "[exit code] expected: 255 but was: -1")
            .fails(ExitCodes.class, "killedBySignal", "[exit code of a task killed by signal"),
        Proof.of(StatusFlickers.class)
            .fails(ExitCodes.class, "failureIsDoneAndStaysExact", "[isDone() on poll"),
        Proof.of(RunningExitCodeZero.class)
            .fails(
                ExitCodes.class,
                "runningTaskIsNotDone",
                "[exitCode() while running] expected: -1 but was: 0"),
        Proof.of(ReasonIgnoresRunning.class)
            .fails(
                ExitReasons.class,
                "running",
                "[reason while running] expected: RUNNING but was: EXITED"),
        Proof.of(SignaledFrom128.class)
            .fails(ExitReasons.class, "exited", "[reason] expected: EXITED but was: SIGNALED"),
        Proof.of(ReasonAlwaysExited.class)
            .fails(ExitReasons.class, "signaled", "[reason] expected: SIGNALED but was: EXITED"),
        Proof.of(AwaitReturnsAtOnce.class)
            .fails(Await.class, "returnsFinalStatus", "[isDone() of the status await() returned]")
            .fails(Await.class, "timesOut", "[time await(PT0.5S) took]")
            .fails(
                Await.class, "interrupted", "[what await() threw when its thread was interrupted]")
            .fails(Await.class, "unlimitedWaitsForTheEnd", "[the status await("),
        Proof.of(OnExitNeverCompletes.class)
            .fails(Await.class, "onExitOfManyTasks", "did not complete within")
            .fails(Await.class, "onExitOfFinishedTask", "did not complete within"),
        // output
        Proof.of(ArgsDropEmpty.class)
            .fails(HappyPath.class, "echoPrintsToStdout", "[stdout of echo hello '' world]"),
        Proof.of(EnvLeaksCaller.class)
            .fails(Environment.class, "callerEnvironmentAbsent", DriverTck.CALLER_MARKER),
        Proof.of(EnvDropsEmpty.class)
            .fails(
                Environment.class, "givenVariablesExact", "[the variables as the task sees them]"),
        Proof.of(StdinDropped.class)
            .fails(Stdin.class, "bytesThenEndOfFile", "[stdout of cat]")
            .fails(Stdin.class, "megabytesExact", "stdout of cat: expected")
            .fails(Stdin.class, "stringIsUtf8", "stdout of cat: expected"),
        Proof.of(StdinNeverClosed.class)
            .onlyExpected()
            .fails(Stdin.class, "noStdinIsEndOfFile", "to finish"),
        Proof.of(LogsMergedIntoStdout.class)
            .fails(
                Logs.class, "streamsKeptApart", "[stdout] expected: \"out \" but was: \"out err \"")
            .fails(Logs.class, "megabyteLogsExact", "stdout: expected 1048576 bytes")
            .fails(Logs.class, "partialLastLineKept", "[stdout]")
            .fails(Logs.class, "logsRepeatable", "[stdout]"),
        Proof.of(LogsDropPartialLastLine.class)
            .fails(Logs.class, "binarySafe", "stdout: expected 262144 bytes")
            .fails(
                Logs.class,
                "partialLastLineKept",
                "[stdout] expected: \"no newline\" but was: \"\"")
            .fails(Logs.class, "logsRepeatable", "[stdout]"),
        Proof.of(LogsDecodedAsText.class)
            .fails(Logs.class, "binarySafe", "stdout: expected 262144 bytes"),
        Proof.of(LogsOnlyAfterExit.class)
            .onlyExpected()
            .fails(Logs.class, "logsWhileRunning", "first line"),
        Proof.of(FollowOnlyAfterExit.class)
            .onlyExpected()
            .fails(Follow.class, "firstLineBeforeEnd", "follow() to deliver the first line"),
        Proof.of(FollowReturnsAtOnce.class)
            .onlyExpected()
            .failsEither(
                Follow.class,
                "firstLineBeforeEnd",
                "follow() to deliver the first line",
                "[follow() still runs while the task runs]")
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
            .fails(
                Follow.class,
                "interruptStopsFollow",
                "[what follow() threw when its thread was interrupted]"),
        // lifecycle
        Proof.of(CleanupNoOp.class)
            .onlyExpected()
            .fails(Cleanup.class, "cleanupStopsRunningTask", "right after cleanup()")
            .fails(Cleanup.class, "cleanupStopsProcessTree", "to stop")
            .fails(HappyPath.class, "cleanupFreesTheTaskId", "[runs recorded]"),
        Proof.of(CleanupTwiceThrows.class)
            .fails(HappyPath.class, "cleanupIsIdempotent", "was already removed"),
        Proof.of(StatusAfterCleanupFails.class)
            .fails(Cleanup.class, "statusAfterCleanup", "no such container")
            .fails(Cleanup.class, "cleanupStopsRunningTask", "no such container"),
        Proof.of(LogsAfterCleanupFails.class)
            .fails(Cleanup.class, "logsAfterCleanup", "NoSuchFileException"),
        Proof.of(CloseNoOp.class)
            .fails(Close.class, "closeRemovesEverything", "after close")
            .fails(Close.class, "closeStopsRunningTask", "after close")
            .fails(Close.class, "closedDriverRefusesWork", "Expecting code to raise a throwable"),
        Proof.of(ClosePrefixMatching.class)
            .fails(Close.class, "closeSparesOtherNamespaces", "other namespace"),
        Proof.of(CloseTwiceThrows.class)
            .fails(Close.class, "closeIsIdempotent", "already closed")
            .fails(Close.class, "closeRemovesEverything", "already closed")
            .fails(Close.class, "closedDriverRefusesWork", "already closed")
            .fails(Close.class, "closeStopsRunningTask", "already closed")
            .fails(Close.class, "closeSparesOtherNamespaces", "already closed"),
        Proof.of(StopNeverKills.class)
            .onlyExpected()
            .fails(Stop.class, "killsAfterGrace", "did not return within"),
        Proof.of(StopKillsAtOnce.class)
            .fails(Stop.class, "killsAfterGrace", "[time stop(PT2S) took]")
            .fails(
                Stop.class,
                "trappedTermExitsItself",
                "[exit code of a task that exits 0 on SIGTERM]")
            .fails(Stop.class, "trappedTermWithBackgroundChild", "exit 7, STOPPED")
            .fails(Stop.class, "unlimitedGrace", "[the status stop(FOREVER) returned]")
            .fails(Stop.class, "badGraceRefused", "Expecting code to raise a throwable"),
        Proof.of(StopSignalsChildrenFirst.class)
            .onlyExpected()
            .fails(Stop.class, "trappedTermWithBackgroundChild", "exit 7, STOPPED")
            .fails(Sandboxes.class, "trappedTermStepsWithBackgroundChild", "exit 7, STOPPED"),
        Proof.of(StopMainProcessOnly.class).fails(Stop.class, "endsProcessTree", "to stop"),
        Proof.of(StopReasonLost.class)
            .fails(Stop.class, "endsSleep", "[reason of the status stop() returned]")
            .fails(Stop.class, "killsAfterGrace", "[reason of the status stop() returned]")
            .fails(Stop.class, "trappedTermExitsItself", "[reason of the status stop() returned]")
            .fails(Stop.class, "trappedTermWithBackgroundChild", "exit 7, STOPPED")
            .fails(Stop.class, "unlimitedGrace", "[the status stop(FOREVER) returned]")
            .fails(Stop.class, "cleanupReadsStopped", "[reason after cleanup() of a running task]"),
        Proof.of(StopRemoves.class)
            .fails(Stop.class, "logsKept", "is gone: it was cleaned up")
            .fails(Stop.class, "trappedTermExitsItself", "is gone: it was cleaned up")
            .fails(Stop.class, "trappedTermWithBackgroundChild", "is gone: it was cleaned up")
            .fails(Stop.class, "unlimitedGrace", "is gone: it was cleaned up"),
        Proof.of(StopRelabelsFinished.class)
            .fails(Stop.class, "finishedTaskUnchanged", "[reason stop() returned]"),
        Proof.of(NegativeGraceIsZero.class)
            .fails(Stop.class, "badGraceRefused", "Expecting code to raise a throwable"),
        Proof.of(TimeoutIgnored.class)
            .onlyExpected()
            .fails(Timeouts.class, "sleepTimesOut", "to finish"),
        Proof.of(TimeoutRelabelsFinished.class)
            .onlyExpected()
            .fails(Timeouts.class, "endingInTimeExited", "[status() past the timeout]"),
        Proof.of(TimeoutSignalsChildrenFirst.class)
            .onlyExpected()
            .fails(Timeouts.class, "trappedTermWithBackgroundChild", "TIMED_OUT"),
        Proof.of(DurationsOverflow.class)
            .onlyExpected()
            .fails(Await.class, "unlimitedWaitsForTheEnd", "ArithmeticException")
            .fails(Stop.class, "unlimitedGrace", "ArithmeticException")
            .fails(Timeouts.class, "unlimitedTimeout", "ArithmeticException")
            .fails(Sandboxes.class, "stepTimeout", "ArithmeticException"),
        // storage
        Proof.of(SharedTaskDirectory.class)
            .fails(
                TaskDirectory.class,
                "taskDirectoryIsFresh",
                "[exit code of 'test ! -e ./leftover']"),
        Proof.of(WorkDirIgnored.class)
            .fails(TaskDirectory.class, "workDirIsInsideTaskDirectory", "[exit code of pwd")
            .fails(TaskDirectory.class, "workDirCreated", "[pwd]")
            .fails(TaskDirectory.class, "workDirIsMount", "expected")
            .fails(TaskDirectory.class, "workDirInsideMount", "expected"),
        Proof.of(AbsoluteMountElsewhere.class)
            .fails(Mounts.class, "absoluteAndRelativeSame", "[file read through mount"),
        Proof.of(MountsAllFirstVolume.class)
            .fails(
                Mounts.class,
                "twoVolumesSeparate",
                "[file in vol-a] expected: \"A \" but was: \"B \""),
        Proof.of(NestedMountFlattened.class)
            .fails(Mounts.class, "nestedMountPath", "[exit code of"),
        Proof.of(VolumeCleanupNoOp.class)
            .fails(Volumes.class, "cleanupDeletesData", "on the cleaned volume"),
        Proof.of(VolumePlatformName.class)
            .fails(Volumes.class, "nameIsCallersName", "Build Cache #1")
            .fails(Volumes.class, "createAgainKeepsData", "expected: \"data\"")
            .fails(Volumes.class, "sizesAccepted", "expected: \"default-size\""),
        Proof.of(NegativeSizeAccepted.class)
            .fails(Volumes.class, "negativeSizeRefused", "Expecting code to raise a throwable"),
        Proof.of(SizedVolumesRefused.class)
            .fails(Volumes.class, "sizesAccepted", "sizes are not supported"),
        Proof.of(VolumesShared.class)
            .onlyExpected()
            .sequential()
            .fails(
                Volumes.class,
                "namespacesIsolated",
                "[this namespace] expected: \"mine \" but was: \"theirs \"")
            .fails(VolumeData.class, "otherNamespaceUnaffected", "[this namespace's volume]"),
        // identity
        Proof.of(NameIsClassName.class).fails(HappyPath.class, "nameIsRegistryName", "LocalDriver"),
        Proof.of(IdResolvedLate.class)
            .fails(HappyPath.class, "idIsStable", "[id() while polled]")
            .fails(
                HappyPath.class, "sameTaskIdSameContainerOneRun", "[id after the task finished]"),
        Proof.of(NotIdempotent.class)
            .fails(
                HappyPath.class,
                "sameTaskIdSameContainerOneRun",
                "[id of the container of the second call]")
            .fails(Concurrency.class, "manyThreadsOneRun", "[ids of the containers returned]")
            .fails(
                Concurrency.class,
                "twoInstancesOneRun",
                "[ids of the containers returned by both instances]")
            .fails(
                Reattach.class,
                "runContainerOfFoundTask",
                "[id of runContainer of the found task]"),
        Proof.of(FindAlwaysEmpty.class)
            .fails(Reattach.class, "findsRunningTask", "found nothing")
            .fails(Reattach.class, "findsFinishedTask", "found nothing")
            .fails(Reattach.class, "runContainerOfFoundTask", "found nothing")
            .fails(Reattach.class, "badCallsRefused", "Expecting code to raise a throwable"),
        Proof.of(FindRemembersEverything.class)
            .fails(Reattach.class, "unknownIsEmpty", "find of a"),
        Proof.of(CapabilitiesOverclaimed.class)
            .fails(Capabilities.class, "user", "[id -un]")
            .fails(Capabilities.class, "missingImage", "orchestra-tck-no-such-image:0")
            .fails(
                Capabilities.class,
                "cpuLimit",
                "[CPU shares the platform applied to a task limited to 512 (appliedCpuShares)] expected: 512L but was: 0L")
            .fails(Capabilities.class, "memoryLimit", "it must not succeed")
            .fails(Capabilities.class, "privileged", "CAP_SYS_ADMIN"),
        // sandboxes
        Proof.of(SandboxCreateNotIdempotent.class)
            .fails(
                Sandboxes.class,
                "mainProcess",
                "[id of the sandbox created again with the same id]"),
        Proof.of(SandboxStepsApart.class)
            .fails(Sandboxes.class, "stepsShareFilesystem", "[exit code of the writing step]")
            .fails(Sandboxes.class, "stepEnvironment", "variables of a step with its own")
            .fails(Sandboxes.class, "stepWorkDir", "marker")
            .fails(Sandboxes.class, "execIdempotent", "runs: No such file or directory")
            .fails(
                Sandboxes.class,
                "execIdempotentUnderConcurrency",
                "runs: No such file or directory")
            .fails(
                Sandboxes.class,
                "closeRemovesSandbox",
                "[isDone() of its running step after close()"),
        Proof.of(StepOptionsIgnored.class)
            .fails(
                Sandboxes.class,
                "sandboxOptionsOnStepRefused",
                "Expecting code to raise a throwable"),
        Proof.of(StepStdinDropped.class)
            .fails(
                Sandboxes.class,
                "stepIoAndExitCode",
                "[stdout of the step] expected: \"from stdin \" but was: \"\""),
        Proof.of(EndedSandboxRunsSteps.class)
            .fails(
                Sandboxes.class, "endedSandboxRefusesExec", "Expecting code to raise a throwable"),
        Proof.of(SandboxCloseNoOp.class)
            .fails(Sandboxes.class, "closeRemovesSandbox", "after close()"),
        Proof.of(SandboxExecNotIdempotent.class)
            .fails(Sandboxes.class, "execIdempotent", "[id of the second exec()]")
            .fails(
                Sandboxes.class,
                "execIdempotentUnderConcurrency",
                "[ids of the steps exec() returned]"),
        Proof.of(SandboxExecRaces.class)
            .fails(
                Sandboxes.class,
                "execIdempotentUnderConcurrency",
                "[ids of the steps exec() returned]"),
        Proof.of(SandboxesOutliveDriver.class)
            .fails(Sandboxes.class, "driverCloseRemovesSandboxes", "[isDone() after close()")
            .fails(
                Sandboxes.class, "stepsShareFilesystem", "[exit code of 'cat file' in volume data"),
        // volume data
        Proof.of(ModesDropped.class)
            .failsEither(
                VolumeData.class,
                "roundTrip",
                "[the tree copied out of the volume as a tar stream]",
                "tar stream ended without its end-of-archive marker")
            .fails(VolumeData.class, "taskSeesCopyIn", "exit code (stderr:")
            .fails(
                VolumeData.class,
                "copyOutSeesTaskWrites",
                "[the entries of the volume's tar stream]"),
        Proof.of(LinksFollowed.class)
            .fails(
                VolumeData.class,
                "roundTrip",
                "[the tree copied out of the volume into a directory]"),
        Proof.of(TarSlipAllowed.class)
            .onlyExpected()
            .fails(VolumeData.class, "tarSlipRefused", "Expecting code to raise a throwable"),
        Proof.of(MergesAlways.class)
            .onlyExpected()
            .fails(
                VolumeData.class,
                "copyOutRefusesNonEmptyUnlessMerge",
                "Expecting code to raise a throwable"),
        Proof.of(CopyInterruptSwallowed.class)
            .onlyExpected()
            .fails(VolumeData.class, "interruptAnswered", "[what copyIn threw when interrupted]"),
        Proof.of(DeletedVolumeEmpty.class)
            .onlyExpected()
            .fails(VolumeData.class, "deletedVolumeFails", "Expecting code to raise a throwable"));
  }

  /** The tests ({@code Group.method}) no broken driver fails yet: the gaps the coverage shows. */
  static Set<String> notYetProven() {
    return Set.of();
  }

  private static final String NO_SUCH_IMAGE_FRAGMENT = "orchestra-tck-no-such-image:0";

  /** The groups whose tests need a capability, each with that capability. */
  private static final Map<Class<?>, Capability> GROUP_CAPABILITIES =
      Map.of(
          Follow.class, Capability.FOLLOW,
          Stop.class, Capability.STOP,
          Timeouts.class, Capability.TIMEOUT,
          Reattach.class, Capability.REATTACH,
          Sandboxes.class, Capability.SANDBOX,
          VolumeData.class, Capability.VOLUME_DATA);

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
        case FOLLOW, STOP, TIMEOUT, REATTACH, SANDBOX, VOLUME_DATA ->
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
