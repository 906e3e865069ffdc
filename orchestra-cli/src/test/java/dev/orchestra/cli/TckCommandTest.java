package dev.orchestra.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
