package dev.orchestra.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The report says what its own run measured, how it measures, and with which settings: no more. */
class BenchmarksReportTest {

  private static final Settings SETTINGS =
      new Settings(
          3,
          1,
          4,
          1_000,
          5,
          10,
          2_000,
          "32m",
          "busybox",
          Settings.ALL_ROWS,
          Path.of("target", "benchmarks.md"));

  private static final Row ROW =
      Row.timed(
          "local spawn",
          "5 x runContainer(true) + onExit",
          "ProcessBuilder.start() + waitFor() x5",
          List.of(3_000_000L, 2_000_000L, 4_000_000L),
          List.of(2_000_000L, 2_000_000L, 2_000_000L),
          1.2,
          "5 tasks started one after the other.");

  @Test
  void holdsTheRunsNumbersTheMethodAndTheSettingsAndNothingElse() {
    String report =
        Benchmarks.markdown(
            SETTINGS,
            new Benchmarks.Result(List.of(ROW), "", Instant.parse("2026-01-02T03:04:05Z")));

    assertThat(report.lines().filter(l -> l.startsWith("#")))
        .containsExactly(
            "# Benchmarks",
            "## What each row measures",
            "## How it measures",
            "## Settings of this run");
    assertThat(report)
        .contains("Last run: 2026-01-02T03:04:05Z, 3 measured rounds per row after 1 warm-up")
        .contains("| local spawn | 5 x runContainer(true) + onExit | 3.0 ms |")
        .contains("| 1.500 | <= 1.20 | NOT met |")
        .contains("- **local spawn**: 5 tasks started one after the other. Samples (ms): library")
        .contains("ratio = library / baseline, against the row's target.")
        .contains("| `bench.runs` | 3 |\n| `bench.warmups` | 1 |\n| `bench.parallel` | 4 |")
        .contains("| `bench.memoryHeap` | 32m |")
        .contains(
            "| `bench.rows` |"
                + " breakdown,docker-latency,docker-logs,docker-parallel,docker-ssh,local-spawn,memory,status |")
        .doesNotContain("bench.output")
        .doesNotContain("\n\n\n");
  }

  @Test
  void theBreakdownHasItsSectionWhenTheRunMadeOne() {
    String report =
        Benchmarks.markdown(
            SETTINGS,
            new Benchmarks.Result(List.of(ROW), "| # | request |\n|---|---|\n\n", Instant.EPOCH));

    assertThat(report.lines().filter(l -> l.startsWith("## ")))
        .containsExactly(
            "## What each row measures",
            "## Where one Docker task's time goes",
            "## How it measures",
            "## Settings of this run");
    assertThat(report).contains("| # | request |\n|---|---|\n\n## How it measures\n\n");
  }
}
