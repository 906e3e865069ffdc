package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.ContainerLimits;
import dev.orchestra.ContainerNotFoundException;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.Task;
import dev.orchestra.Volume;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.assertj.core.api.SoftAssertions;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The technology compatibility kit of Orchestra drivers: every rule of the driver contract as a
 * JUnit 5 test.
 *
 * <p>A driver proves itself with one test class:
 *
 * <pre>{@code
 * class AcmeDriverTckTest extends DriverTck {
 *   @Override
 *   protected Driver newDriver(String namespace) {
 *     return Orchestra.open("acme", namespace);
 *   }
 * }
 * }</pre>
 *
 * <p>The tests are grouped by concern in {@code @Nested} classes ({@link HappyPath}, {@link
 * ExitCodes}, {@link Logs}, ...). Each test opens a driver for a fresh namespace of its own ({@code
 * tck-} and random characters) before it runs, and closes every driver it opened afterwards, even
 * when it fails. Tests share nothing, so they may run in parallel: enable JUnit's parallel
 * execution ({@code junit.jupiter.execution.parallel.enabled=true} with mode {@code concurrent}) to
 * shorten a run against a slow platform.
 *
 * <p>Every task uses {@link #image()} ({@code busybox} unless overridden) and only commands that
 * both a Linux host and busybox offer ({@code sh -c}, {@code echo}, {@code printf}, {@code cat},
 * {@code head}, {@code yes}, {@code env}, {@code pwd}, {@code sleep}, {@code kill}, {@code id},
 * {@code test}).
 *
 * <p>Timeouts: each test, {@code @BeforeEach} and {@code @AfterEach} method must finish within
 * {@link #testTimeout()}, the system property {@code orchestra.tck.timeout} (an ISO-8601 duration
 * such as {@code PT2M} or a number of seconds; default 2 minutes). Each wait for a task's state
 * gives up after {@link #awaitTimeout()}, the system property {@code orchestra.tck.await} (same
 * format; default 60 seconds). A test that times out fails with a {@link
 * java.util.concurrent.TimeoutException} whose stack trace shows where it was stuck.
 *
 * <p>Optional behaviour is declared by {@link Driver#capabilities()}: the tests of a capability the
 * driver lacks are aborted with the reason ({@code driver 'local' does not declare capability
 * USER}), so that they are reported as skipped, never as passed.
 *
 * <p>When the environment variable {@value #CALLER_MARKER} is set in the JVM running the TCK, the
 * environment tests also check that it does not reach any task.
 */
@TestInstance(TestInstance.Lifecycle.PER_METHOD)
@ExtendWith(TckTimeoutExtension.class)
public abstract class DriverTck {

  /**
   * An environment variable that, when set for the JVM running the TCK, must not be visible to any
   * task: the build sets it to prove that the caller's environment does not leak.
   */
  public static final String CALLER_MARKER = "ORCHESTRA_TCK_CALLER_MARKER";

  private static final Logger LOG = LoggerFactory.getLogger(DriverTck.class);

  private static final Duration POLL = Duration.ofMillis(50);
  private static final int MIB = 1024 * 1024;
  private static final String NO_SUCH_IMAGE = "orchestra-tck-no-such-image:0";

  private final List<Driver> opened = new CopyOnWriteArrayList<>();
  private final AtomicInteger sequence = new AtomicInteger();
  private String namespace;
  private Driver driver;

  /** For subclasses. */
  protected DriverTck() {}

  /**
   * Opens the driver under test for a namespace. Called at least once per test, with a namespace no
   * other test uses; some tests open several drivers, for one namespace or for several. The TCK
   * closes every driver it opened.
   *
   * @param namespace the namespace: {@code tck-}, random lower-case letters and digits, and
   *     sometimes a suffix such as {@code -other}
   * @return a new driver for the namespace
   */
  protected abstract Driver newDriver(String namespace);

  /**
   * The image every task of the TCK names. Drivers without {@link Capability#IMAGE} ignore it; an
   * image-based driver needs it to hold a POSIX shell and the busybox (or coreutils) commands, and
   * a user {@code nobody} for the {@link Capability#USER} test.
   *
   * @return the image reference; {@code "busybox"} by default
   */
  protected String image() {
    return "busybox";
  }

  /**
   * The most one wait for a task's state may take before the test fails.
   *
   * @return the system property {@code orchestra.tck.await} (ISO-8601 duration or seconds) or 60
   *     seconds
   */
  protected Duration awaitTimeout() {
    return TckSettings.awaitTimeout();
  }

  /**
   * The most one test method (or one {@code @BeforeEach} or {@code @AfterEach} method) may take
   * before it is interrupted and fails.
   *
   * @return the system property {@code orchestra.tck.timeout} (ISO-8601 duration or seconds) or 2
   *     minutes
   */
  protected Duration testTimeout() {
    return TckSettings.testTimeout();
  }

  /**
   * The environment variables the platform itself sets in every task, which may hold the same value
   * in the caller's environment without having leaked from it. The leak test ignores them.
   *
   * @return variable names; by default {@code PATH}, {@code HOME}, {@code HOSTNAME}, {@code PWD},
   *     {@code OLDPWD}, {@code SHLVL}, {@code TERM}, {@code _}, {@code USER}, {@code LOGNAME},
   *     {@code SHELL}, {@code LANG}, {@code LC_ALL}
   */
  protected Set<String> platformVariables() {
    return Set.of(
        "PATH",
        "HOME",
        "HOSTNAME",
        "PWD",
        "OLDPWD",
        "SHLVL",
        "TERM",
        "_",
        "USER",
        "LOGNAME",
        "SHELL",
        "LANG",
        "LC_ALL");
  }

  @BeforeEach
  final void openDriverForTest(TestInfo test) {
    namespace = newNamespace();
    LOG.debug("{} runs in namespace {}", test.getDisplayName(), namespace);
    driver = open(namespace);
  }

  @AfterEach
  final void closeDriversOfTest() {
    List<Driver> toClose = new ArrayList<>(opened);
    Collections.reverse(toClose);
    RuntimeException failure = null;
    for (Driver d : toClose) {
      try {
        d.close();
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    opened.clear();
    if (failure != null) {
      throw failure;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Groups
  // ---------------------------------------------------------------------------------------------

  /** The scenario every driver must get right first: run a command, read what it printed. */
  @Nested
  @DisplayName("happy path")
  @TestInstance(TestInstance.Lifecycle.PER_METHOD)
  public class HappyPath {

    /** For JUnit. */
    public HappyPath() {}

    @Test
    @DisplayName("echo prints its arguments to stdout exactly and exits 0")
    void echoPrintsToStdout() {
      Result r = runToEnd(task("echo", "echo", "hello", "world").build());

      assertThat(r.exitCode()).as("exit code").isZero();
      assertThat(r.out()).as("stdout").isEqualTo("hello world\n");
      assertThat(r.err()).as("stderr").isEmpty();
    }

    @Test
    @DisplayName("name() is the non-empty lower-case registry name")
    void nameIsRegistryName() {
      assertThat(driver.name()).matches("[a-z0-9][a-z0-9._-]*");
    }

    @Test
    @DisplayName(
        "runContainer with a known task id returns the same container and does not run it"
            + " again")
    void sameTaskIdSameContainerOneRun() {
      Task count = counterTask("count");
      Container first = driver.runContainer(count);
      Container again = driver.runContainer(count);
      assertThat(again.id()).as("id of the container of the second call").isEqualTo(first.id());
      assertThat(awaitDone(first).exitCode()).isZero();
      assertThat(awaitDone(again).exitCode()).isZero();

      Container afterDone = driver.runContainer(counterTask("count"));
      assertThat(afterDone.id()).as("id after the task finished").isEqualTo(first.id());
      assertThat(awaitDone(afterDone).exitCode()).isZero();

      assertThat(readFile(driver, "state", "runs")).as("runs recorded").isEqualTo("run\n");
    }

    @Test
    @DisplayName("after cleanup, runContainer with the same task id starts a fresh run")
    void cleanupFreesTheTaskId() {
      Container first = driver.runContainer(counterTask("count"));
      assertThat(awaitDone(first).exitCode()).isZero();
      first.cleanup();

      Container second = driver.runContainer(counterTask("count"));
      assertThat(awaitDone(second).exitCode()).isZero();

      assertThat(readFile(driver, "state", "runs")).as("runs recorded").isEqualTo("run\nrun\n");
    }

    @Test
    @DisplayName("cleanup() may be called any number of times")
    void cleanupIsIdempotent() {
      Container c = driver.runContainer(task("echo", "echo", "hi").build());
      awaitDone(c);

      c.cleanup();
      c.cleanup();
      c.cleanup();
    }

    @Test
    @DisplayName("id() is non-empty and stable for the container's life")
    void idIsStable() {
      Container c = driver.runContainer(task("echo", "echo", "hi").build());
      String id = c.id();
      assertThat(id).as("id()").isNotBlank();

      c.status();
      assertThat(c.id()).as("id() while polled").isEqualTo(id);
      awaitDone(c);
      logsOf(c);
      assertThat(c.id()).as("id() once done").isEqualTo(id);
    }
  }

  /** A task's exit code reads exactly what the task's process returned. */
  @Nested
  @DisplayName("exit codes")
  @TestInstance(TestInstance.Lifecycle.PER_METHOD)
  public class ExitCodes {

    /** For JUnit. */
    public ExitCodes() {}

    @Test
    @DisplayName("a task that exits 1 is done with exit code 1, and stays so on every poll")
    void failureIsDoneAndStaysExact() {
      Container c = driver.runContainer(task("fail", sh("exit 1")).build());
      awaitDone(c);

      for (int poll = 0; poll < 20; poll++) {
        ContainerStatus s = c.status();
        assertThat(s.isDone()).as("isDone() on poll %d after done", poll).isTrue();
        assertThat(s.exitCode()).as("exitCode() on poll %d after done", poll).isEqualTo(1);
      }
    }

    @ParameterizedTest(name = "exit {0}")
    @ValueSource(ints = {0, 3, 42, 255})
    @DisplayName("the exit code is the task's own")
    void exactExitCode(int code) {
      Result r = runToEnd(task("exit-" + code, sh("exit " + code)).build());

      assertThat(r.exitCode()).as("exit code").isEqualTo(code);
    }

    @Test
    @DisplayName("a running task reads not done with exit code -1")
    void runningTaskIsNotDone() {
      Container c = driver.runContainer(task("sleeper", "sleep", "300").build());

      ContainerStatus s = c.status();
      assertThat(s.isDone()).as("isDone() of a task sleeping 300 s").isFalse();
      assertThat(s.exitCode()).as("exitCode() while running").isEqualTo(-1);
      c.cleanup();
    }

    @ParameterizedTest(name = "signal {0}")
    @ValueSource(ints = {9, 15})
    @DisplayName(
        "a task killed by signal N reads 128+N (container drivers need an init process:"
            + " PID 1 cannot be killed by itself)")
    void killedBySignal(int signal) {
      Result r = runToEnd(task("killed-" + signal, sh("kill -" + signal + " $$")).build());

      assertThat(r.exitCode())
          .as("exit code of a task killed by signal %d", signal)
          .isEqualTo(128 + signal);
    }
  }

  /** Logs: two streams, byte for byte, from the first byte, as often as asked. */
  @Nested
  @DisplayName("logs")
  @TestInstance(TestInstance.Lifecycle.PER_METHOD)
  public class Logs {

    /** For JUnit. */
    public Logs() {}

    @Test
    @DisplayName("stdout and stderr arrive on their own streams")
    void streamsKeptApart() {
      Result r = runToEnd(task("both", sh("echo out; echo err >&2")).build());

      assertThat(r.out()).as("stdout").isEqualTo("out\n");
      assertThat(r.err()).as("stderr").isEqualTo("err\n");
    }

    @Test
    @DisplayName("1 MiB on stdout and 1 MiB on stderr arrive byte for byte")
    void megabyteLogsExact() {
      Result r =
          runToEnd(
              task("mebibyte", sh("yes out | head -c 1048576; yes err | head -c 1048576 >&2"))
                  .build());

      assertThat(r.exitCode()).as("exit code").isZero();
      assertSameBytes("stdout", r.stdout(), "out\n".repeat(MIB / 4).getBytes(UTF8));
      assertSameBytes("stderr", r.stderr(), "err\n".repeat(MIB / 4).getBytes(UTF8));
    }

    @Test
    @DisplayName("binary output is binary-safe: every byte value arrives unchanged")
    void binarySafe() {
      byte[] bytes = randomBytes(256 * 1024);
      for (int b = 0; b < 256; b++) {
        bytes[b] = (byte) b;
      }
      Result r = runToEnd(task("binary", "cat").stdin(bytes).build());

      assertThat(r.exitCode()).as("exit code").isZero();
      assertSameBytes("stdout", r.stdout(), bytes);
    }

    @Test
    @DisplayName("a partial last line without newline is kept, on both streams")
    void partialLastLineKept() {
      Result r =
          runToEnd(task("partial", sh("printf 'no newline'; printf 'err tail' >&2")).build());

      assertThat(r.out()).as("stdout").isEqualTo("no newline");
      assertThat(r.err()).as("stderr").isEqualTo("err tail");
    }

    @Test
    @DisplayName("logs can be read again after the task exited, the same bytes each time")
    void logsRepeatable() {
      Container c =
          driver.runContainer(task("repeat", sh("echo one; echo two >&2; printf three")).build());
      awaitDone(c);

      Output first = logsOf(c);
      Output second = logsOf(c);

      assertThat(first.out()).as("stdout").isEqualTo("one\nthree");
      assertThat(first.err()).as("stderr").isEqualTo("two\n");
      assertSameBytes("stdout of the second call", second.stdout(), first.stdout());
      assertSameBytes("stderr of the second call", second.stderr(), first.stderr());
    }

    @Test
    @DisplayName("logs are readable while the task runs, from the first byte")
    void logsWhileRunning() {
      Container c = driver.runContainer(task("talker", sh("echo first; sleep 300")).build());

      awaitAtMost("stdout of a running task to show its first line")
          .untilAsserted(() -> assertThat(logsOf(c).out()).isEqualTo("first\n"));
      assertThat(c.status().isDone()).as("isDone() of a task sleeping 300 s").isFalse();
      assertThat(logsOf(c).out()).as("stdout read a second time").isEqualTo("first\n");
      c.cleanup();
    }
  }

  /** A task sees exactly the variables it was given. */
  @Nested
  @DisplayName("environment")
  @TestInstance(TestInstance.Lifecycle.PER_METHOD)
  public class Environment {

    /** For JUnit. */
    public Environment() {}

    @Test
    @DisplayName(
        "given variables are present with their values exactly (spaces, '=', empty,"
            + " non-ASCII, shell characters)")
    void givenVariablesExact() {
      Map<String, String> given = new LinkedHashMap<>();
      given.put("TCK_SIMPLE", "value");
      given.put("TCK_SPACES", " two  spaces ");
      given.put("TCK_EQUALS", "a=b=c");
      given.put("TCK_EMPTY", "");
      given.put("TCK_UNICODE", "grüße ✓");
      given.put("TCK_SHELL", "it's \"quoted\" $HOME `x` \\ *");
      StringBuilder script = new StringBuilder("printf '[%s]\\n'");
      given.keySet().forEach(k -> script.append(" \"${").append(k).append("-unset}\""));

      Result r = runToEnd(task("env", sh(script.toString())).env(given).build());

      StringBuilder expected = new StringBuilder();
      given.values().forEach(v -> expected.append('[').append(v).append("]\n"));
      assertThat(r.exitCode()).as("exit code").isZero();
      assertThat(r.out()).as("the variables as the task sees them").isEqualTo(expected.toString());
    }

    @Test
    @DisplayName("the caller's environment does not reach the task")
    void callerEnvironmentAbsent() {
      Result r = runToEnd(task("env", "env").build());
      assertThat(r.exitCode()).as("exit code of env").isZero();
      String taskEnv = "\n" + r.out();

      SoftAssertions leaks = new SoftAssertions();
      Set<String> platform = platformVariables();
      System.getenv()
          .forEach(
              (name, value) -> {
                if (!platform.contains(name)) {
                  leaks
                      .assertThat(taskEnv.contains("\n" + name + "=" + value + "\n"))
                      .as("caller's variable %s=%s is visible to the task", name, value)
                      .isFalse();
                }
              });
      if (System.getenv(CALLER_MARKER) != null) {
        leaks
            .assertThat(taskEnv)
            .as("the caller's %s is visible to the task", CALLER_MARKER)
            .doesNotContain("\n" + CALLER_MARKER + "=");
      }
      leaks.assertAll();
    }
  }

  /** Standard input: all the bytes, then end of file. */
  @Nested
  @DisplayName("stdin")
  @TestInstance(TestInstance.Lifecycle.PER_METHOD)
  public class Stdin {

    /** For JUnit. */
    public Stdin() {}

    @Test
    @DisplayName("the given bytes arrive, then end of file: cat echoes them and exits 0")
    void bytesThenEndOfFile() {
      Result r = runToEnd(task("cat", "cat").stdin("hello\nworld").build());

      assertThat(r.exitCode()).as("exit code of cat").isZero();
      assertThat(r.out()).as("stdout of cat").isEqualTo("hello\nworld");
    }

    @Test
    @DisplayName("4 MiB of random bytes from an InputStream arrive exactly")
    void megabytesExact() {
      byte[] bytes = randomBytes(4 * MIB);
      Result r = runToEnd(task("cat", "cat").stdin(new ByteArrayInputStream(bytes)).build());

      assertThat(r.exitCode()).as("exit code of cat").isZero();
      assertSameBytes("stdout of cat", r.stdout(), bytes);
    }

    @Test
    @DisplayName("stdin(String) is delivered as UTF-8")
    void stringIsUtf8() {
      String text = "grüße ✓ 日本\n";
      Result r = runToEnd(task("cat", "cat").stdin(text).build());

      assertSameBytes("stdout of cat", r.stdout(), text.getBytes(UTF8));
    }

    @Test
    @DisplayName("a task without stdin reads end of file at once: cat exits 0 with no output")
    void noStdinIsEndOfFile() {
      Result r = runToEnd(task("cat", "cat").build());

      assertThat(r.exitCode()).as("exit code of cat").isZero();
      assertThat(r.out()).as("stdout of cat").isEmpty();
    }
  }

  /** Each task runs in a fresh directory of its own, its default working directory. */
  @Nested
  @DisplayName("task directory and workDir")
  @TestInstance(TestInstance.Lifecycle.PER_METHOD)
  public class TaskDirectory {

    /** For JUnit. */
    public TaskDirectory() {}

    @Test
    @DisplayName("the default working directory is the task directory: a mount 'data' is ./data")
    void defaultWorkingDirectoryIsTaskDirectory() {
      Result write =
          runToEnd(
              task("write", sh("test -d ./data && echo hello > ./data/greeting"))
                  .mount("data", "data")
                  .build());
      assertSucceeded(write);

      assertThat(readFile(driver, "data", "greeting")).isEqualTo("hello\n");
    }

    @Test
    @DisplayName("each task gets a fresh directory: a file one task leaves is not in another's")
    void taskDirectoryIsFresh() {
      assertSucceeded(runToEnd(task("litter", sh("echo x > ./leftover")).build()));

      Result other = runToEnd(task("look", sh("test ! -e ./leftover")).build());

      assertThat(other.exitCode()).as("exit code of 'test ! -e ./leftover'").isZero();
    }

    @Test
    @DisplayName("workDir 'sub' is the directory sub of the task directory")
    void workDirIsInsideTaskDirectory() {
      Result r =
          runToEnd(
              task("pwd", sh("pwd && test -d ../data"))
                  .mount("data", "data")
                  .workDir("sub")
                  .build());

      assertSucceeded(r);
      assertThat(r.out().strip()).as("pwd").endsWith("/sub");
    }

    @Test
    @DisplayName("a missing workDir is created, parents too ('a/b/c')")
    void workDirCreated() {
      Result r = runToEnd(task("pwd", "pwd").workDir("a/b/c").build());

      assertSucceeded(r);
      assertThat(r.out().strip()).as("pwd").endsWith("/a/b/c");
    }

    @Test
    @DisplayName("a workDir that is a mount writes into the volume")
    void workDirIsMount() {
      assertSucceeded(
          runToEnd(
              task("build", sh("echo built > artifact"))
                  .mount("src", "src")
                  .workDir("src")
                  .build()));

      assertThat(readFile(driver, "src", "artifact")).isEqualTo("built\n");
    }

    @Test
    @DisplayName("a missing workDir inside a mount is created in the volume")
    void workDirInsideMount() {
      assertSucceeded(
          runToEnd(
              task("build", sh("echo built > artifact"))
                  .mount("repo", "repo")
                  .workDir("repo/build")
                  .build()));

      assertThat(readFile(driver, "repo", "build/artifact")).isEqualTo("built\n");
    }
  }

  /** Mount paths are resolved inside the task directory. */
  @Nested
  @DisplayName("mounts")
  @TestInstance(TestInstance.Lifecycle.PER_METHOD)
  public class Mounts {

    /** For JUnit. */
    public Mounts() {}

    @Test
    @DisplayName("mount paths '/x' and 'x' reach the same volume")
    void absoluteAndRelativeSame() {
      assertSucceeded(
          runToEnd(task("absolute", sh("echo a > ./x/file")).mount("vol", "/x").build()));
      Result relative =
          runToEnd(
              task("relative", sh("echo b >> ./x/file && cat ./x/file")).mount("vol", "x").build());
      assertThat(assertSucceeded(relative)).as("file read through mount 'x'").isEqualTo("a\nb\n");

      Result again = runToEnd(task("absolute-again", "cat", "./x/file").mount("vol", "/x").build());
      assertThat(assertSucceeded(again)).as("file read through mount '/x'").isEqualTo("a\nb\n");
    }

    @Test
    @DisplayName("a nested mount path 'cache/m2' works, its parents created")
    void nestedMountPath() {
      assertSucceeded(
          runToEnd(
              task("nested", sh("test -d ./cache && echo m2 > ./cache/m2/file"))
                  .mount("m2", "cache/m2")
                  .build()));

      assertThat(readFile(driver, "m2", "file")).isEqualTo("m2\n");
    }

    @Test
    @DisplayName("two volumes mounted in one task stay separate")
    void twoVolumesSeparate() {
      assertSucceeded(
          runToEnd(
              task("both", sh("echo A > ./a/file && echo B > ./b/file"))
                  .mount("vol-a", "a")
                  .mount("vol-b", "b")
                  .build()));

      assertThat(readFile(driver, "vol-a", "file")).as("file in vol-a").isEqualTo("A\n");
      assertThat(readFile(driver, "vol-b", "file")).as("file in vol-b").isEqualTo("B\n");
    }
  }

  /** Named volumes of a namespace. */
  @Nested
  @DisplayName("volumes")
  @TestInstance(TestInstance.Lifecycle.PER_METHOD)
  public class Volumes {

    /** For JUnit. */
    public Volumes() {}

    @Test
    @DisplayName("name() is the caller's name, even one a platform must sanitise")
    void nameIsCallersName() {
      String name = "Build Cache #1 ✓";
      Volume v = driver.createVolume(name, 0);

      assertThat(v.name()).isEqualTo(name);
      assertSucceeded(runToEnd(task("write", sh("echo kept > ./v/file")).mount(name, "v").build()));
      assertThat(readFile(driver, name, "file")).isEqualTo("kept\n");
    }

    @Test
    @DisplayName("creating a known volume again returns it with its data")
    void createAgainKeepsData() {
      driver.createVolume("data", 0);
      assertSucceeded(
          runToEnd(task("write", sh("echo kept > ./v/file")).mount("data", "v").build()));

      Volume again = driver.createVolume("data", 0);

      assertThat(again.name()).isEqualTo("data");
      assertThat(readFile(driver, "data", "file")).isEqualTo("kept\n");
    }

    @Test
    @DisplayName("cleanup() deletes the volume's data and may be called any number of times")
    void cleanupDeletesData() {
      Volume v = driver.createVolume("data", 0);
      assertSucceeded(
          runToEnd(task("write", sh("echo gone > ./v/file")).mount("data", "v").build()));

      v.cleanup();
      v.cleanup();
      v.cleanup();

      Result look = runToEnd(task("look", sh("test ! -e ./v/file")).mount("data", "v").build());
      assertThat(look.exitCode()).as("exit code of 'test ! -e' on the cleaned volume").isZero();
    }

    @Test
    @DisplayName("two namespaces do not see each other's volume of the same name")
    void namespacesIsolated() {
      Driver other = open(newNamespace());
      assertSucceeded(
          runToEnd(task("write", sh("echo mine > ./v/file")).mount("shared", "v").build()));
      assertSucceeded(
          runToEnd(
              other, task("write", sh("echo theirs > ./v/file")).mount("shared", "v").build()));

      assertThat(readFile(driver, "shared", "file")).as("this namespace").isEqualTo("mine\n");
      assertThat(readFile(other, "shared", "file")).as("other namespace").isEqualTo("theirs\n");
    }

    @Test
    @DisplayName("sizeBytes 0 (platform default) and a positive size are accepted")
    void sizesAccepted() {
      assertThat(driver.createVolume("default-size", 0).name()).isEqualTo("default-size");
      assertThat(driver.createVolume("sized", 64L * MIB).name()).isEqualTo("sized");
    }

    @Test
    @DisplayName("a negative size is refused with IllegalArgumentException naming it")
    void negativeSizeRefused() {
      assertThatThrownBy(() -> driver.createVolume("negative", -1))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("-1");
    }
  }

  /** close() removes everything of its namespace and nothing else. */
  @Nested
  @DisplayName("close")
  @TestInstance(TestInstance.Lifecycle.PER_METHOD)
  public class Close {

    /** For JUnit. */
    public Close() {}

    @Test
    @DisplayName(
        "close() removes the namespace's volumes and containers, as a new driver of the"
            + " namespace sees")
    void closeRemovesEverything() {
      assertSucceeded(
          runToEnd(task("write", sh("echo old > ./v/file")).mount("data", "v").build()));
      assertSucceeded(runToEnd(task("task", "echo", "old").build()));

      driver.close();

      Driver fresh = open(namespace);
      Result look =
          runToEnd(fresh, task("look", sh("test ! -e ./v/file")).mount("data", "v").build());
      assertThat(look.exitCode()).as("exit code of 'test ! -e' on the volume after close").isZero();
      Result rerun = runToEnd(fresh, task("task", "echo", "new").build());
      assertThat(rerun.out()).as("stdout of the same task id after close").isEqualTo("new\n");
    }

    @Test
    @DisplayName("close() may be called any number of times")
    void closeIsIdempotent() {
      assertSucceeded(runToEnd(task("echo", "echo", "hi").build()));

      driver.close();
      driver.close();
      driver.close();
    }

    @Test
    @DisplayName("a closed driver refuses runContainer and createVolume with IllegalStateException")
    void closedDriverRefusesWork() {
      driver.close();

      assertThatThrownBy(() -> driver.runContainer(task("late", "true").build()))
          .isInstanceOf(IllegalStateException.class);
      assertThatThrownBy(() -> driver.createVolume("late", 0))
          .isInstanceOf(IllegalStateException.class);
    }

    @Test
    @DisplayName("close() stops a running task: the same task id then runs fresh")
    void closeStopsRunningTask() {
      Container c = driver.runContainer(task("sleeper", "sleep", "300").build());
      assertThat(c.status().isDone()).as("isDone() of a task sleeping 300 s").isFalse();

      driver.close();

      assertStoppedByClose(c);
      Result rerun = runToEnd(open(namespace), task("sleeper", "echo", "fresh").build());
      assertThat(rerun.out()).as("stdout of the same task id after close").isEqualTo("fresh\n");
    }

    @Test
    @DisplayName("close() touches no other namespace, not even one its namespace is a prefix of")
    void closeSparesOtherNamespaces() {
      Driver other = open(namespace + "-other");
      for (Driver d : List.of(driver, other)) {
        assertSucceeded(
            runToEnd(d, task("write", sh("echo kept > ./v/file")).mount("shared", "v").build()));
      }
      driver.runContainer(task("sleeper", sh("echo started; sleep 300")).build());
      Container survivor =
          other.runContainer(task("sleeper", sh("echo started; sleep 300")).build());
      awaitAtMost("the other namespace's task to start")
          .untilAsserted(() -> assertThat(logsOf(survivor).out()).isEqualTo("started\n"));

      driver.close();

      assertThat(survivor.status().isDone())
          .as("isDone() of the other namespace's running task")
          .isFalse();
      assertThat(readFile(other, "shared", "file"))
          .as("the other namespace's volume")
          .isEqualTo("kept\n");
      survivor.cleanup();
    }
  }

  /** runContainer is idempotent under concurrency too. */
  @Nested
  @DisplayName("concurrency")
  @TestInstance(TestInstance.Lifecycle.PER_METHOD)
  public class Concurrency {

    /** For JUnit. */
    public Concurrency() {}

    @Test
    @DisplayName(
        "16 threads calling runContainer with one task id at once get one container, one" + " run")
    void manyThreadsOneRun() throws Exception {
      List<Container> containers = concurrently(16, i -> driver.runContainer(counterTask("count")));

      assertThat(containers.stream().map(Container::id).distinct())
          .as("ids of the containers returned")
          .hasSize(1);
      for (Container c : containers) {
        assertThat(awaitDone(c).exitCode()).isZero();
      }
      assertThat(readFile(driver, "state", "runs")).as("runs recorded").isEqualTo("run\n");
    }

    @Test
    @DisplayName("two driver instances of one namespace share a task: one container, one run")
    void twoInstancesOneRun() throws Exception {
      Driver second = open(namespace);
      List<Driver> both = List.of(driver, second);

      List<Container> containers =
          concurrently(8, i -> both.get(i % 2).runContainer(counterTask("count")));
      for (Container c : containers) {
        assertThat(awaitDone(c).exitCode()).isZero();
      }
      Container later = second.runContainer(counterTask("count"));

      assertThat(containers.stream().map(Container::id).distinct())
          .as("ids of the containers returned by both instances")
          .containsExactly(later.id());
      assertThat(readFile(second, "state", "runs")).as("runs recorded").isEqualTo("run\n");
    }
  }

  /** Bad input is refused clearly and leaves nothing behind; odd task ids are fine. */
  @Nested
  @DisplayName("bad input")
  @TestInstance(TestInstance.Lifecycle.PER_METHOD)
  public class BadInput {

    /** For JUnit. */
    public BadInput() {}

    @Test
    @DisplayName("a volume name reaching outside ('../../x') is refused and creates nothing")
    void volumeNameEscapeRefused() {
      String unique = "tck-escape-" + randomSuffix();
      for (String name : List.of("../../" + unique, "../" + unique, "..")) {
        assertThat(catchThrowable(() -> driver.createVolume(name, 0)))
            .as("createVolume(\"%s\")", name)
            .isInstanceOfAny(IllegalArgumentException.class, OrchestraException.class);
      }
      assertNothingNamed(unique);
    }

    @Test
    @DisplayName(
        "a mount path or workDir reaching outside ('../../x') is refused, creates nothing,"
            + " and leaves the task id free")
    void pathEscapeRefused() {
      String unique = "tck-escape-" + randomSuffix();
      List<Supplier<Task>> escapes =
          List.of(
              () -> task("escape", "true").mount("vol", "../../" + unique).build(),
              () -> task("escape", "true").mount("../../" + unique, "vol").build(),
              () -> task("escape", "true").workDir("../../" + unique).build());
      for (Supplier<Task> escape : escapes) {
        assertThat(catchThrowable(() -> driver.runContainer(escape.get())))
            .as("building or running a task that escapes its directory")
            .isInstanceOfAny(IllegalArgumentException.class, OrchestraException.class);
      }
      assertNothingNamed(unique);

      Result r = runToEnd(task("escape", "echo", "fresh").build());
      assertThat(r.out()).as("stdout of the task id after the refusals").isEqualTo("fresh\n");
    }

    @Test
    @DisplayName("task ids with '/', '..', spaces, unicode or 300 characters run, each its own")
    void oddTaskIds() {
      String longId = "long-" + "0123456789".repeat(30);
      assertDistinctTasks(
          List.of(
              "a/b/c",
              "/",
              "..",
              "../../etc",
              "with space",
              "grüße ✓ 日本",
              "UPPER",
              longId + "1",
              longId + "2",
              "x"));
    }

    @Test
    @DisplayName(
        "task ids that differ only in case or in characters a sanitiser folds do not" + " collide")
    void foldedTaskIdsDistinct() {
      assertDistinctTasks(List.of("a/b", "a_b", "a-b", "A-B", "a b", "a.b", "a:b", "ab"));
    }
  }

  /** Container.cleanup(): stop, remove, forget. */
  @Nested
  @DisplayName("cleanup")
  @TestInstance(TestInstance.Lifecycle.PER_METHOD)
  public class Cleanup {

    /** For JUnit. */
    public Cleanup() {}

    @Test
    @DisplayName(
        "cleanup() of a running task stops it: status() then reads done or throws"
            + " ContainerNotFoundException")
    void cleanupStopsRunningTask() {
      Container c = driver.runContainer(task("sleeper", "sleep", "300").build());
      assertThat(c.status().isDone()).as("isDone() of a task sleeping 300 s").isFalse();

      c.cleanup();

      assertDoneOrNotFound(c, "right after cleanup()");
    }

    @Test
    @DisplayName("cleanup() stops the task's whole process tree, background children too")
    void cleanupStopsProcessTree() {
      Container c =
          driver.runContainer(
              task(
                      "ticker",
                      sh(
                          "d=$(cd ./v && pwd -P); (while :; do echo tick >> \"$d/ticks\"; sleep 1;"
                              + " done) & echo started; wait"))
                  .mount("ticks", "v")
                  .build());
      awaitAtMost("the ticking task to start")
          .untilAsserted(() -> assertThat(logsOf(c).out()).isEqualTo("started\n"));
      awaitAtMost("the first tick").untilAsserted(() -> assertThat(readTicks()).isNotEmpty());

      c.cleanup();

      AtomicReference<String> previous = new AtomicReference<>(readTicks());
      await("the ticks of the cleaned-up task's background child to stop")
          .atMost(awaitTimeout().plusSeconds(4))
          .during(Duration.ofSeconds(4))
          .pollInterval(Duration.ofMillis(250))
          .until(
              () -> {
                String now = readTicks();
                return now.equals(previous.getAndSet(now));
              });
    }

    @Test
    @DisplayName(
        "status() after cleanup() of a finished task reads done or throws"
            + " ContainerNotFoundException")
    void statusAfterCleanup() {
      Container c = driver.runContainer(task("echo", "echo", "hi").build());
      awaitDone(c);

      c.cleanup();

      assertDoneOrNotFound(c, "after cleanup()");
    }

    @Test
    @DisplayName("logs() after cleanup() works or throws ContainerNotFoundException, nothing else")
    void logsAfterCleanup() {
      Container c = driver.runContainer(task("echo", "echo", "hi").build());
      awaitDone(c);

      c.cleanup();

      Throwable thrown = catchThrowable(() -> logsOf(c));
      if (thrown != null) {
        assertThat(thrown)
            .as("logs() after cleanup()")
            .isInstanceOf(ContainerNotFoundException.class);
      }
    }
  }

  /** Blocking calls answer Thread.interrupt(). */
  @Nested
  @DisplayName("interruption")
  @TestInstance(TestInstance.Lifecycle.PER_METHOD)
  public class Interruption {

    /** For JUnit. */
    public Interruption() {}

    @Test
    @DisplayName(
        "a call made by an interrupted thread keeps its interrupt flag: it completes or"
            + " throws OrchestraInterruptedException")
    void interruptFlagKept() {
      Task echo = task("echo", "echo", "hi").build();
      Container c = driver.runContainer(echo);
      awaitDone(c);

      Map<String, Runnable> calls = new LinkedHashMap<>();
      calls.put("status()", c::status);
      calls.put("logs()", () -> c.logs(new ByteArrayOutputStream(), new ByteArrayOutputStream()));
      calls.put("runContainer() of a known task", () -> driver.runContainer(echo));
      calls.put("createVolume()", () -> driver.createVolume("vol", 0));
      SoftAssertions softly = new SoftAssertions();
      calls.forEach(
          (name, call) -> {
            Thread.currentThread().interrupt();
            Throwable thrown;
            try {
              call.run();
              thrown = null;
            } catch (RuntimeException e) {
              thrown = e;
            } finally {
              softly.assertThat(Thread.interrupted()).as("interrupt flag after %s", name).isTrue();
            }
            if (thrown != null) {
              softly
                  .assertThat(thrown)
                  .as("%s on an interrupted thread", name)
                  .isInstanceOf(OrchestraInterruptedException.class);
            }
          });
      softly.assertAll();
    }
  }

  /** Optional behaviour, each tested only when the driver declares it. */
  @Nested
  @DisplayName("capabilities")
  @TestInstance(TestInstance.Lifecycle.PER_METHOD)
  public class Capabilities {

    /** For JUnit. */
    public Capabilities() {}

    @Test
    @DisplayName("USER: a task run as 'nobody' is nobody")
    void user() {
      requireCapability(Capability.USER);

      Result r = runToEnd(task("whoami", "id", "-un").user("nobody").build());

      assertThat(assertSucceeded(r)).as("id -un").isEqualTo("nobody\n");
    }

    @Test
    @DisplayName(
        "PRIVILEGED: a privileged task runs, or the platform's refusal is a clear"
            + " OrchestraException that leaves nothing behind")
    void privileged() {
      requireCapability(Capability.PRIVILEGED);

      Container c;
      try {
        c = driver.runContainer(task("privileged", "true").privileged(true).build());
      } catch (OrchestraException refused) {
        Result r = runToEnd(task("privileged", "echo", "fresh").build());
        assertThat(r.out()).as("stdout of the task id after the refusal").isEqualTo("fresh\n");
        Assumptions.abort(
            "the platform refused a privileged task: "
                + refused.getMessage()
                + " (the refusal came back from runContainer as an OrchestraException and left"
                + " nothing behind)");
        return;
      }
      assertThat(awaitDone(c).exitCode()).as("exit code of the privileged task").isZero();
    }

    @Test
    @DisplayName("CPU_LIMIT: a task limited to 512 CPU shares runs and exits 0")
    void cpuLimit() {
      requireCapability(Capability.CPU_LIMIT);

      Result r =
          runToEnd(task("cpu", "echo", "limited").limits(new ContainerLimits(512, 0)).build());

      assertThat(assertSucceeded(r)).isEqualTo("limited\n");
    }

    @Test
    @DisplayName("MEMORY_LIMIT: a task limited to 128 MiB runs and exits 0")
    void memoryLimit() {
      requireCapability(Capability.MEMORY_LIMIT);

      Result r =
          runToEnd(
              task("memory", "echo", "limited").limits(new ContainerLimits(0, 128L * MIB)).build());

      assertThat(assertSucceeded(r)).isEqualTo("limited\n");
    }

    @Test
    @DisplayName(
        "IMAGE: a task of a missing image fails with an OrchestraException naming it and"
            + " leaves nothing behind")
    void missingImage() {
      requireCapability(Capability.IMAGE);

      Task missing = Task.builder().id("missing").image(NO_SUCH_IMAGE).command("true").build();
      assertThat(catchThrowable(() -> driver.runContainer(missing)))
          .as("runContainer with image %s", NO_SUCH_IMAGE)
          .isInstanceOf(OrchestraException.class)
          .hasMessageContaining(NO_SUCH_IMAGE);

      Result r = runToEnd(task("missing", "echo", "fresh").build());
      assertThat(r.out()).as("stdout of the task id after the failure").isEqualTo("fresh\n");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers
  // ---------------------------------------------------------------------------------------------

  private static final Charset UTF8 = StandardCharsets.UTF_8;

  /** What a finished task left: its exit code and both logs. */
  record Result(Container container, int exitCode, byte[] stdout, byte[] stderr) {
    String out() {
      return new String(stdout, UTF8);
    }

    String err() {
      return new String(stderr, UTF8);
    }
  }

  /** Both logs of a container at one moment. */
  record Output(byte[] stdout, byte[] stderr) {
    String out() {
      return new String(stdout, UTF8);
    }

    String err() {
      return new String(stderr, UTF8);
    }
  }

  private static String newNamespace() {
    return "tck-" + randomSuffix();
  }

  private static String randomSuffix() {
    byte[] bytes = new byte[5];
    ThreadLocalRandom.current().nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }

  private Driver open(String ns) {
    Driver d = newDriver(ns);
    assertThat(d).as("newDriver(\"%s\")", ns).isNotNull();
    opened.add(d);
    return d;
  }

  private Task.Builder task(String id, String... command) {
    return Task.builder().id(id).image(image()).command(command);
  }

  private static String[] sh(String script) {
    return new String[] {"sh", "-c", script};
  }

  /** A task that appends one line to the file runs of volume state each time it runs. */
  private Task counterTask(String id) {
    return task(id, sh("echo run >> ./state/runs")).mount("state", "state").build();
  }

  private ConditionFactory awaitAtMost(String what) {
    return await(what).atMost(awaitTimeout()).pollDelay(Duration.ZERO).pollInterval(POLL);
  }

  private ContainerStatus awaitDone(Container c) {
    return awaitAtMost("container " + c.id() + " to finish")
        .until(c::status, ContainerStatus::isDone);
  }

  private static Output logsOf(Container c) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    c.logs(out, err);
    return new Output(out.toByteArray(), err.toByteArray());
  }

  private Result runToEnd(Task t) {
    return runToEnd(driver, t);
  }

  private Result runToEnd(Driver d, Task t) {
    Container c = d.runContainer(t);
    ContainerStatus s = awaitDone(c);
    Output o = logsOf(c);
    return new Result(c, s.exitCode(), o.stdout(), o.stderr());
  }

  /** Asserts the task exited 0 and returns its stdout. */
  private static String assertSucceeded(Result r) {
    assertThat(r.exitCode())
        .as("exit code of %s (stdout: %s, stderr: %s)", r.container().id(), r.out(), r.err())
        .isZero();
    return r.out();
  }

  /** Reads a file of a volume with a task of its own. */
  private String readFile(Driver d, String volume, String path) {
    Task read =
        task("read-" + sequence.incrementAndGet(), "cat", "./v/" + path).mount(volume, "v").build();
    Result r = runToEnd(d, read);
    assertThat(r.exitCode())
        .as("exit code of 'cat %s' in volume %s (stderr: %s)", path, volume, r.err())
        .isZero();
    return r.out();
  }

  private String readTicks() {
    Task read =
        task("ticks-" + sequence.incrementAndGet(), sh("cat ./v/ticks 2>/dev/null; true"))
            .mount("ticks", "v")
            .build();
    return runToEnd(read).out();
  }

  private static void assertDoneOrNotFound(Container c, String when) {
    ContainerStatus s;
    try {
      s = c.status();
    } catch (ContainerNotFoundException e) {
      return;
    }
    assertThat(s.isDone()).as("isDone() %s (or ContainerNotFoundException)", when).isTrue();
  }

  /** As {@link #assertDoneOrNotFound}, also accepting that the closed driver refuses to ask. */
  private static void assertStoppedByClose(Container c) {
    ContainerStatus s;
    try {
      s = c.status();
    } catch (ContainerNotFoundException | IllegalStateException e) {
      return;
    }
    assertThat(s.isDone())
        .as("isDone() after close() (or ContainerNotFoundException, or IllegalStateException)")
        .isTrue();
  }

  private void requireCapability(Capability capability) {
    Set<Capability> declared = EnumSet.noneOf(Capability.class);
    declared.addAll(driver.capabilities());
    Assumptions.assumeTrue(
        declared.contains(capability),
        () -> "driver '" + driver.name() + "' does not declare capability " + capability);
  }

  /** Runs every id at once, each printing its own id, and checks none collided. */
  private void assertDistinctTasks(List<String> ids) {
    Map<String, Container> started = new LinkedHashMap<>();
    for (String id : ids) {
      started.put(id, driver.runContainer(task(id, "printf", "%s", id).build()));
    }
    SoftAssertions softly = new SoftAssertions();
    Set<String> containerIds = new LinkedHashSet<>();
    started.forEach(
        (id, c) -> {
          ContainerStatus s = awaitDone(c);
          softly.assertThat(s.exitCode()).as("exit code of task '%s'", id).isZero();
          softly.assertThat(logsOf(c).out()).as("stdout of task '%s'", id).isEqualTo(id);
          softly
              .assertThat(containerIds.add(c.id()))
              .as("container id %s of task '%s' is its own", c.id(), id)
              .isTrue();
        });
    softly.assertAll();
  }

  @FunctionalInterface
  private interface Call<T> {
    T call(int index);
  }

  /** Makes {@code threads} calls at once (released together by a barrier); returns the results. */
  private <T> List<T> concurrently(int threads, Call<T> call) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CyclicBarrier start = new CyclicBarrier(threads);
      List<Future<T>> futures = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        int index = i;
        futures.add(
            pool.submit(
                () -> {
                  start.await();
                  return call.call(index);
                }));
      }
      List<T> results = new ArrayList<>();
      for (Future<T> f : futures) {
        results.add(f.get(awaitTimeout().toMillis(), TimeUnit.MILLISECONDS));
      }
      return results;
    } finally {
      pool.shutdownNow();
    }
  }

  private static byte[] randomBytes(int size) {
    byte[] bytes = new byte[size];
    SplittableRandom random = new SplittableRandom(ThreadLocalRandom.current().nextLong());
    for (int i = 0; i < size; i += 8) {
      long v = random.nextLong();
      for (int j = 0; j < 8 && i + j < size; j++) {
        bytes[i + j] = (byte) (v >>> (8 * j));
      }
    }
    return bytes;
  }

  /** Fails with the lengths and the first differing offset, never with megabytes of dump. */
  private static void assertSameBytes(String what, byte[] actual, byte[] expected) {
    int at = Arrays.mismatch(actual, expected);
    if (at >= 0) {
      fail(
          "%s: expected %d bytes, read %d; first difference at byte %d (expected %s, read %s)",
          what,
          expected.length,
          actual.length,
          at,
          at < expected.length ? String.format("0x%02x", expected[at]) : "end",
          at < actual.length ? String.format("0x%02x", actual[at]) : "end");
    }
  }

  /**
   * Asserts no file named {@code unique} exists in the temporary directory, the working directory,
   * their parents, or a few levels below the temporary directory (where drivers keep their areas).
   */
  private static void assertNothingNamed(String unique) {
    Path tmp = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath().normalize();
    Path cwd = Path.of("").toAbsolutePath().normalize();
    Set<Path> places = new LinkedHashSet<>();
    for (Path start : List.of(tmp, cwd)) {
      Path p = start;
      for (int up = 0; up < 3 && p != null; up++, p = p.getParent()) {
        places.add(p);
      }
    }
    for (Path place : places) {
      assertThat(Files.exists(place.resolve(unique), LinkOption.NOFOLLOW_LINKS))
          .as("%s exists", place.resolve(unique))
          .isFalse();
    }
    List<Path> found = new ArrayList<>();
    try {
      Files.walkFileTree(
          tmp,
          Set.of(),
          4,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
              if (file.getFileName() != null && file.getFileName().toString().equals(unique)) {
                found.add(file);
              }
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
              if (dir.getFileName() != null && dir.getFileName().toString().equals(unique)) {
                found.add(dir);
              }
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      LOG.warn("could not search {} for {}: {}", tmp, unique, e.toString());
    }
    assertThat(found).as("files named %s under %s", unique, tmp).isEmpty();
  }
}
