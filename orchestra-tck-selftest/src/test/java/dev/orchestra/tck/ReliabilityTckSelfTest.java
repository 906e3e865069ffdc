package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectNestedClass;

import dev.orchestra.tck.BrokenDrivers.CorrectReliability;
import dev.orchestra.tck.BrokenDrivers.FoldingIds;
import dev.orchestra.tck.BrokenDrivers.InterruptSwallowed;
import dev.orchestra.tck.BrokenDrivers.VolumeEscape;
import dev.orchestra.tck.ReliabilityBrokenDrivers.AbsoluteMountOnHost;
import dev.orchestra.tck.ReliabilityBrokenDrivers.ApiBounded;
import dev.orchestra.tck.ReliabilityBrokenDrivers.ApiWaitsForever;
import dev.orchestra.tck.ReliabilityBrokenDrivers.CloseGivesUpWhenInterrupted;
import dev.orchestra.tck.ReliabilityBrokenDrivers.CloseSavesVolumeList;
import dev.orchestra.tck.ReliabilityBrokenDrivers.EnvKeysSanitised;
import dev.orchestra.tck.ReliabilityBrokenDrivers.EnvValuesCutAtEquals;
import dev.orchestra.tck.ReliabilityBrokenDrivers.FollowAckWaitsForever;
import dev.orchestra.tck.ReliabilityBrokenDrivers.HalfMadeWhenInterrupted;
import dev.orchestra.tck.ReliabilityBrokenDrivers.IdsCutTo63;
import dev.orchestra.tck.ReliabilityBrokenDrivers.InterruptCleared;
import dev.orchestra.tck.ReliabilityBrokenDrivers.LogsReadWhole;
import dev.orchestra.tck.ReliabilityBrokenDrivers.LogsShareOneBuffer;
import dev.orchestra.tck.ReliabilityBrokenDrivers.PidFilesInTmp;
import dev.orchestra.tck.ReliabilityBrokenDrivers.StartRacesItself;
import dev.orchestra.tck.ReliabilityBrokenDrivers.StatusWaitsForRemovedTask;
import dev.orchestra.tck.ReliabilityBrokenDrivers.UncheckedWhenRemoved;
import dev.orchestra.tck.ReliabilityTck.BigOutput;
import dev.orchestra.tck.ReliabilityTck.HostileInput;
import dev.orchestra.tck.ReliabilityTck.Interference;
import dev.orchestra.tck.ReliabilityTck.Interruption;
import dev.orchestra.tck.ReliabilityTck.Load;
import dev.orchestra.tck.ReliabilityTck.UnresponsivePlatform;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.platform.testkit.engine.Events;

/**
 * The reliability kit against the local driver, correct and deliberately broken ({@link
 * ReliabilityBrokenDrivers}): each broken driver fails exactly the tests of the rules it breaks,
 * for the stated reason, and passes the rest; the correct one passes every test, none skipped.
 *
 * <p>Runs in a JVM with a heap of 64 MiB (a surefire execution of its own), where the big output
 * test runs rather than being skipped, and where 100 MB of output read into the heap fails it.
 */
class ReliabilityTckSelfTest {

  /**
   * The proofs of the broken drivers of {@link ReliabilityTck}, for this test and the coverage
   * table.
   */
  static List<Proof> proofs() {
    String leftInNamespace = "after close()] Expecting empty but was";
    return List.of(
        // Leftovers: the check after every test, and close() interrupted.
        Proof.of(CloseSavesVolumeList.class)
            .fails(Interference.class, "volumeRemoved", "volumes.list")
            .fails(HostileInput.class, "hostileIdsAndVolumes", "volumes.list")
            .fails(Interruption.class, "interruptFlagKept", "volumes.list")
            .fails(Interruption.class, "interruptedAtRandomMoments", "volumes.list"),
        Proof.of(CloseGivesUpWhenInterrupted.class)
            .fails(Interruption.class, "closeInterrupted", leftInNamespace),
        // External interference.
        Proof.of(StatusWaitsForRemovedTask.class)
            .fails(
                Interference.class,
                "runningContainerRemoved",
                "status() after removal did not return within")
            .fails(
                Interference.class,
                "finishedContainerRemoved",
                "status() after removal did not return within"),
        Proof.of(UncheckedWhenRemoved.class)
            .fails(
                Interference.class,
                "runningContainerRemoved",
                "after the container was removed threw java.io.UncheckedIOException")
            .fails(
                Interference.class,
                "finishedContainerRemoved",
                "after the container was removed threw java.io.UncheckedIOException")
            .fails(
                Interference.class,
                "volumeRemoved",
                "after the volume was removed threw java.io.UncheckedIOException"),
        // Interruption.
        Proof.of(InterruptCleared.class)
            .fails(Interruption.class, "interruptFlagKept", "[interrupt flag after status()]")
            .fails(
                Interruption.class, "blockedCallsAnswer", "[interrupt flag after await(5 minutes)]")
            .fails(
                Interruption.class,
                "interruptedAtRandomMoments",
                "[interrupt flag after the interrupted ")
            .fails(
                Interruption.class,
                "closeInterrupted",
                "[interrupt flag after the interrupted close]")
            .fails(
                Interruption.class,
                "sandboxInterrupted",
                "[interrupt flag after the interrupted createSandbox]"),
        Proof.of(InterruptSwallowed.class)
            .onlyExpected()
            .fails(
                Interruption.class,
                "interruptFlagKept",
                "[interrupt flag after status()] Expecting value to be true but was false"),
        Proof.of(HalfMadeWhenInterrupted.class)
            .fails(
                Interruption.class,
                "interruptedAtRandomMoments",
                "after the interrupted calls (its stdin, then 'done')] Expecting empty but was: \"read "),
        // Big output.
        Proof.of(LogsReadWhole.class)
            .fails(
                BigOutput.class,
                "hugeLogsStreamed",
                "the driver holds output in memory instead of streaming it"),
        Proof.of(LogsShareOneBuffer.class)
            .fails(BigOutput.class, "interleavedStreamsExact", "[stdout of the alternating task]")
            .fails(Load.class, "randomInterleavings", "stdout of task 'load-"),
        // Load.
        Proof.of(StartRacesItself.class)
            .fails(Load.class, "randomInterleavings", "from two threads at once gave containers"),
        // Hostile input.
        Proof.of(IdsCutTo63.class)
            .fails(HostileInput.class, "oddTaskIds", "is its own")
            .fails(HostileInput.class, "hostileIdsAndVolumes", "is its own"),
        Proof.of(FoldingIds.class)
            .fails(
                HostileInput.class,
                "foldedTaskIdsDistinct",
                "[stdout of task 'a_b'] expected: \"a_b\" but was: \"a/b\"")
            .fails(HostileInput.class, "hostileIdsAndVolumes", "is its own"),
        Proof.of(PidFilesInTmp.class)
            .fails(
                HostileInput.class,
                "hostileIdsAndVolumes",
                "[files named after hostile input outside the driver's areas"),
        Proof.of(VolumeEscape.class)
            .onlyExpected()
            .fails(HostileInput.class, "volumeNameEscapeRefused", "[createVolume(\"../../"),
        Proof.of(AbsoluteMountOnHost.class)
            .fails(
                HostileInput.class,
                "pathEscapeRefused",
                Path.of(System.getProperty("java.io.tmpdir")).resolve("tck-escape-").toString()),
        Proof.of(EnvValuesCutAtEquals.class)
            .fails(
                HostileInput.class,
                "oddEnvironmentCarried",
                "[the variables as the task printed them]"),
        Proof.of(EnvKeysSanitised.class)
            .fails(
                HostileInput.class,
                "oddEnvironmentCarried",
                "[the variables with odd keys as env printed them]"),
        // An unresponsive platform.
        Proof.of(ApiWaitsForever.class)
            .fails(
                UnresponsivePlatform.class,
                "unansweredRequests",
                "of a running task on a stalled platform did not return within")
            .fails(
                UnresponsivePlatform.class,
                "frozenFollow",
                "follow() still blocks "
                    + ReliabilityBrokenDrivers.API_BOUND
                    + " after its stream froze mid-way"),
        Proof.of(FollowAckWaitsForever.class)
            .fails(
                UnresponsivePlatform.class,
                "frozenFollow",
                "follow() still blocks "
                    + ReliabilityBrokenDrivers.API_BOUND
                    + " after its stream froze mid-way"));
  }

  /** The tests ({@code Group.method}) no broken driver fails yet: none. */
  static Set<String> notYetProven() {
    return Set.of();
  }

  @AfterAll
  static void deleteRoot() {
    ReliabilityBrokenDrivers.deleteRoot();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("proofs")
  @DisplayName(
      "a broken driver fails exactly the tests of the rules it breaks, for the stated reason")
  void brokenDriverProvesItsRules(Proof proof) {
    ProofRunner.prove(proof);
  }

  @Test
  @DisplayName(
      "the local driver behind a platform API it bounds its waits on, with every hook, passes every"
          + " test of the reliability kit, none skipped")
  void correctDriverPassesEveryTest() {
    Events tests = ProofRunner.run(ApiBounded.class, List.of(selectClass(ApiBounded.class)));

    assertThat(tests.failed().count()).as("failed tests (%s)", ProofRunner.summary(tests)).isZero();
    assertThat(tests.aborted().count())
        .as("skipped tests (%s)", ProofRunner.summary(tests))
        .isZero();
    assertThat(tests.succeeded().count())
        .as("passed tests")
        .isEqualTo(ProofRunner.RELIABILITY_TCK.tests().size());
  }

  @Test
  @DisplayName(
      "a driver whose test class implements neither the removal hooks nor the proxy hooks has"
          + " external interference and unresponsive platform skipped, with the reason")
  void missingHooksSkipVisibly() {
    Events tests =
        ProofRunner.run(
            CorrectReliability.class,
            List.of(
                selectNestedClass(List.of(CorrectReliability.class), Interference.class),
                selectNestedClass(List.of(CorrectReliability.class), UnresponsivePlatform.class)));

    assertThat(tests.succeeded().count()).as("passed tests").isZero();
    assertThat(tests.failed().count()).as("failed tests").isZero();
    assertThat(tests.aborted().stream().map(ProofRunner::reason))
        .as("reasons of the skipped tests")
        .hasSize(
            ProofRunner.testsOf(Interference.class).size()
                + ProofRunner.testsOf(UnresponsivePlatform.class).size())
        .allSatisfy(
            reason ->
                assertThat(reason)
                    .containsAnyOf(
                        "cannot remove a container behind the driver's back",
                        "cannot remove a volume behind the driver's back",
                        "the driver cannot be put behind a proxy"));
  }
}
