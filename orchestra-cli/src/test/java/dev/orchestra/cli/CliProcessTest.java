package dev.orchestra.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code orchestra} command as a process of its own, as a shell runs it: exit codes, streams
 * kept apart, piped input, Ctrl-C.
 */
class CliProcessTest {

  private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(60);

  @TempDir Path root;
  @TempDir Path io;

  private final List<Process> started = new ArrayList<>();
  private final List<ProcessHandle> tasks = new ArrayList<>();

  @AfterEach
  void killWhatIsLeft() {
    for (Process p : started) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    // A task whose command was gone before it is no descendant any more.
    tasks.forEach(ProcessHandle::destroyForcibly);
  }

  @Test
  void exitsWithTheTasksCodeKeepingStdoutAndStderrApart() throws Exception {
    Process p =
        start(
            "run", "--param", "root=" + root, "--", "sh", "-c", "echo out; echo err >&2; exit 42");
    p.getOutputStream().close();

    assertThat(exitCode(p)).isEqualTo(42);
    assertThat(stdout()).isEqualTo("out\n");
    assertThat(stderr()).isEqualTo("err\n");
    assertNothingLeftIn(root);
  }

  @Test
  void pipesItsStandardInputToTheTask() throws Exception {
    Process p =
        start("run", "--param", "root=" + root, "--", "sh", "-c", "cat; echo 'end of input' >&2");
    try (OutputStream in = p.getOutputStream()) {
      in.write("line 1\nline 2 ünïcode\n".getBytes(UTF_8));
    }

    assertThat(exitCode(p)).isZero();
    assertThat(stdout()).isEqualTo("line 1\nline 2 ünïcode\n");
    assertThat(stderr()).isEqualTo("end of input\n");
  }

  @Test
  void ctrlCStopsTheTaskTreeAndRemovesTheNamespace() throws Exception {
    Process p =
        start(
            "run", "--param", "root=" + root, "--", "sh", "-c", "sleep 300 & echo \"$$ $!\"; wait");
    p.getOutputStream().close();

    // The task's first line arrives while it runs: its shell's pid and its background child's.
    Pattern pids = Pattern.compile("(\\d+) (\\d+)\n");
    Matcher m = await().atMost(EXIT_TIMEOUT).until(() -> pids.matcher(stdout()), Matcher::matches);
    List<ProcessHandle> task =
        List.of(
            ProcessHandle.of(Long.parseLong(m.group(1))).orElseThrow(),
            ProcessHandle.of(Long.parseLong(m.group(2))).orElseThrow());
    tasks.addAll(task);
    assertThat(p.descendants()).containsAll(task);
    assertThat(root).isNotEmptyDirectory();

    signal("INT", p.pid());

    assertThat(exitCode(p)).isEqualTo(TaskRunner.STOPPED);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(task).noneMatch(ProcessHandle::isAlive));
    assertNothingLeftIn(root);
    assertThat(stderr()).isEmpty();
  }

  @Test
  void sigtermStopsTheTaskGracefullyRemovesTheNamespaceAndExits143() throws Exception {
    Process p =
        start(
            "run",
            "--param",
            "root=" + root,
            "--",
            "sh",
            "-c",
            "trap 'echo stopped gracefully; exit 7' TERM; echo $$; while :; do sleep 1; done");

    terminate(p);

    assertThat(stdout()).as("the task's output").endsWith("\nstopped gracefully\n");
    assertNothingLeftIn(root);
    assertThat(stderr()).as("the command's standard error").doesNotContain("orchestra");
  }

  @Test
  void sigtermWithKeepStopsTheTaskAndKeepsTheNamespace() throws Exception {
    Process p =
        start(
            "run",
            "--param",
            "root=" + root,
            "--namespace",
            "kept",
            "--keep",
            "--",
            "sh",
            "-c",
            "echo $$; while :; do sleep 1; done");

    terminate(p);

    assertThat(root.resolve("kept")).isNotEmptyDirectory();
    assertThat(Cli.run("close", "--namespace", "kept", "--param", "root=" + root).exitCode())
        .isZero();
    assertNothingLeftIn(root);
  }

  /**
   * Sends SIGTERM to the command once its task runs (the task prints its shell's pid first), and
   * checks that the command exits 143 and the task ends.
   */
  private void terminate(Process p) throws Exception {
    p.getOutputStream().close();
    Pattern pid = Pattern.compile("(\\d+)\n");
    Matcher m = await().atMost(EXIT_TIMEOUT).until(() -> pid.matcher(stdout()), Matcher::matches);
    ProcessHandle task = ProcessHandle.of(Long.parseLong(m.group(1))).orElseThrow();
    tasks.add(task);

    signal("TERM", p.pid());

    assertThat(exitCode(p)).isEqualTo(TaskRunner.TERMINATED);
    await().atMost(Duration.ofSeconds(10)).until(() -> !task.isAlive());
  }

  @Test
  void stopsATaskWhoseOutputIsNoLongerRead() throws Exception {
    Process p =
        start(
            ProcessBuilder.Redirect.PIPE,
            "run",
            "--param",
            "root=" + root,
            "--",
            "sh",
            "-c",
            "yes");
    p.getOutputStream().close();
    try (InputStream out = p.getInputStream()) {
      assertThat(new String(out.readNBytes(4), UTF_8)).isEqualTo("y\ny\n");
    }

    assertThat(exitCode(p)).isEqualTo(TaskRunner.OUTPUT_CLOSED);
    assertNothingLeftIn(root);
    assertThat(stderr()).isEmpty();
  }

  @Test
  void badInputIsOneLineOnStderrAndExitCode2() throws Exception {
    Process p = start("run", "--param", "root=" + root, "-v", "data", "--", "true");
    p.getOutputStream().close();

    assertThat(exitCode(p)).isEqualTo(2);
    assertThat(stdout()).isEmpty();
    assertThat(stderr())
        .isEqualTo(
            "orchestra run: Invalid value for option '--volume' (VOLUME:PATH): expected"
                + " VOLUME:PATH, was 'data' (no ':') (see 'orchestra run --help')\n");
    assertNothingLeftIn(root);
  }

  @Test
  void anUnknownDriverIsExitCode2() throws Exception {
    Process p = start("run", "--driver", "nope", "--", "true");
    p.getOutputStream().close();

    assertThat(exitCode(p)).isEqualTo(2);
    assertThat(stderr())
        .startsWith("orchestra run: no Orchestra driver named 'nope' on the class path")
        .hasLineCount(1);
  }

  @Test
  void aDriverFailureIsExitCode1AndDebugAddsTheStackTraceAndTheLog() throws Exception {
    Path notADirectory = Files.writeString(io.resolve("file"), "x");
    String badRoot = "root=" + notADirectory.resolve("root");

    Process plain = start("run", "--param", badRoot, "--", "true");
    plain.getOutputStream().close();
    assertThat(exitCode(plain)).isEqualTo(1);
    assertThat(stderr()).startsWith("orchestra run: ").hasLineCount(1).doesNotContain("\tat ");

    Process debug = start("run", "--debug", "--param", badRoot, "--", "true");
    debug.getOutputStream().close();
    assertThat(exitCode(debug)).isEqualTo(1);
    assertThat(stderr())
        .contains("[DEBUG] ")
        .contains("orchestra run: ")
        .contains("\tat dev.orchestra.");
  }

  @Test
  void showsImagePullProgressOnStderr() throws Exception {
    boolean required =
        Boolean.parseBoolean(System.getenv("ORCHESTRA_REQUIRE_DOCKER"))
            || Boolean.getBoolean("orchestra.requireDocker");
    Assumptions.assumeTrue(
        required || Files.exists(Path.of("/var/run/docker.sock")),
        "no Docker engine at /var/run/docker.sock: image pulls cannot be shown");
    String image = "orchestra-cli-test-no-such-image:0";

    Process p = start("run", "--driver", "docker", "--image", image, "--", "true");
    p.getOutputStream().close();

    // Nothing can be pulled here: the progress starts, then the pull fails, as a runtime error.
    assertThat(exitCode(p)).isEqualTo(1);
    assertThat(stderr())
        .contains("pulling image " + image)
        .contains("orchestra run: ")
        .contains(image);
  }

  @Test
  void printsItsVersion() throws Exception {
    Process p = start("--version");
    p.getOutputStream().close();

    assertThat(exitCode(p)).isZero();
    // The build fills the version in: no placeholder is left.
    assertThat(stdout()).matches("orchestra \\d+\\.\\d+\\.\\d+[\\w.-]*\nJava .*\n");
  }

  /** Starts the command with its stdout and stderr going to files of {@link #io}. */
  private Process start(String... args) throws IOException {
    return start(ProcessBuilder.Redirect.to(io.resolve("stdout").toFile()), args);
  }

  /** Starts the command with its stderr going to a file of {@link #io}. */
  private Process start(ProcessBuilder.Redirect stdout, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    // Shells start background jobs with SIGINT ignored, and the JVM keeps an inherited SIG_IGN:
    // give the command the default disposition, as an interactive shell gives a foreground job.
    command.addAll(List.of("env", "--default-signal=INT"));
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(List.of("-cp", testClassPath(), Main.class.getName()));
    command.addAll(Arrays.asList(args));
    Process p =
        new ProcessBuilder(command)
            .redirectOutput(stdout)
            .redirectError(io.resolve("stderr").toFile())
            .start();
    started.add(p);
    return p;
  }

  private static String testClassPath() {
    String classPath = System.getProperty("java.class.path");
    assertThat(classPath.split(File.pathSeparator))
        .as("the test class path (the subprocess needs it whole)")
        .anyMatch(entry -> entry.contains("picocli"));
    return classPath;
  }

  private static int exitCode(Process p) throws InterruptedException {
    assertThat(p.waitFor(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS))
        .as("the command exits within " + EXIT_TIMEOUT)
        .isTrue();
    return p.exitValue();
  }

  private String stdout() throws IOException {
    return Files.readString(io.resolve("stdout"), UTF_8);
  }

  private String stderr() throws IOException {
    return Files.readString(io.resolve("stderr"), UTF_8);
  }

  private static void signal(String signal, long pid) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(kill.exitValue()).as("kill -" + signal + " " + pid).isZero();
  }

  private static void assertNothingLeftIn(Path root) throws IOException {
    try (Stream<Path> left = Files.list(root)) {
      assertThat(left).as("what the run left in " + root).isEmpty();
    }
  }
}
