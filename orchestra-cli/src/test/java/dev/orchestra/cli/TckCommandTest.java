package dev.orchestra.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code orchestra tck}: the whole TCK through the JUnit Platform launcher, in this JVM. */
class TckCommandTest {

  private static final String AWAIT_PROPERTY = "orchestra.tck.await";

  @TempDir Path root;

  @Test
  void passesTheLocalDriverAndSkipsWhatItLacksVisibly() throws IOException {
    Cli.Result r = Cli.run("tck", "--driver", "local", "--param", "root=" + root);

    assertThat(r.exitCode()).as(r.out()).isZero();
    assertThat(r.out().lines().findFirst())
        .hasValue("Orchestra TCK against driver 'local' with {root=" + root + "}");
    assertThat(r.out())
        .contains("PASS  happy path > ")
        .contains("SKIP  capabilities > USER: ")
        .contains("does not declare capability USER")
        .doesNotContain("FAIL  ");
    assertThat(r.out().lines().toList().get((int) r.out().lines().count() - 1))
        .matches("\\d+ tests: \\d+ passed, 0 failed, 5 skipped \\(\\d+\\.\\d s\\)");
    try (Stream<Path> left = Files.list(root)) {
      assertThat(left).isEmpty();
    }
    assertTheManualShows(r.out());
  }

  /**
   * The manual's sample of {@code orchestra tck} (docs/cli.md) is what a run prints: its first line
   * starts the output, its other lines are lines of it, and its totals line has the shape of the
   * real one.
   */
  private static void assertTheManualShows(String out) throws IOException {
    String manual = Files.readString(Path.of("..", "docs", "cli.md"), StandardCharsets.UTF_8);
    int section = manual.indexOf("\n## `orchestra tck`\n");
    assertThat(section).as("the section on orchestra tck in docs/cli.md").isNotNegative();
    int usage = manual.indexOf("```text\n", section);
    int start = manual.indexOf("```text\n", manual.indexOf("```\n", usage + 8)) + 8;
    List<String> sample = manual.substring(start, manual.indexOf("```", start)).lines().toList();
    List<String> lines = out.lines().toList();

    assertThat(lines.get(0)).as("the first line").startsWith(sample.get(0));
    for (String line : sample.subList(1, sample.size() - 1)) {
      if (!line.equals("...")) {
        assertThat(lines).as("the lines of the output").contains(line);
      }
    }
    String totals =
        Pattern.quote(sample.get(sample.size() - 1))
            .replace("<tests>", "\\E\\d+\\Q")
            .replace("<passed>", "\\E\\d+\\Q")
            .replace("<seconds>", "\\E\\d+\\.\\d\\Q");
    assertThat(lines.get(lines.size() - 1)).as("the totals line").matches(totals);
  }

  @Test
  void failsABrokenDriverNamingTheFailedTests() {
    Cli.Result r;
    try {
      r =
          Cli.run(
              "tck",
              "--driver",
              ExitZeroDriverProvider.NAME,
              "--param",
              "root=" + root,
              "-D" + AWAIT_PROPERTY + "=10");
    } finally {
      System.clearProperty(AWAIT_PROPERTY);
    }

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.out())
        .contains("FAIL  exit codes > the exit code is the task's own > exit 42: ")
        .contains("PASS  happy path > ")
        .containsPattern("\n\\d+ tests: \\d+ passed, [1-9]\\d* failed, [1-9]\\d* skipped")
        .contains("Failed:\n  ")
        .containsPattern("\n  exit codes > the exit code is the task's own > exit 42\n");
  }

  /**
   * Two runs in one JVM at once, as a tool that embeds the command may start them: each tests the
   * driver it names, none the other's.
   */
  @Test
  void twoRunsAtOnceEachTestTheirOwnDriver(@TempDir Path otherRoot) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<Cli.Result> local =
          pool.submit(() -> Cli.run("tck", "--driver", "local", "--param", "root=" + root));
      Future<Cli.Result> broken =
          pool.submit(
              () ->
                  Cli.run(
                      "tck",
                      "--driver",
                      ExitZeroDriverProvider.NAME,
                      "--param",
                      "root=" + otherRoot));

      Cli.Result l = local.get(10, TimeUnit.MINUTES);
      Cli.Result b = broken.get(10, TimeUnit.MINUTES);
      assertThat(l.exitCode()).as(l.out()).isZero();
      assertThat(l.out()).doesNotContain("FAIL  ").doesNotContain(ExitZeroDriverProvider.NAME);
      assertThat(b.exitCode()).as(b.out()).isEqualTo(1);
      assertThat(b.out())
          .contains("FAIL  exit codes > the exit code is the task's own > exit 42: ");
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void anUnknownDriverIsAUsageError() {
    Cli.Result r = Cli.run("tck", "--driver", "nope");

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err())
        .startsWith("orchestra tck: no Orchestra driver named 'nope'")
        .hasLineCount(1);
  }

  @Test
  void theDriverIsRequired() {
    Cli.Result r = Cli.run("tck");

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("Missing required option: '--driver=NAME'").hasLineCount(1);
  }
}
