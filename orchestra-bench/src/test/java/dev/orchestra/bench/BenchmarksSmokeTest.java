package dev.orchestra.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.orchestra.docker.RequiresDocker;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs every row once at a tiny size, to prove that the harness and its baselines still work. Never
 * asserts a timing: only that each row produced numbers and the library's results were right (the
 * rows themselves check exit codes and byte counts, and throw when one is wrong).
 */
class BenchmarksSmokeTest {

  private static Settings tiny(Set<String> rows, Path output) {
    return new Settings(
        2, 2, 0, 3, 1_000_000, 5, 100, 1_000_000, "64m", 4, "busybox", rows, output);
  }

  @Test
  void theLocalRowRunsBothContenders(@TempDir Path dir) throws Exception {
    Benchmarks.Result result =
        Benchmarks.run(tiny(Set.of("local-spawn"), dir.resolve("benchmarks.md")));

    assertThat(result.rows())
        .extracting(Row::name)
        .containsExactly("local spawn", "local spawn floor");
    result.rows().forEach(r -> assertMeasured(r, 2));
  }

  @Test
  @RequiresDocker
  void everyRowProducesNumbersAndTheReportWritesThem(@TempDir Path dir) throws Exception {
    Settings settings = tiny(Settings.ALL_ROWS, dir.resolve("benchmarks.md"));

    Benchmarks.Result result = Benchmarks.run(settings);

    List<String> names = result.rows().stream().map(Row::name).toList();
    // Podman's rows are measured where its service runs (CI starts it), and say so where not.
    boolean podman = PodmanRow.host().isPresent();
    List<String> expected = new ArrayList<>();
    expected.addAll(
        List.of(
            "docker latency",
            "docker latency floor",
            "docker latency vs Testcontainers",
            "docker parallel",
            "docker parallel floor",
            "docker logs",
            "docker logs floor",
            "docker over ssh: one task",
            "podman one task"));
    if (podman) {
      expected.add("podman one task floor");
    }
    expected.addAll(
        List.of(
            "local spawn",
            "local spawn floor",
            "status after done",
            "memory (local)",
            "memory (docker)",
            "in flight (local)",
            "in flight (docker)"));
    assertThat(names).containsExactlyElementsOf(expected);
    result.rows().stream()
        .filter(r -> !r.name().startsWith("memory") && !r.name().startsWith("in flight"))
        .filter(r -> !r.name().contains("over ssh") && !r.name().startsWith("podman"))
        .forEach(r -> assertMeasured(r, 2));
    // No engine over SSH is given here: the row says so instead of vanishing from the report.
    assertThat(result.rows())
        .filteredOn(r -> r.name().contains("over ssh"))
        .singleElement()
        .satisfies(r -> assertThat(r.verdict()).isEqualTo("not measured"));
    List<Row> podmanRows =
        result.rows().stream().filter(r -> r.name().startsWith("podman")).toList();
    if (podman) {
      podmanRows.forEach(r -> assertMeasured(r, 2));
    } else {
      assertThat(podmanRows)
          .singleElement()
          .satisfies(r -> assertThat(r.verdict()).isEqualTo("not measured"));
    }
    assertThat(result.rows())
        .filteredOn(
            r ->
                r.name().startsWith("memory")
                    || r.name().startsWith("status")
                    || r.name().startsWith("in flight"))
        .allSatisfy(r -> assertThat(r.met()).as(r.name() + ": " + r.verdict()).isTrue());
    assertThat(result.breakdown()).contains("POST /containers/create", "/start");
    String report = Benchmarks.markdown(settings, result);
    assertThat(report).contains("| docker latency floor |", "## Where one Docker task's time goes");
    assertThat(Benchmarks.table(result.rows()).lines()).hasSize(1 + result.rows().size());
  }

  private static void assertMeasured(Row r, int runs) {
    assertThat(r.librarySamples().measured()).as(r.name()).hasSize(runs).allMatch(n -> n > 0);
    assertThat(r.baselineSamples().measured()).as(r.name()).hasSize(runs).allMatch(n -> n > 0);
    assertThat(r.ratio()).as(r.name()).isPositive().isFinite();
  }
}
