package dev.orchestra.tck;

import static dev.orchestra.ExitReason.EXITED;
import static dev.orchestra.ExitReason.RUNNING;
import static dev.orchestra.ExitReason.SIGNALED;
import static dev.orchestra.ExitReason.STOPPED;
import static dev.orchestra.ExitReason.TIMED_OUT;
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
import dev.orchestra.ExitReason;
import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.Sandbox;
import dev.orchestra.Task;
import dev.orchestra.Volume;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
 * {@code test}, {@code mkdir}, and the shell's {@code trap}).
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
 * USER}), so that they are reported as skipped, never as passed. The task options have their tests
 * in {@link Capabilities}; the task lifecycle has one group per capability: {@link Follow} ({@link
 * Capability#FOLLOW}), {@link Stop} ({@link Capability#STOP}), {@link Timeouts} ({@link
 * Capability#TIMEOUT}), {@link Reattach} ({@link Capability#REATTACH}) and {@link Sandboxes}
 * ({@link Capability#SANDBOX}). {@link Await} and {@link ExitReasons} need no capability: {@link
 * Container#await}, {@link Container#onExit} and {@link ContainerStatus#reason()} have defaults
 * every driver inherits.
 *
 * <p>Stop and timeout follow one rule: a task asked to end (by {@link Container#stop}, {@link
 * Container#cleanup} or its {@link Task#timeout()}) reads {@link ExitReason#STOPPED} (or {@link
 * ExitReason#TIMED_OUT}) whatever its exit code, also when it trapped SIGTERM and exited 0 by
 * itself; a task that dies of a signal nobody asked the driver to send reads {@link
 * ExitReason#SIGNALED}. The task's own process is asked first: a shell that traps SIGTERM while it
 * waits for a background child must run its trap, not see its child end and exit before its own
 * SIGTERM arrives. Every duration the API takes may be too long to count ({@code
 * ChronoUnit.FOREVER}) and then means no limit.
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

  /**
   * How many tasks the tests of a trapped SIGTERM with a background child run at once: enough that
   * a driver signalling the child before the task's own process fails reliably.
   */
  private static final int TRAPPING_TASKS = 20;

  /** How many sandbox steps the test of a trapped SIGTERM with a background child stops. */
  private static final int TRAPPING_STEPS = 12;

  /**
   * Durations too long to count in nanoseconds, as callers write "no limit": each must work as a
   * very long one, never overflow.
   */
  private static final List<Duration> UNLIMITED =
      List.of(ChronoUnit.FOREVER.getDuration(), Duration.ofMillis(Long.MAX_VALUE));

  private final List<Driver> opened = new CopyOnWriteArrayList<>();
  private final List<Background<?>> background = new CopyOnWriteArrayList<>();
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
    background.forEach(Background::interrupt);
    background.clear();
    Drivers.closeAll(opened);
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
      Container c = driver.runContainer(tickerTask());
      awaitTicking(c);

      c.cleanup();

      assertTicksStop("the ticks of the cleaned-up task's background child to stop");
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
  // The task lifecycle
  // ---------------------------------------------------------------------------------------------

  /**
   * {@link Container#follow}: the output as it is produced, on two streams, until the task ends.
   * Requires {@link Capability#FOLLOW}.
   */
  @Nested
  @DisplayName("follow")
  @TestInstance(TestInstance.Lifecycle.PER_METHOD)
  public class Follow {

    /** For JUnit. */
    public Follow() {}

    @BeforeEach
    void requireFollow() {
      requireCapability(Capability.FOLLOW);
    }

    @Test
    @DisplayName(
        "the first line of each stream arrives, on its own stream, while the task still runs;"
            + " follow() ends once the task is cleaned up")
    void firstLineBeforeEnd() {
      Container c =
          driver.runContainer(task("talker", sh("echo first; echo oops >&2; sleep 300")).build());
      Follower f = new Follower(c);

      awaitAtMost("follow() to deliver the first line of each stream of a running task")
          .untilAsserted(
              () -> {
                f.call.rethrowIfFailed();
                assertThat(f.out()).as("stdout followed").isEqualTo("first\n");
                assertThat(f.err()).as("stderr followed").isEqualTo("oops\n");
              });
      assertThat(c.status().isDone()).as("isDone() of a task sleeping 300 s").isFalse();
      assertThat(f.call.isRunning()).as("follow() still runs while the task runs").isTrue();

      c.cleanup();
      Throwable ended = f.call.thrown(awaitTimeout(), "follow() once the task was cleaned up");
      if (ended != null) {
        assertThat(ended)
            .as("what follow() threw once the task was cleaned up (if anything)")
            .isInstanceOf(ContainerNotFoundException.class);
      }
    }

    @Test
    @DisplayName(
        "1 MiB on each stream written just before exit: follow() delivers it byte for byte,"
            + " nothing lost or doubled, the same bytes as logs()")
    void megabytesAtExitExact() {
      Container c =
          driver.runContainer(
              task(
                      "mebibyte",
                      sh(
                          "sleep 1; yes out | head -c 1048576; printf tail;"
                              + " yes err | head -c 1048576 >&2; printf tail >&2"))
                  .build());
      Follower f = new Follower(c);

      f.call.result(awaitTimeout(), "follow() of a task that ends");

      byte[] out = ("out\n".repeat(MIB / 4) + "tail").getBytes(UTF8);
      byte[] err = ("err\n".repeat(MIB / 4) + "tail").getBytes(UTF8);
      assertThat(c.status().isDone()).as("isDone() once follow() returned").isTrue();
      assertSameBytes("stdout followed", f.stdout(), out);
      assertSameBytes("stderr followed", f.stderr(), err);
      Output logs = logsOf(c);
      assertSameBytes("stdout of logs() after follow()", logs.stdout(), out);
      assertSameBytes("stderr of logs() after follow()", logs.stderr(), err);
    }

    @Test
    @DisplayName(
        "follow() returns once the task has ended, with all it wrote, and not before: the status"
            + " is then final")
    void returnsWhenTaskEnds() {
      Container c =
          driver.runContainer(
              task("steps", sh("echo first; sleep 1; echo second >&2; sleep 1; echo last; exit 3"))
                  .build());
      Follower f = new Follower(c);

      f.call.result(awaitTimeout(), "follow() of a task that ends after 2 s");

      ContainerStatus s = c.status();
      assertThat(s.isDone()).as("isDone() once follow() returned").isTrue();
      assertThat(s.exitCode()).as("exit code once follow() returned").isEqualTo(3);
      assertThat(f.out()).as("stdout followed").isEqualTo("first\nlast\n");
      assertThat(f.err()).as("stderr followed").isEqualTo("second\n");
    }

    @Test
    @DisplayName("follow() of a finished task delivers everything and returns, as often as asked")
    void finishedTask() {
      Result r = runToEnd(task("done", sh("echo out; printf err >&2; exit 2")).build());

      for (int call = 1; call <= 2; call++) {
        Follower f = new Follower(r.container());
        f.call.result(promptly(), "follow() of a finished task");
        assertThat(f.out()).as("stdout followed, call %d", call).isEqualTo("out\n");
        assertThat(f.err()).as("stderr followed, call %d", call).isEqualTo("err");
      }
    }

    @Test
    @DisplayName(
        "interrupting the following thread stops follow() promptly with"
            + " OrchestraInterruptedException, its interrupt flag set; the task runs on")
    void interruptStopsFollow() {
      Container c = driver.runContainer(task("talker", sh("echo first; sleep 300")).build());
      Follower f = new Follower(c);
      awaitAtMost("follow() to deliver the first line")
          .untilAsserted(
              () -> {
                f.call.rethrowIfFailed();
                assertThat(f.out()).as("stdout followed").isEqualTo("first\n");
              });

      f.call.interrupt();

      Throwable thrown = f.call.thrown(promptly(), "follow() after its thread was interrupted");
      assertThat(thrown)
          .as("what follow() threw when its thread was interrupted")
          .isInstanceOf(OrchestraInterruptedException.class);
      assertThat(f.call.interruptFlagAtEnd())
          .as("interrupt flag of the following thread after follow() threw")
          .isTrue();
      assertThat(c.status().isDone()).as("isDone() of the task whose follower stopped").isFalse();
    }
  }

  /** {@link Container#await} and {@link Container#onExit}: waiting for the end without polling. */
  @Nested
  @DisplayName("await and onExit")
  @TestInstance(TestInstance.Lifecycle.PER_METHOD)
  public class Await {

    /** For JUnit. */
    public Await() {}

    @Test
    @DisplayName(
        "await() returns the final status once the task ends (exit 3, EXITED), as status()"
            + " then reads it")
    void returnsFinalStatus() {
      Container c = driver.runContainer(task("exit", sh("sleep 1; exit 3")).build());

      ContainerStatus s =
          within(
              awaitTimeout().plus(promptly()),
              "await() of a task ending after 1 s",
              () -> c.await(awaitTimeout()));

      assertThat(s.isDone()).as("isDone() of the status await() returned").isTrue();
      assertThat(s.exitCode()).as("exit code of the status await() returned").isEqualTo(3);
      assertThat(s.reason()).as("reason of the status await() returned").isEqualTo(EXITED);
      assertSameStatus("status() after await()", c.status(), s);
    }

    @Test
    @DisplayName(
        "await(0.5 s) of a running task waits that long, then returns the running status;"
            + " await(0) does not wait; await(null) is refused")
    void timesOut() {
      Container c = driver.runContainer(task("sleeper", "sleep", "300").build());
      Duration wait = Duration.ofMillis(500);

      long start = System.nanoTime();
      ContainerStatus s =
          within(
              wait.plus(promptly()), "await(PT0.5S) of a task sleeping 300 s", () -> c.await(wait));
      Duration took = Duration.ofNanos(System.nanoTime() - start);

      assertThat(s.isDone()).as("isDone() of the status await(PT0.5S) returned").isFalse();
      assertThat(s.exitCode()).as("exit code of the running status").isEqualTo(-1);
      assertThat(s.reason()).as("reason of the running status").isEqualTo(RUNNING);
      assertThat(took).as("time await(PT0.5S) took").isGreaterThanOrEqualTo(wait);

      ContainerStatus now =
          within(promptly(), "await(PT0S) of a running task", () -> c.await(Duration.ZERO));
      assertThat(now.isDone()).as("isDone() of the status await(PT0S) returned").isFalse();
      assertThatThrownBy(() -> c.await(null))
          .as("await(null)")
          .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    @DisplayName(
        "await() on an interrupted thread throws OrchestraInterruptedException and keeps the"
            + " interrupt flag; the task runs on")
    void interrupted() {
      Container c = driver.runContainer(task("sleeper", "sleep", "300").build());

      Background<ContainerStatus> waiting =
          new Background<>("await of " + c.id(), () -> c.await(awaitTimeout()));
      waiting.interrupt();

      Throwable thrown = waiting.thrown(promptly(), "await() after its thread was interrupted");
      assertThat(thrown)
          .as("what await() threw when its thread was interrupted")
          .isInstanceOf(OrchestraInterruptedException.class);
      assertThat(waiting.interruptFlagAtEnd())
          .as("interrupt flag of the waiting thread after await() threw")
          .isTrue();
      assertThat(c.status().isDone()).as("isDone() of the task after the interrupt").isFalse();
    }

    @Test
    @DisplayName(
        "onExit() of 25 tasks started at once completes each with its own final status, as"
            + " status() then reads it")
    void onExitOfManyTasks() throws Exception {
      int count = 25;
      List<Container> containers =
          concurrently(
              count, i -> driver.runContainer(task("exit-" + i, sh("sleep 2; exit " + i)).build()));
      List<CompletableFuture<ContainerStatus>> exits =
          containers.stream().map(Container::onExit).toList();

      try {
        CompletableFuture.allOf(exits.toArray(CompletableFuture<?>[]::new))
            .get(awaitTimeout().toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        fail(
            "onExit() of %d of %d tasks (each ending after 2 s) did not complete within %s",
            exits.stream().filter(f -> !f.isDone()).count(), count, awaitTimeout());
      }

      SoftAssertions softly = new SoftAssertions();
      for (int i = 0; i < count; i++) {
        ContainerStatus s = exits.get(i).join();
        softly.assertThat(s.isDone()).as("isDone() of onExit() of task exit-%d", i).isTrue();
        softly.assertThat(s.exitCode()).as("exit code of onExit() of task exit-%d", i).isEqualTo(i);
        softly.assertThat(s.reason()).as("reason of onExit() of task exit-%d", i).isEqualTo(EXITED);
        softly
            .assertThat(describe(containers.get(i).status()))
            .as("status() of task exit-%d after onExit() completed", i)
            .isEqualTo(describe(s));
      }
      softly.assertAll();
    }

    @Test
    @DisplayName(
        "await() with a timeout too long to count in nanoseconds (ChronoUnit.FOREVER,"
            + " Duration.ofMillis(Long.MAX_VALUE)) waits for the end and returns the final status")
    void unlimitedWaitsForTheEnd() {
      for (Duration unlimited : UNLIMITED) {
        Container c =
            driver.runContainer(
                task("exit-" + sequence.incrementAndGet(), sh("sleep 1; exit 3")).build());

        ContainerStatus s =
            within(
                awaitTimeout(),
                "await(" + unlimited + ") of a task ending after 1 s",
                () -> c.await(unlimited));

        assertThat(describe(s))
            .as("the status await(%s) returned", unlimited)
            .isEqualTo(describe(ContainerStatus.exited(3)));
      }
    }

    @Test
    @DisplayName("onExit() of a finished task completes at once with its final status")
    void onExitOfFinishedTask() throws Exception {
      Result r = runToEnd(task("exit", sh("exit 5")).build());

      ContainerStatus s = onExitOf(r.container(), promptly());

      assertThat(s.exitCode()).as("exit code onExit() completed with").isEqualTo(5);
      assertSameStatus("status() of the finished task", r.container().status(), s);
    }
  }

  /**
   * {@link Container#stop}: SIGTERM, then SIGKILL after the grace period; the status says stopped.
   * Requires {@link Capability#STOP}.
   *
   * <p>A task that traps SIGTERM and exits by itself within the grace period reads its own exit
   * code, and still {@link ExitReason#STOPPED}: it ended because it was asked to.
   */
  @Nested
  @DisplayName("stop")
  @TestInstance(TestInstance.Lifecycle.PER_METHOD)
  public class Stop {

    /** For JUnit. */
    public Stop() {}

    @BeforeEach
    void requireStop() {
      requireCapability(Capability.STOP);
    }

    @Test
    @DisplayName(
        "stop() ends a 'sleep 300' by SIGTERM within the grace: done, STOPPED, exit 143 (or"
            + " 137); status() and a second stop() then read the same")
    void endsSleep() {
      Container c = driver.runContainer(task("sleeper", sh("echo started; sleep 300")).build());
      awaitStdout(c, "started\n");

      ContainerStatus s = stop(c, Duration.ofSeconds(10), "a task sleeping 300 s");

      assertThat(s.isDone()).as("isDone() of the status stop() returned").isTrue();
      assertThat(s.reason()).as("reason of the status stop() returned").isEqualTo(STOPPED);
      assertThat(s.exitCode()).as("exit code of a stopped 'sleep 300'").isIn(143, 137);
      assertSameStatus("status() after stop()", c.status(), s);
      assertSameStatus(
          "a second stop()", stop(c, Duration.ofSeconds(10), "a stopped task again"), s);
    }

    @Test
    @DisplayName("the logs of a stopped task stay readable until cleanup()")
    void logsKept() {
      // exec: no shell is left to report the stopped sleep ("Terminated") on stderr
      Container c =
          driver.runContainer(task("talker", sh("echo out; echo err >&2; exec sleep 300")).build());
      awaitStdout(c, "out\n");

      stop(c, Duration.ofSeconds(10), "a task sleeping 300 s");

      Output logs = logsOf(c);
      assertThat(logs.out()).as("stdout after stop()").isEqualTo("out\n");
      assertThat(logs.err()).as("stderr after stop()").isEqualTo("err\n");
    }

    @Test
    @DisplayName(
        "a task that ignores SIGTERM is killed once the grace (2 s) is over: STOPPED, exit 137,"
            + " not before the grace")
    void killsAfterGrace() {
      Container c =
          driver.runContainer(
              task("stubborn", sh("trap '' TERM; echo ready; while true; do sleep 1; done"))
                  .build());
      awaitStdout(c, "ready\n");
      Duration grace = Duration.ofSeconds(2);

      long start = System.nanoTime();
      ContainerStatus s = stop(c, grace, "a task that ignores SIGTERM");
      Duration took = Duration.ofNanos(System.nanoTime() - start);

      assertThat(s.reason()).as("reason of the status stop() returned").isEqualTo(STOPPED);
      assertThat(s.exitCode()).as("exit code of a task killed by SIGKILL").isEqualTo(137);
      assertThat(took).as("time stop(PT2S) took").isGreaterThanOrEqualTo(grace);
      assertSameStatus("status() after stop()", c.status(), s);
    }

    @Test
    @DisplayName(
        "a task that traps SIGTERM and exits 0 within the grace reads exit 0, STOPPED, and"
            + " had the time to say goodbye")
    void trappedTermExitsItself() {
      Container c =
          driver.runContainer(
              task(
                      "polite",
                      sh(
                          "trap 'echo bye; exit 0' TERM; echo ready;"
                              + " while true; do sleep 1; done"))
                  .build());
      awaitStdout(c, "ready\n");

      ContainerStatus s = stop(c, Duration.ofSeconds(10), "a task that traps SIGTERM");

      assertThat(s.exitCode()).as("exit code of a task that exits 0 on SIGTERM").isZero();
      assertThat(s.reason()).as("reason of the status stop() returned").isEqualTo(STOPPED);
      assertThat(logsOf(c).out()).as("stdout after stop()").isEqualTo("ready\nbye\n");
    }

    @Test
    @DisplayName(
        TRAPPING_TASKS
            + " tasks that trap SIGTERM while their work runs in a background child ('sleep 300 &"
            + " wait'), stopped at once: each runs its own trap (says bye, exits 7) and reads"
            + " STOPPED, rather than ending with its child")
    void trappedTermWithBackgroundChild() throws Exception {
      List<Container> tasks =
          concurrently(
              TRAPPING_TASKS, i -> driver.runContainer(trappingTask("polite-" + i).build()));
      tasks.forEach(c -> awaitStdout(c, "ready\n"));

      List<ContainerStatus> stopped =
          concurrently(TRAPPING_TASKS, i -> tasks.get(i).stop(Duration.ofSeconds(10)));

      assertRanTheirTrap(tasks, stopped, STOPPED);
    }

    @Test
    @DisplayName("stop() ends the task's whole process tree, background children too")
    void endsProcessTree() {
      Container c = driver.runContainer(tickerTask());
      awaitTicking(c);

      stop(c, Duration.ofSeconds(10), "a task with a ticking background child");

      assertTicksStop("the ticks of the stopped task's background child to stop");
    }

    @Test
    @DisplayName("stop() of a finished task returns at once and changes nothing: exit 3, EXITED")
    void finishedTaskUnchanged() {
      Result r = runToEnd(task("exit", sh("exit 3")).build());
      Container c = r.container();

      ContainerStatus s =
          within(promptly(), "stop() of a finished task", () -> c.stop(Duration.ofSeconds(5)));

      assertThat(s.exitCode()).as("exit code stop() returned").isEqualTo(3);
      assertThat(s.reason()).as("reason stop() returned").isEqualTo(EXITED);
      assertThat(c.status().reason()).as("reason of status() after stop()").isEqualTo(EXITED);
    }

    @Test
    @DisplayName(
        "cleanup() of a running task stops it too: status() then reads STOPPED (or throws"
            + " ContainerNotFoundException)")
    void cleanupReadsStopped() {
      Container c = driver.runContainer(task("sleeper", "sleep", "300").build());
      assertThat(c.status().isDone()).as("isDone() of a task sleeping 300 s").isFalse();

      c.cleanup();

      ContainerStatus s;
      try {
        s = c.status();
      } catch (ContainerNotFoundException forgotten) {
        return;
      }
      assertThat(s.isDone()).as("isDone() after cleanup()").isTrue();
      assertThat(s.reason()).as("reason after cleanup() of a running task").isEqualTo(STOPPED);
    }

    @Test
    @DisplayName(
        "stop() with a grace too long to count (ChronoUnit.FOREVER) returns once a task that"
            + " handles SIGTERM has ended by itself: exit 7, STOPPED")
    void unlimitedGrace() {
      Container c = driver.runContainer(trappingTask("polite").build());
      awaitStdout(c, "ready\n");
      Duration forever = ChronoUnit.FOREVER.getDuration();

      ContainerStatus s =
          within(
              awaitTimeout(),
              "stop(FOREVER) of a task that handles SIGTERM",
              () -> c.stop(forever));

      assertThat(describe(s))
          .as("the status stop(FOREVER) returned")
          .isEqualTo(describe(ContainerStatus.done(7, STOPPED)));
      assertThat(logsOf(c).out()).as("stdout after stop(FOREVER)").isEqualTo("ready\nbye\n");
    }

    @Test
    @DisplayName(
        "a negative or null grace is refused with IllegalArgumentException; the task runs on")
    void badGraceRefused() {
      Container c = driver.runContainer(task("sleeper", "sleep", "300").build());

      assertThatThrownBy(() -> c.stop(Duration.ofSeconds(-1)))
          .as("stop(PT-1S)")
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("-1");
      assertThatThrownBy(() -> c.stop(null))
          .as("stop(null)")
          .isInstanceOf(IllegalArgumentException.class);
      assertThat(c.status().isDone()).as("isDone() after the refused stops").isFalse();
    }
  }

  /**
   * {@link Task#timeout()}: the driver stops a task that runs too long. Requires {@link
   * Capability#TIMEOUT}.
   */
  @Nested
  @DisplayName("timeout")
  @TestInstance(TestInstance.Lifecycle.PER_METHOD)
  public class Timeouts {

    /** For JUnit. */
    public Timeouts() {}

    @BeforeEach
    void requireTimeout() {
      requireCapability(Capability.TIMEOUT);
    }

    @Test
    @DisplayName(
        "a 'sleep 300' with timeout 2 s ends TIMED_OUT (exit 143 or 137), not before 2 s and"
            + " long before 300 s; its logs stay")
    void sleepTimesOut() {
      Duration timeout = Duration.ofSeconds(2);
      long start = System.nanoTime();
      Container c =
          driver.runContainer(task("slow", sh("echo started; sleep 300")).timeout(timeout).build());

      ContainerStatus s = awaitDone(c);
      Duration took = Duration.ofNanos(System.nanoTime() - start);

      assertThat(s.reason()).as("reason of a task that ran out of time").isEqualTo(TIMED_OUT);
      assertThat(s.exitCode()).as("exit code of a task that ran out of time").isIn(143, 137);
      assertThat(took).as("time from runContainer to done").isGreaterThanOrEqualTo(timeout);
      assertThat(logsOf(c).out()).as("stdout of the timed-out task").isEqualTo("started\n");
      assertSameStatus("status() polled again", c.status(), s);
    }

    @Test
    @DisplayName(
        "a task that ends before its timeout reads EXITED with its own code, and stays so after"
            + " the timeout has passed")
    void endingInTimeExited() {
      Duration timeout = Duration.ofSeconds(2);
      Container c =
          driver.runContainer(task("quick", sh("echo done; exit 3")).timeout(timeout).build());
      ContainerStatus s = awaitDone(c);
      assertThat(s.exitCode()).as("exit code").isEqualTo(3);
      assertThat(s.reason()).as("reason").isEqualTo(EXITED);

      await("the status of a task that ended in time to stay EXITED past its timeout")
          .atMost(awaitTimeout().plus(timeout))
          .during(timeout.plusSeconds(1))
          .pollInterval(Duration.ofMillis(250))
          .untilAsserted(() -> assertSameStatus("status() past the timeout", c.status(), s));
      assertThat(logsOf(c).out()).as("stdout").isEqualTo("done\n");
    }

    @Test
    @DisplayName(
        "a task whose timeout is too long to count (ChronoUnit.FOREVER,"
            + " Duration.ofMillis(Long.MAX_VALUE)) runs as without one: EXITED with its own code")
    void unlimitedTimeout() {
      for (Duration unlimited : UNLIMITED) {
        Container c =
            driver.runContainer(
                task("unlimited-" + sequence.incrementAndGet(), sh("echo done; exit 3"))
                    .timeout(unlimited)
                    .build());

        ContainerStatus s = awaitDone(c);

        assertThat(describe(s))
            .as("the status of a task with timeout %s", unlimited)
            .isEqualTo(describe(ContainerStatus.exited(3)));
        assertThat(logsOf(c).out()).as("stdout").isEqualTo("done\n");
      }
    }

    @Test
    @DisplayName(
        TRAPPING_TASKS
            + " tasks with timeouts of 2 s (half of them) and 3 s that trap SIGTERM while their"
            + " work runs in a background child ('sleep 300 & wait'): each runs its own trap (says"
            + " bye, exits 7) and reads TIMED_OUT, rather than ending with its child")
    void trappedTermWithBackgroundChild() throws Exception {
      // Two moments at which many tasks end at once: each is a fresh chance for the race.
      List<Container> tasks =
          concurrently(
              TRAPPING_TASKS,
              i ->
                  driver.runContainer(
                      trappingTask("polite-" + i).timeout(Duration.ofSeconds(2 + i % 2)).build()));

      List<ContainerStatus> ended = tasks.stream().map(c -> awaitDone(c)).toList();

      assertRanTheirTrap(tasks, ended, TIMED_OUT);
    }
  }

  /** {@link ContainerStatus#reason()} and {@link ContainerStatus#signal()}: why a task ended. */
  @Nested
  @DisplayName("exit reasons")
  @TestInstance(TestInstance.Lifecycle.PER_METHOD)
  public class ExitReasons {

    /** For JUnit. */
    public ExitReasons() {}

    @ParameterizedTest(name = "exit {0}")
    @ValueSource(ints = {0, 3, 128})
    @DisplayName("a task that exits by itself reads EXITED, without a signal")
    void exited(int code) {
      Result r = runToEnd(task("exit-" + code, sh("exit " + code)).build());
      ContainerStatus s = r.container().status();

      assertThat(s.exitCode()).as("exit code").isEqualTo(code);
      assertThat(s.reason()).as("reason").isEqualTo(EXITED);
      assertThat(s.signal()).as("signal").isEmpty();
    }

    @ParameterizedTest(name = "signal {0}")
    @ValueSource(ints = {9, 15})
    @DisplayName(
        "a task killed by a signal nobody asked the driver for ('kill -N $$') reads SIGNALED"
            + " with signal N")
    void signaled(int signal) {
      Result r = runToEnd(task("killed-" + signal, sh("kill -" + signal + " $$")).build());
      ContainerStatus s = r.container().status();

      assertThat(s.exitCode()).as("exit code").isEqualTo(128 + signal);
      assertThat(s.reason()).as("reason").isEqualTo(SIGNALED);
      assertThat(s.signal()).as("signal").hasValue(signal);
    }

    @Test
    @DisplayName("a running task reads RUNNING, without a signal")
    void running() {
      Container c = driver.runContainer(task("sleeper", "sleep", "300").build());
      ContainerStatus s = c.status();

      assertThat(s.reason()).as("reason while running").isEqualTo(RUNNING);
      assertThat(s.signal()).as("signal while running").isEmpty();
    }
  }

  /**
   * {@link Driver#find}: a new driver instance of the namespace finds a task by its id. Requires
   * {@link Capability#REATTACH}.
   *
   * <p>The local driver finds finished tasks also after a JVM restart; that is beyond a TCK, which
   * runs in one JVM, and belongs to the driver's own tests.
   */
  @Nested
  @DisplayName("reattach")
  @TestInstance(TestInstance.Lifecycle.PER_METHOD)
  public class Reattach {

    /** For JUnit. */
    public Reattach() {}

    @BeforeEach
    void requireReattach() {
      requireCapability(Capability.REATTACH);
    }

    @Test
    @DisplayName(
        "a new driver instance finds a running task: same id, running, its logs so far, and"
            + " then its end")
    void findsRunningTask() {
      Container c =
          driver.runContainer(
              task(
                      "gated",
                      sh("echo started; while ! test -e ./gate/open; do sleep 1; done; exit 4"))
                  .mount("gate", "gate")
                  .build());
      awaitStdout(c, "started\n");

      Container found = findIn(open(namespace), "gated");

      assertThat(found.id()).as("id of the container found").isEqualTo(c.id());
      assertThat(found.status().isDone()).as("isDone() of the running task found").isFalse();
      assertThat(logsOf(found).out()).as("stdout of the task found").isEqualTo("started\n");
      assertSucceeded(
          runToEnd(task("opener", sh("echo > ./gate/open")).mount("gate", "gate").build()));
      ContainerStatus s = awaitDone(found);
      assertThat(s.exitCode()).as("exit code of the task found, once it ended").isEqualTo(4);
    }

    @Test
    @DisplayName(
        "a new driver instance finds a finished task: same id, its exit code, reason and logs")
    void findsFinishedTask() {
      Result r = runToEnd(task("done", sh("echo out; echo err >&2; exit 3")).build());

      Container found = findIn(open(namespace), "done");

      assertThat(found.id()).as("id of the container found").isEqualTo(r.container().id());
      ContainerStatus s = found.status();
      assertThat(s.isDone()).as("isDone() of the finished task found").isTrue();
      assertThat(s.exitCode()).as("exit code of the finished task found").isEqualTo(3);
      assertThat(s.reason()).as("reason of the finished task found").isEqualTo(EXITED);
      Output logs = logsOf(found);
      assertThat(logs.out()).as("stdout of the task found").isEqualTo("out\n");
      assertThat(logs.err()).as("stderr of the task found").isEqualTo("err\n");
    }

    @Test
    @DisplayName(
        "runContainer of a task a new instance found returns that container, without a second"
            + " run")
    void runContainerOfFoundTask() {
      assertThat(awaitDone(driver.runContainer(counterTask("count"))).exitCode()).isZero();
      Driver fresh = open(namespace);

      Container found = findIn(fresh, "count");
      Container again = fresh.runContainer(counterTask("count"));

      assertThat(again.id()).as("id of runContainer of the found task").isEqualTo(found.id());
      assertThat(awaitDone(again).exitCode()).isZero();
      assertThat(readFile(fresh, "state", "runs")).as("runs recorded").isEqualTo("run\n");
    }

    @Test
    @DisplayName(
        "find() is empty for an id never run, a task of another namespace, and a task cleaned"
            + " up")
    void unknownIsEmpty() {
      Driver other = open(namespace + "-other");
      assertSucceeded(runToEnd(other, task("theirs", "true").build()));
      Result gone = runToEnd(task("gone", "true").build());
      gone.container().cleanup();
      Driver fresh = open(namespace);

      for (Driver d : List.of(driver, fresh)) {
        String which = d == driver ? "the driver that ran the tasks" : "a new driver instance";
        assertThat(d.find("never-ran")).as("find(never-ran) on %s", which).isEmpty();
        assertThat(d.find("theirs")).as("find of another namespace's task on %s", which).isEmpty();
        assertThat(d.find("gone")).as("find of a cleaned-up task on %s", which).isEmpty();
      }
    }

    @Test
    @DisplayName(
        "find() of a blank id is refused with IllegalArgumentException; on a closed driver with"
            + " IllegalStateException")
    void badCallsRefused() {
      for (String id : Arrays.asList(null, "", " ")) {
        assertThatThrownBy(() -> driver.find(id))
            .as("find(%s)", id == null ? "null" : "\"" + id + "\"")
            .isInstanceOf(IllegalArgumentException.class);
      }
      driver.close();
      assertThatThrownBy(() -> driver.find("task"))
          .as("find() on a closed driver")
          .isInstanceOf(IllegalStateException.class);
    }
  }

  /**
   * {@link Driver#createSandbox}: one long-lived container, several steps in its task directory.
   * Requires {@link Capability#SANDBOX}.
   *
   * <p>The sandbox's task names {@link #image()}; its steps name no image (that belongs to the
   * sandbox).
   */
  @Nested
  @DisplayName("sandbox")
  @TestInstance(TestInstance.Lifecycle.PER_METHOD)
  public class Sandboxes {

    /** For JUnit. */
    public Sandboxes() {}

    @BeforeEach
    void requireSandbox() {
      requireCapability(Capability.SANDBOX);
    }

    @Test
    @DisplayName(
        "steps share the sandbox's task directory and mounts: a file step 1 writes, step 2"
            + " reads; the volume keeps what a step wrote")
    void stepsShareFilesystem() {
      Sandbox box = driver.createSandbox(sandboxTask("box").mount("data", "data").build());

      assertThat(
              runStep(box, step("write", sh("echo shared > file && echo kept > data/file")))
                  .exitCode())
          .as("exit code of the writing step")
          .isZero();
      Result read = runStep(box, step("read", "cat", "file"));

      assertThat(assertSucceeded(read)).as("file read by step 2").isEqualTo("shared\n");
      assertThat(readFile(driver, "data", "file")).as("the volume's file").isEqualTo("kept\n");
    }

    @Test
    @DisplayName(
        "the sandbox is its main process: running while steps run, createSandbox of its id"
            + " returns it again")
    void mainProcess() {
      Sandbox box = driver.createSandbox(sandboxTask("box").build());
      assertSucceeded(runStep(box, step("step", "true")));

      assertThat(box.container().status().isDone())
          .as("isDone() of the sandbox's main process after a step")
          .isFalse();
      Sandbox again = driver.createSandbox(sandboxTask("box").build());
      assertThat(again.container().id())
          .as("id of the sandbox created again with the same id")
          .isEqualTo(box.container().id());
    }

    @Test
    @DisplayName(
        "a step sees the sandbox's environment plus its own (its own value wins); the next"
            + " step does not see it")
    void stepEnvironment() {
      Sandbox box =
          driver.createSandbox(
              sandboxTask("box").env("BOX_VAR", "from box").env("SHARED", "box").build());
      String print = "printf '[%s]' \"${BOX_VAR-unset}\" \"${STEP_VAR-unset}\" \"${SHARED-unset}\"";

      Result first =
          runStep(box, step("first", sh(print)).env("STEP_VAR", "from step").env("SHARED", "step"));
      Result second = runStep(box, step("second", sh(print)));

      assertThat(assertSucceeded(first))
          .as("variables of a step with its own")
          .isEqualTo("[from box][from step][step]");
      assertThat(assertSucceeded(second))
          .as("variables of the next step")
          .isEqualTo("[from box][unset][box]");
    }

    @Test
    @DisplayName(
        "a step starts in the sandbox's task directory; its workDir is relative to it and"
            + " created if missing")
    void stepWorkDir() {
      Sandbox box = driver.createSandbox(sandboxTask("box").build());
      assertSucceeded(runStep(box, step("mark", sh("echo top > marker && mkdir made"))));

      Result inMade = runStep(box, step("in-made", sh("cat ../marker && pwd")).workDir("made"));
      Result inNew = runStep(box, step("in-new", sh("cat ../../marker && pwd")).workDir("new/dir"));

      assertThat(assertSucceeded(inMade))
          .as("marker and pwd in workDir 'made'")
          .startsWith("top\n")
          .endsWith("/made\n");
      assertThat(assertSucceeded(inNew))
          .as("marker and pwd in workDir 'new/dir'")
          .startsWith("top\n")
          .endsWith("/new/dir\n");
    }

    @Test
    @DisplayName("a step has its own stdin, separated stdout and stderr, and its exact exit code")
    void stepIoAndExitCode() {
      Sandbox box = driver.createSandbox(sandboxTask("box").build());

      Result r = runStep(box, step("io", sh("cat; echo err >&2; exit 7")).stdin("from stdin\n"));
      Result other = runStep(box, step("other", sh("echo other")));

      assertThat(r.exitCode()).as("exit code of the step").isEqualTo(7);
      assertThat(r.out()).as("stdout of the step").isEqualTo("from stdin\n");
      assertThat(r.err()).as("stderr of the step").isEqualTo("err\n");
      assertThat(assertSucceeded(other)).as("stdout of the next step").isEqualTo("other\n");
      assertThat(logsOf(box.container()).out())
          .as("stdout of the sandbox's main process")
          .isEmpty();
    }

    @Test
    @DisplayName(
        "a step's timeout applies (with TIMEOUT): a 'sleep 300' step with timeout 2 s ends"
            + " TIMED_OUT (exit 143 or 137), not before 2 s; one too long to count (ChronoUnit.FOREVER)"
            + " runs as without one; the sandbox runs on")
    void stepTimeout() {
      requireCapability(Capability.TIMEOUT);
      Sandbox box = driver.createSandbox(sandboxTask("box").build());
      Duration timeout = Duration.ofSeconds(2);

      long start = System.nanoTime();
      Container slow =
          box.exec(step("slow", sh("echo started; sleep 300")).timeout(timeout).build());
      ContainerStatus s = awaitDone(slow);
      Duration took = Duration.ofNanos(System.nanoTime() - start);
      Result unlimited =
          runStep(
              box,
              step("unlimited", sh("echo done; exit 3")).timeout(ChronoUnit.FOREVER.getDuration()));

      assertThat(s.reason()).as("reason of a step that ran out of time").isEqualTo(TIMED_OUT);
      assertThat(s.exitCode()).as("exit code of a step that ran out of time").isIn(143, 137);
      assertThat(took).as("time from exec to done").isGreaterThanOrEqualTo(timeout);
      assertThat(unlimited.exitCode())
          .as("exit code of the step with timeout FOREVER")
          .isEqualTo(3);
      assertThat(unlimited.container().status().reason())
          .as("reason of the step with timeout FOREVER")
          .isEqualTo(EXITED);
      assertThat(unlimited.out()).as("stdout of the step with timeout FOREVER").isEqualTo("done\n");
      assertThat(box.container().status().isDone())
          .as("isDone() of the sandbox after its step timed out")
          .isFalse();
    }

    @Test
    @DisplayName(
        "steps that trap SIGTERM while their work runs in a background child ('sleep 300 &"
            + " wait'), each stopped once ready (with STOP): each runs its own trap (says bye,"
            + " exits 7) and reads STOPPED, rather than ending with its child")
    void trappedTermStepsWithBackgroundChild() {
      requireCapability(Capability.STOP);
      Sandbox box = driver.createSandbox(sandboxTask("box").build());
      List<Container> steps = new ArrayList<>();
      List<ContainerStatus> stopped = new ArrayList<>();

      // One after another: the process ids of the steps differ in value and in length.
      for (int i = 0; i < TRAPPING_STEPS; i++) {
        Container c = box.exec(step("polite-" + i, trappingScript()).build());
        awaitStdout(c, "ready\n");
        steps.add(c);
        stopped.add(stop(c, Duration.ofSeconds(10), "a step that traps SIGTERM"));
      }

      assertRanTheirTrap(steps, stopped, STOPPED);
    }

    @Test
    @DisplayName("exec() of a known step id returns the same step, without a second run")
    void execIdempotent() {
      Sandbox box = driver.createSandbox(sandboxTask("box").build());
      Task count = step("count", sh("echo run >> runs")).build();

      Container first = box.exec(count);
      Container again = box.exec(count);
      awaitDone(first);
      Container afterDone = box.exec(count);

      assertThat(again.id()).as("id of the second exec()").isEqualTo(first.id());
      assertThat(afterDone.id()).as("id of exec() after the step ended").isEqualTo(first.id());
      assertThat(assertSucceeded(runStep(box, step("read", "cat", "runs"))))
          .as("runs recorded")
          .isEqualTo("run\n");
    }

    @Test
    @DisplayName(
        "a step setting image, mounts, limits or privileged is refused with"
            + " IllegalArgumentException naming it, and runs nothing")
    void sandboxOptionsOnStepRefused() {
      Sandbox box = driver.createSandbox(sandboxTask("box").build());
      Map<String, Task> refused = new LinkedHashMap<>();
      refused.put("image", step("step", "true").image(image()).build());
      refused.put("mounts", step("step", "true").mount("data", "data").build());
      refused.put("limits", step("step", "true").limits(new ContainerLimits(512, 0)).build());
      refused.put("privileged", step("step", "true").privileged(true).build());

      refused.forEach(
          (option, step) ->
              assertThatThrownBy(() -> box.exec(step))
                  .as("exec() of a step setting %s", option)
                  .isInstanceOf(IllegalArgumentException.class)
                  .hasMessageContaining(option));

      Result fresh = runStep(box, step("step", "echo", "fresh"));
      assertThat(assertSucceeded(fresh))
          .as("stdout of the step id after the refusals")
          .isEqualTo("fresh\n");
    }

    @Test
    @DisplayName(
        "close() removes the sandbox and stops its running steps; exec() then throws"
            + " IllegalStateException; close() again does nothing")
    void closeRemovesSandbox() {
      Sandbox box = driver.createSandbox(sandboxTask("box").build());
      assertSucceeded(runStep(box, step("mark", sh("echo old > marker"))));
      Container running = box.exec(step("sleeper", sh("echo started; sleep 300")).build());
      awaitStdout(running, "started\n");

      box.close();

      assertDoneOrNotFound(box.container(), "of the sandbox after close()");
      assertDoneOrNotFound(running, "of its running step after close()");
      assertThatThrownBy(() -> box.exec(step("late", "true").build()))
          .as("exec() after close()")
          .isInstanceOf(IllegalStateException.class);
      box.close();
      Sandbox again = driver.createSandbox(sandboxTask("box").build());
      assertThat(
              assertSucceeded(runStep(again, step("look", sh("test ! -e marker && echo fresh")))))
          .as("stdout of a step in a new sandbox of the same id: its task directory is fresh")
          .isEqualTo("fresh\n");
    }

    @Test
    @DisplayName("a sandbox whose main process has ended refuses exec() with IllegalStateException")
    void endedSandboxRefusesExec() {
      Sandbox box = driver.createSandbox(task("short", "true").build());
      awaitDone(box.container());

      assertThatThrownBy(() -> box.exec(step("late", "true").build()))
          .as("exec() in a sandbox whose main process ended")
          .isInstanceOf(IllegalStateException.class);
    }

    @Test
    @DisplayName(
        "driver close() removes its sandboxes: exec() then throws IllegalStateException,"
            + " Sandbox.close() does nothing")
    void driverCloseRemovesSandboxes() {
      Sandbox box = driver.createSandbox(sandboxTask("box").build());
      assertSucceeded(runStep(box, step("step", "true")));

      driver.close();

      assertStoppedByClose(box.container());
      assertThatThrownBy(() -> box.exec(step("late", "true").build()))
          .as("exec() after the driver was closed")
          .isInstanceOf(IllegalStateException.class);
      box.close();
      assertThatThrownBy(() -> driver.createSandbox(sandboxTask("late").build()))
          .as("createSandbox() on a closed driver")
          .isInstanceOf(IllegalStateException.class);
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
    List<Path> found = FileSearch.named(tmp, 4, unique::equals, Set.of());
    assertThat(found).as("files named %s under %s", unique, tmp).isEmpty();
  }

  /**
   * How long a call that should answer at once (an interrupted follow, a stop of a finished task)
   * may take: 10 seconds, or the await timeout if shorter.
   */
  private Duration promptly() {
    Duration tenSeconds = Duration.ofSeconds(10);
    return awaitTimeout().compareTo(tenSeconds) < 0 ? awaitTimeout() : tenSeconds;
  }

  private void awaitStdout(Container c, String expected) {
    awaitAtMost("stdout of container " + c.id() + " to read " + expected.strip())
        .untilAsserted(() -> assertThat(logsOf(c).out()).isEqualTo(expected));
  }

  /** Calls stop(grace) and fails if it does not return within the grace and the await timeout. */
  private ContainerStatus stop(Container c, Duration grace, String what) {
    return within(
        grace.plus(awaitTimeout()), "stop(" + grace + ") of " + what, () -> c.stop(grace));
  }

  private ContainerStatus onExitOf(Container c, Duration limit) throws Exception {
    try {
      return c.onExit().get(limit.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      return fail("onExit() of container %s did not complete within %s", c.id(), limit);
    }
  }

  private static Container findIn(Driver d, String taskId) {
    return d.find(taskId)
        .orElseThrow(() -> new AssertionError("find(\"" + taskId + "\") found nothing"));
  }

  private Task.Builder sandboxTask(String id) {
    return task(id, "sleep", "86400");
  }

  /** A step of a sandbox: no image, which belongs to the sandbox. */
  private static Task.Builder step(String id, String... command) {
    return Task.builder().id(id).command(command);
  }

  private Result runStep(Sandbox box, Task.Builder step) {
    Container c = box.exec(step.build());
    ContainerStatus s = awaitDone(c);
    Output o = logsOf(c);
    return new Result(c, s.exitCode(), o.stdout(), o.stderr());
  }

  /** Every observable field of a status, for comparing two statuses in one assertion. */
  private static String describe(ContainerStatus s) {
    return "isDone="
        + s.isDone()
        + " exitCode="
        + s.exitCode()
        + " reason="
        + s.reason()
        + " signal="
        + s.signal();
  }

  private static void assertSameStatus(
      String what, ContainerStatus actual, ContainerStatus expected) {
    assertThat(describe(actual)).as(what).isEqualTo(describe(expected));
  }

  /**
   * A task whose background child appends a line to the file ticks of volume ticks every second,
   * after printing started.
   */
  private Task tickerTask() {
    return task(
            "ticker",
            sh(
                "d=$(cd ./v && pwd -P); (while :; do echo tick >> \"$d/ticks\"; sleep 1;"
                    + " done) & echo started; wait"))
        .mount("ticks", "v")
        .build();
  }

  /**
   * A task that runs {@link #trappingScript()}: it traps SIGTERM (printing bye and exiting 7) while
   * its work runs in a background child it waits for; it prints ready once the trap is set. Its
   * shell sees the child end when the child is signalled first and may then exit 0 before its own
   * SIGTERM arrives: asking the task's own process first is what lets its trap run.
   */
  private Task.Builder trappingTask(String id) {
    return task(id, trappingScript());
  }

  private static String[] trappingScript() {
    return sh("trap 'echo bye; exit 7' TERM; echo ready; sleep 300 & wait");
  }

  /**
   * Each of the {@link #trappingTask}s ended through its trap: exit 7, the given reason, bye on
   * stdout. One failure per task that did not, with what it read instead.
   */
  private static void assertRanTheirTrap(
      List<Container> tasks, List<ContainerStatus> ended, ExitReason reason) {
    SoftAssertions softly = new SoftAssertions();
    for (int i = 0; i < tasks.size(); i++) {
      ContainerStatus s = ended.get(i);
      Output logs = logsOf(tasks.get(i));
      softly
          .assertThat(
              String.format(
                  "exit %d, %s, stdout '%s'",
                  s.exitCode(), s.reason(), logs.out().replace("\n", "\\n")))
          .as("task %d of %d (stderr '%s')", i, tasks.size(), logs.err())
          .isEqualTo("exit 7, " + reason + ", stdout 'ready\\nbye\\n'");
    }
    softly.assertAll();
  }

  private void awaitTicking(Container ticker) {
    awaitStdout(ticker, "started\n");
    awaitAtMost("the first tick").untilAsserted(() -> assertThat(readTicks()).isNotEmpty());
  }

  /** Fails unless the file ticks stops growing within the await timeout and stays so for 4 s. */
  private void assertTicksStop(String what) {
    AtomicReference<String> previous = new AtomicReference<>(readTicks());
    await(what)
        .atMost(awaitTimeout().plusSeconds(4))
        .during(Duration.ofSeconds(4))
        .pollInterval(Duration.ofMillis(250))
        .until(
            () -> {
              String now = readTicks();
              return now.equals(previous.getAndSet(now));
            });
  }

  /** Runs a call on a thread of its own and fails if it does not return within the limit. */
  private <T> T within(Duration limit, String what, Callable<T> call) {
    return new Background<>(what, call).result(limit, what);
  }

  /**
   * A driver call running on a thread of its own, so that a test can bound it, interrupt it, and
   * watch what it does meanwhile. The TCK interrupts those still running when the test ends.
   */
  private final class Background<T> {

    private final CompletableFuture<T> outcome = new CompletableFuture<>();
    private final Thread thread;
    private volatile boolean interruptFlagAtEnd;

    Background(String what, Callable<T> call) {
      thread =
          new Thread(
              () -> {
                T value = null;
                Throwable failure = null;
                try {
                  value = call.call();
                } catch (Throwable t) {
                  failure = t;
                }
                interruptFlagAtEnd = Thread.currentThread().isInterrupted();
                if (failure == null) {
                  outcome.complete(value);
                } else {
                  outcome.completeExceptionally(failure);
                }
              },
              "orchestra-tck " + what);
      thread.setDaemon(true);
      background.add(this);
      thread.start();
    }

    boolean isRunning() {
      return !outcome.isDone();
    }

    void interrupt() {
      thread.interrupt();
    }

    /**
     * Throws what the call threw, if it has thrown, so that a wait for its effects ends at once.
     * Never an {@link AssertionError}, which Awaitility would take for "not yet".
     */
    void rethrowIfFailed() {
      if (outcome.isCompletedExceptionally()) {
        Throwable cause = outcome.handle((value, thrown) -> thrown).join();
        Throwable failure = cause instanceof CompletionException ? cause.getCause() : cause;
        if (failure instanceof RuntimeException e) {
          throw e;
        }
        throw new IllegalStateException(thread.getName() + " failed: " + failure, failure);
      }
    }

    /** Whether the thread's interrupt flag was set when the call returned or threw. */
    boolean interruptFlagAtEnd() {
      return interruptFlagAtEnd;
    }

    /** Waits for the call to return and returns its value; rethrows what it threw. */
    T result(Duration limit, String what) {
      Throwable thrown = thrown(limit, what);
      if (thrown instanceof RuntimeException e) {
        throw e;
      }
      if (thrown instanceof Error e) {
        throw e;
      }
      if (thrown != null) {
        throw new AssertionError(what + " threw " + thrown, thrown);
      }
      return outcome.join();
    }

    /** Waits for the call to end; returns what it threw, or null if it returned. */
    Throwable thrown(Duration limit, String what) {
      try {
        outcome.get(limit.toNanos(), TimeUnit.NANOSECONDS);
        return null;
      } catch (ExecutionException e) {
        return e.getCause();
      } catch (TimeoutException e) {
        AssertionError stuck = new AssertionError(what + " did not return within " + limit);
        stuck.setStackTrace(thread.getStackTrace());
        throw stuck;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("the test was interrupted while waiting for " + what, e);
      }
    }
  }

  /** A follow() call on a thread of its own, into buffers a test reads while it runs. */
  private final class Follower {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    final Background<Void> call;

    Follower(Container c) {
      call =
          new Background<>(
              "follow of " + c.id(),
              () -> {
                c.follow(out, err);
                return null;
              });
    }

    byte[] stdout() {
      return out.toByteArray();
    }

    byte[] stderr() {
      return err.toByteArray();
    }

    String out() {
      return new String(stdout(), UTF8);
    }

    String err() {
      return new String(stderr(), UTF8);
    }
  }
}
