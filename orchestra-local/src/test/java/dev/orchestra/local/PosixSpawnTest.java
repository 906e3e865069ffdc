package dev.orchestra.local;

import static dev.orchestra.local.LocalTesting.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The process launch of the driver on Linux: what the child gets, and how it is reaped. The
 * driver's own tests and both kits run on it too; these check what they cannot see.
 */
class PosixSpawnTest {

  private static final Map<String, String> ENV = Map.of("PATH", System.getenv("PATH"));

  @TempDir Path dir;
  private final List<Process> started = new ArrayList<>();

  @BeforeAll
  static void onLinux() {
    assumeTrue(
        System.getProperty("os.name").equals("Linux")
            && !"jdk".equals(System.getProperty(PosixSpawn.PROPERTY)),
        "the launch is built for Linux (LaunchChoiceTest checks that it is used there)");
  }

  @AfterEach
  void killLeftovers() throws InterruptedException {
    for (Process p : started) {
      p.destroyForcibly();
      assertThat(p.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  void exitValuesAreTheJdksExitCodeOr128PlusTheSignal() throws Exception {
    assertThat(run("exit 3").waitFor()).isEqualTo(3);
    assertThat(run("exit 0").waitFor()).isZero();
    assertThat(run("kill -9 $$").waitFor()).isEqualTo(137);
    assertThat(run("kill -TERM $$").waitFor()).isEqualTo(143);
  }

  @Test
  void theChildGetsTheGivenEnvironmentAndDirectoryOnly() throws Exception {
    Path work = Files.createDirectory(dir.resolve("work ü"));
    Map<String, String> env = Map.of("PATH", System.getenv("PATH"), "ONE", "1 ü");

    assertThat(start(List.of("env"), env, work, false).waitFor()).isZero();
    assertThat(out().lines()).containsExactlyInAnyOrder("ONE=1 ü", "PATH=" + env.get("PATH"));
    assertThat(start(List.of("pwd"), env, work, false).waitFor()).isZero();
    assertThat(out()).isEqualTo(work.toRealPath() + "\n");
  }

  @Test
  void outputGoesToTheFilesTruncatingThem() throws Exception {
    Files.writeString(dir.resolve("stdout"), "old content, longer than the new one");
    Files.writeString(dir.resolve("stderr"), "old content, longer than the new one");

    assertThat(run("echo out; echo err >&2").waitFor()).isZero();

    assertThat(out()).isEqualTo("out\n");
    assertThat(Files.readString(dir.resolve("stderr"))).isEqualTo("err\n");
  }

  @Test
  void inputIsAPipeOrEmpty() throws Exception {
    Process piped = start(List.of("cat"), ENV, dir, true);
    byte[] big = new byte[300_000]; // more than a pipe holds: writes must wait for the reader
    for (int i = 0; i < big.length; i++) {
      big[i] = (byte) ('a' + i % 26);
    }
    try (OutputStream in = piped.getOutputStream()) {
      in.write(big, 0, 100_000);
      in.write(big, 100_000, 200_000);
    }
    assertThat(piped.waitFor()).isZero();
    assertThat(Files.readAllBytes(dir.resolve("stdout"))).isEqualTo(big);

    assertThat(start(List.of("cat"), ENV, dir, false).waitFor()).isZero();
    assertThat(out()).isEmpty();
  }

  @Test
  void writingToAChildThatStoppedReadingFails() throws Exception {
    Process p = start(List.of("true"), ENV, dir, true);
    assertThat(p.waitFor()).isZero();

    OutputStream in = p.getOutputStream();
    assertThatThrownBy(() -> in.write(new byte[70_000])).isInstanceOf(IOException.class);
    in.close();
    assertThatThrownBy(() -> in.write(1)).hasMessage("Stream closed");
  }

  @Test
  void noDescriptorOfTheJvmLeaksIntoTheChild() throws Exception {
    Path secret = Files.writeString(dir.resolve("held-open"), "x");
    // The JDK opens files without O_CLOEXEC: held open here, it would reach the child.
    FileInputStream held = new FileInputStream(secret.toFile());
    List<String> open = new ArrayList<>();
    try {
      Process p = start(List.of("sleep", "300"), ENV, dir, true);
      // posix_spawn returns once the program runs: what it holds now is what it inherited.
      try (var fds = Files.list(Path.of("/proc", String.valueOf(p.pid()), "fd"))) {
        for (Path fd : fds.sorted().toList()) {
          open.add(fd.getFileName() + " " + Files.readSymbolicLink(fd));
        }
      }
    } finally {
      held.close();
    }
    assertThat(open).hasSize(3);
    assertThat(open.get(0)).startsWith("0 pipe:");
    assertThat(open.subList(1, 3))
        .containsExactly("1 " + dir.resolve("stdout"), "2 " + dir.resolve("stderr"));
  }

  @Test
  void signalsAreAsTheJdkLeavesThem() throws Exception {
    String script = "grep -E '^Sig(Blk|Ign)' /proc/$$/status";
    Process jdk = new ProcessBuilder("sh", "-c", script).redirectErrorStream(true).start();
    String expected = new String(jdk.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(jdk.waitFor()).isZero();

    assertThat(run(script).waitFor()).isZero();

    // What the JVM ignores stays ignored, as with the JDK: glibc's internal signals, and SIGHUP
    // when the build runs under nohup (as .ci/run does). Nothing is blocked.
    assertThat(out()).isEqualTo(expected).contains("SigBlk:\t0000000000000000\n");
  }

  @Test
  void aMissingProgramOrDirectoryFailsAsWithTheJdk() {
    assertThatThrownBy(() -> start(List.of("no-such-program-7f3a"), ENV, dir, true))
        .isInstanceOf(IOException.class)
        .hasMessage(
            "Cannot run program \"no-such-program-7f3a\" (in directory \""
                + dir
                + "\"): error=2, No such file or directory");
    Path missing = dir.resolve("missing");
    assertThatThrownBy(() -> start(List.of("true"), ENV, missing, false))
        .hasMessageEndingWith("error=2, No such file or directory");
    assertThatThrownBy(() -> start(List.of("echo", "a\0b"), ENV, dir, false))
        .hasMessage("invalid null character in command");
  }

  @Test
  void destroyEndsTheProcessAndOnExitReportsIt() throws Exception {
    Process term = start(List.of("sleep", "300"), ENV, dir, false);
    Process kill = start(List.of("sleep", "300"), ENV, dir, false);
    assertThat(term.isAlive()).isTrue();
    assertThatThrownBy(term::exitValue).isInstanceOf(IllegalThreadStateException.class);
    assertThat(term.waitFor(10, TimeUnit.MILLISECONDS)).isFalse();

    term.destroy();
    kill.destroyForcibly();

    assertThat(term.onExit().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isSameAs(term);
    assertThat(term.exitValue()).isEqualTo(143);
    assertThat(kill.onExit().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS).exitValue()).isEqualTo(137);
    assertThat(term.isAlive()).isFalse();
    assertThat(term.toHandle().isAlive()).isFalse();
  }

  @Test
  void manyChildrenAreReapedByOneThread() throws Exception {
    List<Process> all = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      all.add(start(List.of("sh", "-c", "exit " + i), ENV, dir, i % 2 == 0));
    }
    for (int i = 0; i < all.size(); i++) {
      all.get(i).getOutputStream().close();
      assertThat(all.get(i).waitFor()).isEqualTo(i);
    }
    assertThat(
            Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("orchestra-local-reaper")))
        .hasSize(1);
  }

  private Process run(String script) throws IOException {
    return start(List.of("sh", "-c", script), ENV, dir, false);
  }

  private Process start(List<String> command, Map<String, String> env, Path workDir, boolean pipe)
      throws IOException {
    Process p =
        PosixSpawn.start(command, env, workDir, dir.resolve("stdout"), dir.resolve("stderr"), pipe);
    started.add(p);
    return p;
  }

  private String out() throws IOException {
    return Files.readString(dir.resolve("stdout"), StandardCharsets.UTF_8);
  }
}
