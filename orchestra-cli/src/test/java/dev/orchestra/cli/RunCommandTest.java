package dev.orchestra.cli;

import static dev.orchestra.cli.Cli.runOnLocal;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.orchestra.Orchestra;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code orchestra run} in this JVM, on the local driver. */
class RunCommandTest {

  @TempDir Path root;

  private final ExecutorService executor = Executors.newSingleThreadExecutor();

  @AfterEach
  void stopExecutor() throws InterruptedException {
    executor.shutdownNow();
    assertThat(executor.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 3, 42, 255})
  void exitsWithTheTasksExitCode(int code) {
    Cli.Result r = Cli.run(runOnLocal(root, "--", "sh", "-c", "exit " + code));

    assertThat(r.exitCode()).isEqualTo(code);
    assertThat(r.err()).isEmpty();
  }

  @Test
  void keepsStdoutAndStderrApartByteForByte() {
    Cli.Result r =
        Cli.run(
            runOnLocal(
                root, "--", "sh", "-c", "printf 'out 1\\nout 2'; printf 'err\\n' >&2; exit 3"));

    assertThat(r.exitCode()).isEqualTo(3);
    assertThat(r.out()).isEqualTo("out 1\nout 2");
    assertThat(r.err()).isEqualTo("err\n");
  }

  @Test
  void acceptsADriverUriWhoseAuthorityIsTheNamespaceAndWhoseQueryHoldsParameters()
      throws IOException {
    String uri = "local://cli-uri-test?root=" + root.toUri().getRawPath();

    Cli.Result r =
        Cli.run("run", "--driver", uri, "--keep", "--", "sh", "-c", "echo via uri > f; cat f");

    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).isEqualTo("via uri\n");
    try (Stream<Path> left = Files.list(root)) {
      assertThat(left).map(p -> p.getFileName().toString()).containsExactly("cli-uri-test");
    }
    Cli.Result close = Cli.run("close", "--driver", uri, "--namespace", "cli-uri-test");
    assertThat(close.exitCode()).isZero();
    try (Stream<Path> left = Files.list(root)) {
      assertThat(left).isEmpty();
    }
  }

  @Test
  void refusesANamespaceThatContradictsTheDriverUri() {
    Cli.Result r =
        Cli.run("run", "--driver", "local://one?root=" + root, "--namespace", "two", "--", "true");

    assertThat(r.exitCode()).isEqualTo(Main.USAGE);
    assertThat(r.err()).contains("'two'").contains("'one'").hasLineCount(1);
  }

  @Test
  void refusesAMalformedDriverUriWithoutShowingItsQuery() {
    Cli.Result r = Cli.run("run", "--driver", "local://ns?token=s3cret&x=%zz", "--", "true");

    assertThat(r.exitCode()).isEqualTo(Main.USAGE);
    assertThat(r.err()).contains("malformed").doesNotContain("s3cret").hasLineCount(1);
  }

  @Test
  void copiesADirectoryInBeforeTheTaskAndOutAfterIt(@TempDir Path work) throws IOException {
    Path src = Files.createDirectories(work.resolve("checkout"));
    Files.writeString(src.resolve("build.sh"), "#!/bin/sh\necho built > out/artifact\n");
    Files.setPosixFilePermissions(
        src.resolve("build.sh"),
        java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    Path dist = work.resolve("dist");

    Cli.Result r =
        Cli.run(
            runOnLocal(
                root,
                "--copy-in",
                "src=" + src,
                "-v",
                "src:src",
                "-v",
                "out:out",
                "--copy-out",
                "out=" + dist,
                "--",
                "./src/build.sh"));

    assertThat(r.exitCode()).as("exit code (stderr: %s)", r.err()).isZero();
    assertThat(dist.resolve("artifact")).hasContent("built");
  }

  @Test
  void refusesBadCopiesBeforeRunningAnything(@TempDir Path work) throws IOException {
    Files.writeString(work.resolve("taken"), "x");

    Cli.Result noEquals = Cli.run(runOnLocal(root, "--copy-in", "src", "true"));
    Cli.Result missing =
        Cli.run(runOnLocal(root, "--copy-in", "src=" + work.resolve("no"), "true"));
    Cli.Result notEmpty = Cli.run(runOnLocal(root, "--copy-out", "out=" + work, "true"));

    assertThat(noEquals.exitCode()).isEqualTo(Main.USAGE);
    assertThat(noEquals.err()).contains("expected VOLUME=DIR, was 'src' (no '=')");
    assertThat(missing.exitCode()).isEqualTo(Main.USAGE);
    assertThat(missing.err()).contains("not a directory");
    assertThat(notEmpty.exitCode()).isEqualTo(Main.USAGE);
    assertThat(notEmpty.err()).contains("must be a missing or empty directory");
    try (Stream<Path> left = Files.list(root)) {
      assertThat(left).as("namespaces left").isEmpty();
    }
  }

  @Test
  void removesTheNamespaceWhenDone() throws IOException {
    Cli.Result r = Cli.run(runOnLocal(root, "-v", "data:/out", "--", "sh", "-c", "echo x > out/f"));

    assertThat(r.exitCode()).isZero();
    try (Stream<Path> left = Files.list(root)) {
      assertThat(left).isEmpty();
    }
  }

  @Test
  void pipesStandardInputThroughAllOfItByteForByte() {
    byte[] input = new byte[3 * 1024 * 1024 + 17];
    new Random(42).nextBytes(input);

    Cli.Result r = Cli.runWithInput(input, runOnLocal(root, "cat"));

    assertThat(r.exitCode()).isZero();
    assertThat(r.outBytes()).isEqualTo(input);
    assertThat(r.err()).isEmpty();
  }

  @Test
  void givesNoInputWhenStandardInputIsATerminal() {
    Cli.Result r =
        Cli.run(
            new java.io.ByteArrayInputStream("typed".getBytes(UTF_8)),
            false,
            runOnLocal(root, "cat"));

    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).isEmpty();
  }

  @Test
  void givesNoInputWithNoStdinEvenWhenPiped() {
    Cli.Result r = Cli.runWithInput("piped".getBytes(UTF_8), runOnLocal(root, "--no-stdin", "cat"));

    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).isEmpty();
  }

  @Test
  void streamsOutputWhileTheTaskRunsAndInputAsItComes() throws Exception {
    PipedOutputStream keyboard = new PipedOutputStream();
    PipedInputStream in = new PipedInputStream(keyboard);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Main main = new Main(new Stdio(in, true, out, err), false);
    Future<Integer> exit =
        executor.submit(
            () ->
                main.run(
                    runOnLocal(
                        root, "--", "sh", "-c", "echo first; read line; echo \"got $line\"")));

    await().atMost(Duration.ofSeconds(30)).until(() -> out.toString(UTF_8).equals("first\n"));
    assertThat(exit).isNotDone();
    keyboard.write("go\n".getBytes(UTF_8));
    keyboard.close();

    assertThat(exit.get(30, TimeUnit.SECONDS)).isZero();
    assertThat(out.toString(UTF_8)).isEqualTo("first\ngot go\n");
    assertThat(err.toString(UTF_8)).isEmpty();
  }

  @Test
  void passesEnvironmentValuesExactlyAsGiven() {
    Cli.Result r =
        Cli.run(
            runOnLocal(
                root,
                "-e",
                "A=1",
                "--env",
                "B=x=y z",
                "-e",
                "EMPTY=",
                "-e",
                "A=2",
                "--",
                "sh",
                "-c",
                "printf '%s|%s|%s|%s' \"$A\" \"$B\" \"${EMPTY-unset}\" \"${HOME-nohome}\""));

    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).isEqualTo("2|x=y z||nohome");
  }

  @Test
  void runsInTheWorkingDirectoryItNames() {
    Cli.Result r = Cli.run(runOnLocal(root, "-w", "sub/dir", "pwd"));

    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).endsWith("/work/sub/dir\n");
  }

  @Test
  void treatsEverythingAfterTheCommandAsItsArguments() {
    Cli.Result r =
        Cli.run(
            runOnLocal(
                root, "sh", "-c", "printf '[%s]' \"$@\"", "sh", "-e", "--keep", "--driver", "-v"));

    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).isEqualTo("[-e][--keep][--driver][-v]");
  }

  @Test
  void keepsTheNamespaceAndItsVolumesWithKeep() {
    String[] common = {"--namespace", "kept", "--keep", "-v", "data:/out"};
    try {
      Cli.Result first =
          Cli.run(runOnLocal(root, concat(common, "sh", "-c", "echo saved > out/file")));
      Cli.Result second = Cli.run(runOnLocal(root, concat(common, "cat", "out/file")));

      assertThat(first.exitCode()).isZero();
      assertThat(first.err()).isEmpty(); // the namespace was named: nothing to tell
      assertThat(second.exitCode()).isZero();
      assertThat(second.out()).isEqualTo("saved\n");
      assertThat(root.resolve("kept")).isDirectory();
    } finally {
      Cli.Result close = Cli.run("close", "--namespace", "kept", "--param", "root=" + root);
      assertThat(close.exitCode()).as(close.err()).isZero();
    }
    assertThat(root.resolve("kept")).doesNotExist();
  }

  @Test
  void namesAFreshNamespaceItKeeps() throws IOException {
    Cli.Result r = Cli.run(runOnLocal(root, "--keep", "true"));

    assertThat(r.exitCode()).isZero();
    assertThat(r.err()).matches("orchestra: kept namespace orchestra-cli-[0-9a-f]{8} .*\n");
    String namespace = r.err().split(" ")[3];
    try (Stream<Path> left = Files.list(root)) {
      assertThat(left).containsExactly(root.resolve(namespace));
    } finally {
      Orchestra.open("local", namespace, Map.of("root", root.toString())).close();
    }
  }

  @Test
  void passesOptionsTheDriverLacksAndTheTaskStillRuns() {
    Cli.Result r =
        Cli.run(
            runOnLocal(
                root,
                "--image",
                "busybox",
                "--user",
                "nobody",
                "--memory",
                "128m",
                "--cpu-shares",
                "512",
                "--",
                "echo",
                "ran"));

    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).isEqualTo("ran\n");
  }

  private static String[] concat(String[] first, String... rest) {
    return Stream.concat(Stream.of(first), Stream.of(rest)).toArray(String[]::new);
  }
}
