package dev.orchestra.cli;

import static dev.orchestra.cli.Cli.runOnLocal;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input gives one clear line on stderr and exit code 2; a driver failure one line and exit code
 * 1; neither a stack trace unless {@code --debug}; neither leaves anything behind.
 */
class BadInputTest {

  @TempDir Path root;

  @AfterEach
  void nothingIsLeftBehind() throws IOException {
    try (Stream<Path> left = Files.list(root)) {
      assertThat(left).isEmpty();
    }
  }

  @Test
  void anUnknownOptionIsAUsageError() {
    assertUsageError(
        Cli.run(runOnLocal(root, "--bogus", "true")),
        "orchestra run: Unknown option: '--bogus' (see 'orchestra run --help')");
  }

  @Test
  void anEnvWithoutEqualsIsAUsageError() {
    assertUsageError(
        Cli.run(runOnLocal(root, "-e", "NAME", "true")),
        "orchestra run: Invalid value for option '--env' (KEY=VALUE): expected KEY=VALUE, was"
            + " 'NAME' (no '=') (see 'orchestra run --help')");
  }

  @Test
  void anEnvWithAnEmptyKeyIsAUsageError() {
    assertUsageError(Cli.run(runOnLocal(root, "-e", "=x", "true")), "(empty key)");
  }

  @Test
  void aVolumeWithoutColonIsAUsageError() {
    assertUsageError(
        Cli.run(runOnLocal(root, "-v", "data", "true")),
        "orchestra run: Invalid value for option '--volume' (VOLUME:PATH): expected VOLUME:PATH,"
            + " was 'data' (no ':') (see 'orchestra run --help')");
  }

  @Test
  void aVolumeReachingOutsideIsAUsageError() {
    assertUsageError(Cli.run(runOnLocal(root, "-v", "data:../../etc", "true")), "'../../etc'");
    assertUsageError(Cli.run(runOnLocal(root, "-v", "../x:out", "true")), "'../x'");
  }

  @Test
  void aWorkdirReachingOutsideIsAUsageError() {
    assertUsageError(Cli.run(runOnLocal(root, "-w", "../..", "true")), "'../..'");
  }

  @Test
  void aMalformedMemoryIsAUsageError() {
    assertUsageError(
        Cli.run(runOnLocal(root, "--memory", "12x", "true")),
        "Invalid value for option '--memory'");
  }

  @Test
  void aNegativeCpuShareIsAUsageError() {
    assertUsageError(
        Cli.run(runOnLocal(root, "--cpu-shares", "-1", "true")),
        "orchestra run: --cpu-shares must be 0 (no limit) or positive, was -1");
  }

  @Test
  void aMissingCommandIsAUsageError() {
    assertUsageError(Cli.run(runOnLocal(root)), "Missing required parameter: 'COMMAND'");
  }

  @Test
  void anUnknownDriverIsAUsageErrorListingTheKnownOnes() {
    assertUsageError(
        Cli.run(runOnLocal(root, "--driver", "nope", "true")),
        "orchestra run: no Orchestra driver named 'nope' on the class path; available: ");
    assertThat(Cli.run("run", "--driver", "nope", "true").err()).contains("local");
  }

  @Test
  void aDriverUriWithoutANamespaceIsAUsageErrorShowingBothForms() {
    assertUsageError(
        Cli.run(runOnLocal(root, "--driver", "local://", "true")),
        "--driver URI 'local://' names driver 'local' but no namespace");
    assertThat(Cli.run(runOnLocal(root, "--driver", "local://", "true")).err())
        .contains("local://<namespace>", "pass --driver local with --namespace <namespace>");
  }

  @Test
  void anUnknownDriverParameterIsAUsageError() {
    assertUsageError(
        Cli.run(runOnLocal(root, "--param", "colour=blue", "true")),
        "unknown parameter 'colour' for driver 'local'; known: root");
  }

  @Test
  void aMalformedDriverParameterIsAUsageError() {
    assertUsageError(
        Cli.run(runOnLocal(root, "--param", "root", "true")), "Invalid value for option '--param'");
  }

  @Test
  void closeNeedsTheNamespace() {
    assertUsageError(
        Cli.run("close", "--param", "root=" + root),
        "orchestra close: Missing required option: '--namespace=NS'");
  }

  @Test
  void noCommandAtAllShowsTheUsageOnStderr() {
    Cli.Result r = Cli.run();

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).contains("Usage: orchestra", "run", "drivers", "close", "tck");
  }

  @Test
  void aDriverFailureIsARuntimeErrorOnOneLine() throws IOException {
    Path file = Files.writeString(root.resolve("a-file"), "not a directory");
    try {
      Cli.Result r = Cli.run("run", "--param", "root=" + file.resolve("under"), "true");

      assertThat(r.exitCode()).isEqualTo(1);
      assertThat(r.out()).isEmpty();
      assertThat(r.err()).startsWith("orchestra run: ").contains(file.toString()).hasLineCount(1);
      assertThat(r.err()).doesNotContain("\tat ");
    } finally {
      Files.delete(file);
    }
  }

  @Test
  void aCommandThatCannotStartIsARuntimeError() {
    Cli.Result r = Cli.run(runOnLocal(root, "no-such-command-orchestra-test"));

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err())
        .startsWith("orchestra run: ")
        .contains("no-such-command-orchestra-test")
        .hasLineCount(1);
  }

  @Test
  void debugShowsTheStackTrace() {
    Cli.Result r = Cli.run(runOnLocal(root, "--debug", "no-such-command-orchestra-test"));

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err().lines().findFirst()).get().asString().startsWith("orchestra run: ");
    assertThat(r.err()).contains("\tat dev.orchestra.");
  }

  private static void assertUsageError(Cli.Result r, String message) {
    assertThat(r.exitCode()).as("exit code").isEqualTo(2);
    assertThat(r.out()).as("stdout").isEmpty();
    assertThat(r.err()).as("stderr").contains(message).hasLineCount(1).doesNotContain("\tat ");
  }
}
