package dev.orchestra.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The report says what its own run measured (both sides' spread, the rounds, the order, failed
 * trials, noisy verdicts), where and when, how it measures, and with which settings: no more.
 */
class BenchmarksReportTest {

  private static final Settings SETTINGS =
      new Settings(
          3,
          5,
          1,
          4,
          1_000,
          5,
          10,
          2_000,
          "32m",
          7,
          "busybox",
          Settings.ALL_ROWS,
          Path.of("target", "benchmarks.md"));

  private static final Machine MACHINE =
      new Machine(
          2,
          24L << 30,
          "Linux 6.1.0",
          "OpenJDK 64-Bit Server VM 17.0.15",
          "Docker engine 20.10.24 (API 1.41)",
          "1.16 3.77 4.06");

  private static final Row ROW =
      Row.timed(
          "local spawn",
          "5 x runContainer(true) + onExit",
          "ProcessBuilder.start() + waitFor() x5",
          Samples.of(List.of(3_000_000L, 2_000_000L, 4_000_000L)),
          Samples.of(List.of(2_000_000L, 2_000_000L, 2_000_000L)),
          "L B, B L",
          1.2,
          "5 tasks started one after the other.");

  private static Benchmarks.Result result(String breakdown, Row... rows) {
    return new Benchmarks.Result(
        List.of(rows),
        breakdown,
        MACHINE,
        "2.00 3.00 4.00",
        Instant.parse("2026-01-02T03:04:05Z"),
        Duration.ofSeconds(125));
  }

  @Test
  void holdsTheRunsNumbersTheMachineTheMethodAndTheSettingsAndNothingElse() {
    String report = Benchmarks.markdown(SETTINGS, result("", ROW));

    assertThat(report.lines().filter(l -> l.startsWith("#")))
        .containsExactly(
            "# Benchmarks",
            "## What each row measures",
            "## How it measures",
            "## Settings of this run");
    assertThat(report)
        .contains(
            "This run: started 2026-01-02T03:04:05Z, took 2 min 5 s. Timed rows: 5 measured rounds"
                + " each (3 for the rows whose round takes seconds")
        .contains("| kernel | Linux 6.1.0 |")
        .contains("| JDK | OpenJDK 64-Bit Server VM 17.0.15 |")
        .contains("| engine | Docker engine 20.10.24 (API 1.41) |")
        .contains("| load average (1, 5, 15 min) at the start | 1.16 3.77 4.06 |")
        .contains("| load average (1, 5, 15 min) at the end | 2.00 3.00 4.00 |")
        .contains(
            "| local spawn | 5 x runContainer(true) + onExit | 2.0 ms / 3.0 ms / 4.0 ms |"
                + " ProcessBuilder.start() + waitFor() x5 | 2.0 ms / 2.0 ms / 2.0 ms | 3 |"
                + " L B, B L | 1.500 | 1.000 - 2.000 | <= 1.20 | NOT met, noisy |")
        .contains("0 of 1 rows met their target; 0 out of reach here")
        .contains("; 1 noisy (the target")
        .contains(
            "- **local spawn**: 5 tasks started one after the other. Samples (ms), round by"
                + " round: library 3.0, 2.0, 4.0; baseline 2.0, 2.0, 2.0.")
        .contains("A row is **noisy** when its target lies within that range")
        .contains(
            "| `bench.runs` | 3 |\n| `bench.quickRuns` | 5 |\n| `bench.warmups` | 1 |\n| `bench.parallel` | 4 |")
        .contains("| `bench.memoryHeap` | 32m |\n| `bench.inFlight` | 7 |")
        .contains(
            "| `bench.rows` | breakdown,docker-latency,docker-logs,docker-parallel,docker-ssh,"
                + "in-flight,local-spawn,memory,podman,status |")
        .doesNotContain("bench.output")
        .doesNotContain("\n\n\n");
  }

  @Test
  void aRowWhoseRoundsAllMeetTheTargetIsNotNoisy() {
    Row row =
        Row.timed(
            "r",
            "l",
            "b",
            Samples.of(List.of(1_000_000L, 3_000_000L)),
            Samples.of(List.of(2_000_000L, 4_000_000L)),
            "L B, B L",
            0.8,
            "d");

    assertThat(row.ratio()).isEqualTo(2.0 / 3.0);
    assertThat(row.met()).isTrue();
    assertThat(row.noisy()).isFalse();
    assertThat(row.verdict()).isEqualTo("met");
  }

  /** A floor row beside {@code library}: every trial of its baseline took {@code nanos}. */
  private static Row floor(Samples library, long nanos) {
    return Row.timed(
        "r floor",
        "l",
        "f",
        library,
        Samples.of(List.of(nanos, nanos, nanos)),
        "L B F, F B L",
        1.05,
        "d");
  }

  @Test
  void aRowWhoseFloorMissesTheTargetTooIsOutOfReachHere() {
    Samples library = Samples.of(List.of(9_000_000L, 9_200_000L, 9_400_000L));
    Samples baseline = Samples.of(List.of(10_000_000L, 10_000_000L, 10_000_000L));
    Row bound = Row.timed("r", "l", "b", library, baseline, "L B F, F B L", 0.8, "d");
    Row floorOver = floor(library, 9_000_000L);
    Row floorUnder = floor(library, 5_000_000L);

    Row judged = bound.judgedAgainst(floorOver, 0.8);
    assertThat(judged.met()).isFalse();
    assertThat(judged.outOfReach()).isTrue();
    assertThat(judged.verdict())
        .isEqualTo("NOT met, out of reach here: the floor is 0.900 of the baseline");
    assertThat(bound.judgedAgainst(floorUnder, 0.8).verdict()).isEqualTo("NOT met");
    assertThat(Benchmarks.markdown(SETTINGS, result("", judged, floorOver)))
        .contains("1 of 2 rows met their target; 1 out of reach here");
    Row beaten = floor(library, 9_500_000L);
    Row notJudged = bound.judgedAgainst(beaten, 0.8);
    assertThat(notJudged.outOfReach()).isFalse();
    assertThat(notJudged.verdict())
        .isEqualTo("NOT met (its floor is none: the library beat it in every round)");
    Row met = Row.timed("r", "l", "b", library, baseline, "L B F, F B L", 0.95, "d");
    assertThat(met.judgedAgainst(floorOver, 0.95)).isSameAs(met);
  }

  @Test
  void aFailedTrialIsCountedAndShownNotRetried() {
    Row row =
        Row.timed(
            "r",
            "l",
            "b",
            new Samples(
                Arrays.asList(1_000_000L, null, 1_000_000L),
                List.of("java.lang.IllegalStateException: exited 1")),
            Samples.of(List.of(2_000_000L, 2_000_000L, 2_000_000L)),
            "L B, B L",
            0.8,
            "d");

    assertThat(row.met()).isTrue();
    assertThat(row.verdict()).isEqualTo("met, 1 failed trial (library)");
    assertThat(Benchmarks.markdown(SETTINGS, result("", row)))
        .contains("library 1.0, FAILED, 1.0; baseline 2.0, 2.0, 2.0.")
        .contains(
            "Failed trials of the library (not retried): java.lang.IllegalStateException: exited"
                + " 1.");
  }

  @Test
  void rotationReversesTheOrderEveryOtherRoundAndKeepsGoingAfterAFailure() throws Exception {
    StringBuilder ran = new StringBuilder();
    List<Samples> samples =
        Rotation.run(
            1,
            3,
            List.of(
                round -> {
                  ran.append('A');
                  if (round == 2) {
                    throw new IllegalStateException("boom");
                  }
                  return 1;
                },
                round -> {
                  ran.append('B');
                  return 2;
                }));

    assertThat(ran).hasToString("ABBAABBA");
    assertThat(samples.get(0).perRound()).containsExactly(1L, null, 1L);
    assertThat(samples.get(0).failures()).containsExactly("java.lang.IllegalStateException: boom");
    assertThat(samples.get(1).perRound()).containsExactly(2L, 2L, 2L);
  }

  @Test
  void theBreakdownHasItsSectionWhenTheRunMadeOne() {
    String report = Benchmarks.markdown(SETTINGS, result("| # | request |\n|---|---|\n\n", ROW));

    assertThat(report.lines().filter(l -> l.startsWith("## ")))
        .containsExactly(
            "## What each row measures",
            "## Where one Docker task's time goes",
            "## How it measures",
            "## Settings of this run");
    assertThat(report).contains("| # | request |\n|---|---|\n\n## How it measures\n\n");
  }
}
