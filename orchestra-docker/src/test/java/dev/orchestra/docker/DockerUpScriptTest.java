package dev.orchestra.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@code scripts/docker-up.sh} with an engine that answers {@code docker info} but does not run
 * containers: the script restarts it, or fails clearly. The engine is a fake: {@code docker},
 * {@code dockerd} and {@code pgrep} scripts first on the {@code PATH}, whose daemon is a sleeping
 * shell with a pid file of its own, so that the shared engine is never touched. The fake engine
 * runs containers unless the file {@code hung} exists; a daemon that starts clears it, unless
 * {@code hung-for-good} exists too.
 *
 * <p>The script restarts an engine as root only: a test run by another user (GitHub's runner) runs
 * it, and kills the fake daemons it started, through password-less {@code sudo}.
 */
class DockerUpScriptTest {

  private static final Path SCRIPT = Path.of("..", "scripts", "docker-up.sh");
  private static final boolean ROOT = "root".equals(System.getProperty("user.name"));

  private Path dir;
  private Path pidfile;

  @BeforeEach
  void fakeEngine() throws IOException {
    Assumptions.assumeTrue(
        ROOT || passwordlessSudo(),
        "docker-up.sh restarts the engine as root only (the tests run as "
            + System.getProperty("user.name")
            + ", without password-less sudo)");
    dir = Files.createTempDirectory("orchestra-docker-up-");
    pidfile = dir.resolve("docker.pid");
    Path bin = Files.createDirectories(dir.resolve("bin"));
    String state = dir.toString();
    fake(
        bin.resolve("dockerd"),
        "[ -e '" + state + "/hung-for-good' ] || rm -f '" + state + "/hung'",
        "echo $$ >> '" + state + "/starts'",
        "echo $$ > '" + pidfile + "'",
        "trap 'exit 0' TERM",
        "while :; do sleep 0.2; done");
    fake(
        bin.resolve("pgrep"),
        // Only 'pgrep -x dockerd' is asked: the fake daemon of the pid file.
        "pid=$(cat '" + pidfile + "' 2>/dev/null) && kill -0 \"$pid\" 2>/dev/null");
    fake(
        bin.resolve("docker"),
        "alive() { pid=$(cat '" + pidfile + "' 2>/dev/null) && kill -0 \"$pid\" 2>/dev/null; }",
        "case \"$1\" in",
        "  info) alive ;;",
        "  image) alive ;;",
        "  version) echo 'fake (API 0)' ;;",
        "  ps) alive ;;",
        "  rm) alive ;;",
        "  run) alive || exit 1; if [ -e '" + state + "/hung' ]; then exec sleep 600; fi ;;",
        "  *) echo \"fake docker: $*\" >&2; exit 2 ;;",
        "esac");
  }

  @AfterEach
  void stopFakeEngine() throws IOException {
    if (dir == null) {
      return;
    }
    Path starts = dir.resolve("starts");
    if (Files.exists(starts)) {
      // Every fake daemon this test started, by the pid it noted.
      for (String pid : Files.readAllLines(starts)) {
        kill(Long.parseLong(pid.strip()));
      }
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  @Test
  @DisplayName("an engine that runs containers is left alone")
  void healthyEngineIsLeftAlone() throws Exception {
    startFakeDaemon();
    Result r = runScript();
    assertThat(r.exitCode()).as("exit code; output:%n%s", r.output()).isZero();
    assertThat(r.output()).contains("engine runs containers").doesNotContain("restarting");
    assertThat(Files.readAllLines(dir.resolve("starts"))).as("daemon starts").hasSize(1);
  }

  @Test
  @DisplayName(
      "an engine that answers but does not run a container is restarted, naming the deadlock,"
          + " and then runs them")
  void hungEngineIsRestarted() throws Exception {
    long hungPid = startFakeDaemon();
    Files.createFile(dir.resolve("hung"));
    Result r = runScript();
    assertThat(r.exitCode()).as("exit code; output:%n%s", r.output()).isZero();
    assertThat(r.output())
        .contains("moby/moby#46661")
        .contains("restarting dockerd")
        .contains("stopping dockerd (pid " + hungPid + ")")
        .contains("engine runs containers again after the restart");
    assertThat(ProcessHandle.of(hungPid).map(ProcessHandle::isAlive).orElse(false))
        .as("the hung daemon is alive")
        .isFalse();
    assertThat(Files.readAllLines(dir.resolve("starts"))).as("daemon starts").hasSize(2);
  }

  @Test
  @DisplayName("an engine still hung after the restart fails the script, saying so")
  void engineHungForGoodFails() throws Exception {
    Files.createFile(dir.resolve("hung"));
    Files.createFile(dir.resolve("hung-for-good"));
    startFakeDaemon();
    Result r = runScript();
    assertThat(r.exitCode()).as("exit code; output:%n%s", r.output()).isNotZero();
    assertThat(r.output()).contains("still does not run a container");
  }

  private long startFakeDaemon() throws Exception {
    new ProcessBuilder("setsid", dir.resolve("bin/dockerd").toString())
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve("first-daemon.log").toFile())
        .start();
    await("the fake daemon's pid file")
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(20))
        .until(() -> Files.exists(pidfile) && Files.readString(pidfile).endsWith("\n"));
    return Long.parseLong(Files.readString(pidfile).strip());
  }

  private record Result(int exitCode, String output) {}

  private Result runScript() throws Exception {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("PATH", dir.resolve("bin") + ":" + System.getenv("PATH"));
    env.put("DOCKER_PIDFILE", pidfile.toString());
    env.put("DOCKERD_LOG", dir.resolve("dockerd.log").toString());
    env.put("DOCKER_UP_PROBE_SECONDS", "2");
    env.put("DOCKER_UP_WAIT_SECONDS", "10");
    List<String> command = new ArrayList<>();
    if (!ROOT) {
      // sudo resets the environment and the PATH: hand them over through env(1).
      command.addAll(List.of("sudo", "-n", "env"));
      env.forEach((k, v) -> command.add(k + "=" + v));
    }
    command.addAll(List.of("bash", SCRIPT.toString()));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("the script ended").isTrue();
    return new Result(p.exitValue(), output);
  }

  /** The fake daemons the script starts run as root: another user kills them through sudo. */
  private static void kill(long pid) throws IOException {
    if (ROOT || ProcessHandle.of(pid).isEmpty()) {
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      return;
    }
    try {
      new ProcessBuilder("sudo", "-n", "kill", "-KILL", Long.toString(pid))
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start()
          .waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while killing fake daemon " + pid, e);
    }
  }

  private static boolean passwordlessSudo() {
    try {
      Process p =
          new ProcessBuilder("sudo", "-n", "true")
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static void fake(Path file, String... lines) throws IOException {
    Files.writeString(
        file, "#!/bin/sh\n" + String.join("\n", List.of(lines)) + "\n", StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
  }
}
