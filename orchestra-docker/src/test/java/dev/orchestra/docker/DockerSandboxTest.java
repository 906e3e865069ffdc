package dev.orchestra.docker;

import static dev.orchestra.docker.DockerTesting.IMAGE;
import static dev.orchestra.docker.DockerTesting.TASK_TIMEOUT;
import static dev.orchestra.docker.DockerTesting.namespace;
import static dev.orchestra.docker.DockerTesting.open;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.ExitReason;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.Sandbox;
import dev.orchestra.Task;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Sandbox steps as execs: stdin over both transports, live output, stopping, directories. */
@RequiresDocker
class DockerSandboxTest {

  private static Task.Builder sandbox(String id) {
    return Task.builder().id(id).image(IMAGE).command("sleep", "86400");
  }

  private static Task.Builder step(String id, String... command) {
    return Task.builder().id(id).command(command);
  }

  private static String[] sh(String script) {
    return new String[] {"sh", "-c", script};
  }

  private static ContainerStatus awaitEnd(Container c) {
    ContainerStatus s = c.await(TASK_TIMEOUT);
    assertThat(s.isDone()).as("isDone() of %s within %s", c, TASK_TIMEOUT).isTrue();
    return s;
  }

  private static String out(Container c) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    c.logs(out, new ByteArrayOutputStream());
    return out.toString(StandardCharsets.UTF_8);
  }

  /** Runs a step to its end and returns its stdout, failing unless it exits 0. */
  private static String run(Sandbox box, Task.Builder step) {
    Container c = box.exec(step.build());
    ContainerStatus s = awaitEnd(c);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    c.logs(out, err);
    assertThat(s.exitCode()).as("exit code of %s (stderr: %s)", c, err).isZero();
    return out.toString(StandardCharsets.UTF_8);
  }

  private static String md5(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(bytes));
  }

  @Test
  void megabytesOfStdinReachAStepThenEndOfFile() throws Exception {
    byte[] input = new byte[3 * 1024 * 1024 + 5];
    new Random(11).nextBytes(input);
    try (Driver driver = open(namespace("sbin"))) {
      Sandbox box = driver.createSandbox(sandbox("box").build());

      assertThat(run(box, step("md5", "md5sum").stdin(input))).isEqualTo(md5(input) + "  -\n");
      assertThat(run(box, step("no-input", "cat"))).as("a step without stdin").isEmpty();
    }
  }

  @Test
  void stdinOfAStepArrivesOverTcpToo() throws Exception {
    byte[] input = new byte[2 * 1024 * 1024 + 1];
    new Random(12).nextBytes(input);
    try (TcpEngine engine = TcpEngine.open();
        Driver driver = open(namespace("sbtcp"), Map.of("host", engine.host()))) {
      Sandbox box = driver.createSandbox(sandbox("box").build());

      assertThat(run(box, step("md5", "md5sum").stdin(input))).isEqualTo(md5(input) + "  -\n");
      Container stopped = box.exec(step("sleeper", sh("echo ready; sleep 300")).build());
      await().atMost(TASK_TIMEOUT).until(() -> out(stopped).equals("ready\n"));
      assertThat(stopped.stop(Duration.ofSeconds(10)).reason()).isEqualTo(ExitReason.STOPPED);
    }
  }

  @Test
  void followDeliversAStepsOutputLiveAndEndsWithTheStep() throws Exception {
    try (Driver driver = open(namespace("sbfollow"))) {
      Sandbox box = driver.createSandbox(sandbox("box").build());
      Container c = box.exec(step("talker", sh("echo first; echo oops >&2; sleep 300")).build());
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      AtomicReference<Throwable> failed = new AtomicReference<>();
      Thread follower =
          new Thread(
              () -> {
                try {
                  c.follow(out, err);
                } catch (RuntimeException e) {
                  failed.set(e);
                }
              });
      follower.start();

      await()
          .atMost(TASK_TIMEOUT)
          .untilAsserted(
              () -> {
                // The two streams arrive apart: wait for both.
                assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("first\n");
                assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("oops\n");
              });
      assertThat(follower.isAlive()).as("follow() runs while the step runs").isTrue();

      ContainerStatus s = c.stop(Duration.ofSeconds(10));
      follower.join(TASK_TIMEOUT.toMillis());

      assertThat(follower.isAlive()).as("follow() once the step was stopped").isFalse();
      assertThat(failed.get()).isNull();
      assertThat(s.exitCode()).isIn(143, 137);
      assertThat(s.reason()).isEqualTo(ExitReason.STOPPED);
    }
  }

  @Test
  void anInterruptedFollowOfAStepStopsPromptly() throws Exception {
    try (Driver driver = open(namespace("sbint"))) {
      Sandbox box = driver.createSandbox(sandbox("box").build());
      Container c = box.exec(step("talker", sh("echo first; sleep 300")).build());
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      AtomicReference<Throwable> thrown = new AtomicReference<>();
      AtomicReference<Boolean> flag = new AtomicReference<>();
      Thread follower =
          new Thread(
              () -> {
                try {
                  c.follow(out, new ByteArrayOutputStream());
                } catch (RuntimeException e) {
                  thrown.set(e);
                }
                flag.set(Thread.currentThread().isInterrupted());
              });
      follower.start();
      await()
          .atMost(TASK_TIMEOUT)
          .until(() -> out.toString(StandardCharsets.UTF_8).equals("first\n"));

      follower.interrupt();
      follower.join(Duration.ofSeconds(10).toMillis());

      assertThat(follower.isAlive()).isFalse();
      assertThat(thrown.get()).isInstanceOf(OrchestraInterruptedException.class);
      assertThat(flag.get()).isTrue();
      assertThat(c.status().isDone()).isFalse();
    }
  }

  @Test
  void stopEndsAStepAndItsBackgroundChildren() {
    try (Driver driver = open(namespace("sbtree"))) {
      Sandbox box = driver.createSandbox(sandbox("box").build());
      Container ticker =
          box.exec(
              step(
                      "ticker",
                      sh("(while :; do echo tick >> ticks; sleep 1; done) & echo started; wait"))
                  .build());
      await().atMost(TASK_TIMEOUT).until(() -> out(ticker).equals("started\n"));

      ContainerStatus s = ticker.stop(Duration.ofSeconds(10));

      assertThat(s.reason()).isEqualTo(ExitReason.STOPPED);
      AtomicReference<String> previous = new AtomicReference<>("");
      await()
          .atMost(TASK_TIMEOUT)
          .during(Duration.ofSeconds(3))
          .pollInterval(Duration.ofMillis(500))
          .until(
              () -> run(box, step("look-" + System.nanoTime(), "cat", "ticks")),
              t -> {
                boolean same = t.equals(previous.get());
                previous.set(t);
                return same;
              });
    }
  }

  @Test
  void aStepThatIgnoresTermIsKilledAfterTheGraceAndAStepTimeoutStopsIt() {
    try (Driver driver = open(namespace("sbkill"))) {
      Sandbox box = driver.createSandbox(sandbox("box").build());
      Container stubborn =
          box.exec(
              step("stubborn", sh("trap '' TERM; echo ready; while :; do sleep 1; done")).build());
      Container slow =
          box.exec(step("slow", "sleep", "300").timeout(Duration.ofSeconds(1)).build());
      await().atMost(TASK_TIMEOUT).until(() -> out(stubborn).equals("ready\n"));

      ContainerStatus killed = stubborn.stop(Duration.ofSeconds(1));
      ContainerStatus timedOut = awaitEnd(slow);

      assertThat(killed.exitCode()).isEqualTo(137);
      assertThat(killed.reason()).isEqualTo(ExitReason.STOPPED);
      assertThat(timedOut.exitCode()).isIn(143, 137);
      assertThat(timedOut.reason()).isEqualTo(ExitReason.TIMED_OUT);
    }
  }

  @Test
  void cleanupOfARunningStepKillsItAndFreesItsId() {
    try (Driver driver = open(namespace("sbclean"))) {
      Sandbox box = driver.createSandbox(sandbox("box").build());
      Container sleeper = box.exec(step("job", "sleep", "300").build());

      sleeper.cleanup();

      assertThat(sleeper.status().isDone()).isTrue();
      assertThat(sleeper.status().reason()).isEqualTo(ExitReason.STOPPED);
      Container again = box.exec(step("job", "echo", "fresh").build());
      assertThat(again.id()).isNotEqualTo(sleeper.id());
      assertThat(awaitEnd(again).exitCode()).isZero();
      assertThat(out(again)).isEqualTo("fresh\n");
      assertThat(run(box, step("ps", sh("ps -o comm | grep -c '^sleep$'"))))
          .as("sleep processes left: the sandbox's own")
          .isEqualTo("1\n");
    }
  }

  @Test
  void aStepRunsAsItsUserAndCanBeStoppedAsThatUser() {
    try (Driver driver = open(namespace("sbuser"))) {
      Sandbox box = driver.createSandbox(sandbox("box").build());

      assertThat(run(box, step("who", "id", "-un").user("nobody"))).isEqualTo("nobody\n");
      Container sleeper =
          box.exec(step("sleeper", sh("echo ready; exec sleep 300")).user("nobody").build());
      await().atMost(TASK_TIMEOUT).until(() -> out(sleeper).equals("ready\n"));
      ContainerStatus s = sleeper.stop(Duration.ofSeconds(10));
      assertThat(s.exitCode()).isEqualTo(143);
      assertThat(s.reason()).isEqualTo(ExitReason.STOPPED);
    }
  }

  @Test
  void aWorkDirInsideAVolumeIsCreatedWithoutTouchingTheVolume() {
    try (Driver driver = open(namespace("sbdirs"))) {
      Sandbox box = driver.createSandbox(sandbox("box").mount("data", "data").build());
      assertThat(run(box, step("open", sh("chmod 1777 data && stat -c %a data"))))
          .isEqualTo("1777\n");

      String deep = run(box, step("deep", "pwd").workDir("data/a/b"));
      String odd = "ünïcode/" + "x".repeat(120);
      String long_ = run(box, step("long", "pwd").workDir(odd));

      assertThat(deep).endsWith("/data/a/b\n");
      assertThat(long_).endsWith("/" + odd + "\n");
      assertThat(run(box, step("modes", sh("stat -c '%a %u' data data/a data/a/b"))))
          .as("the volume keeps its mode; the new directories are the engine's: root, 755")
          .isEqualTo("1777 0\n755 0\n755 0\n");
    }
  }

  @Test
  void anotherInstanceFindsTheSandboxAndRunsStepsInIt() {
    String namespace = namespace("sbfind");
    try (Driver driver = open(namespace);
        Driver other = open(namespace)) {
      Sandbox box = driver.createSandbox(sandbox("box").build());
      run(box, step("write", sh("echo from-first > note")));

      Sandbox found = other.createSandbox(sandbox("box").build());

      assertThat(found.container().id()).isEqualTo(box.container().id());
      assertThat(other.find("box").orElseThrow().id()).isEqualTo(box.container().id());
      assertThat(run(found, step("read", "cat", "note"))).isEqualTo("from-first\n");
    }
  }

  @Test
  void stepOutputLivesOnTheClientUntilItsSandboxOrDriverCloses() throws Exception {
    Driver driver = open(namespace("sbfiles"));
    try {
      Path scratch = ((DockerDriver) driver).namespace().scratch();
      Sandbox first = driver.createSandbox(sandbox("first").build());
      Sandbox second = driver.createSandbox(sandbox("second").build());
      Container step = first.exec(step("hello", "echo", "hello").build());
      run(second, step("hello", "echo", "hello"));
      awaitEnd(step);
      assertThat(Files.readString(scratch.resolve(step.id()).resolve("stdout")))
          .isEqualTo("hello\n");

      first.close();

      assertThat(scratch.resolve(step.id())).doesNotExist();
      assertThatThrownBy(() -> out(step))
          .isInstanceOf(dev.orchestra.ContainerNotFoundException.class);
      assertThat(scratch).isNotEmptyDirectory();
      driver.close();
      assertThat(scratch).doesNotExist();
    } finally {
      driver.close();
    }
  }
}
