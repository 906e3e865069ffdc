package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.ContainerNotFoundException;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.ExitReason;
import dev.orchestra.Task;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The base of the {@link DriverTck} groups: each test gets a driver of a fresh namespace of its own
 * ({@code tck-} and random characters), opened before it runs; and the helpers of the contract's
 * rules.
 */
abstract class DriverRules extends Rules<DriverTck> {

  private static final Logger LOG = LoggerFactory.getLogger(DriverTck.class);

  /**
   * How many tasks the tests of a trapped SIGTERM with a background child run at once: enough that
   * a driver signalling the child before the task's own process fails reliably.
   */
  static final int TRAPPING_TASKS = 20;

  /**
   * Durations too long to count in nanoseconds, as callers write "no limit": each must work as a
   * very long one, never overflow.
   */
  static final List<Duration> UNLIMITED =
      List.of(ChronoUnit.FOREVER.getDuration(), Duration.ofMillis(Long.MAX_VALUE));

  final AtomicInteger sequence = new AtomicInteger();

  /** The namespace of the test's driver. */
  String namespace;

  /** The driver of the test, opened for {@link #namespace} before it runs. */
  Driver driver;

  DriverRules(DriverTck kit) {
    super(kit, "tck-");
  }

  @BeforeEach
  final void openDriverForTest(TestInfo test) {
    namespace = newNamespace();
    LOG.debug("{} runs in namespace {}", test.getDisplayName(), namespace);
    driver = open(namespace);
  }

  Result runToEnd(Task t) {
    return runToEnd(driver, t);
  }

  /** A task that appends one line to the file runs of volume state each time it runs. */
  Task counterTask(String id) {
    return task(id, sh("echo run >> ./state/runs")).mount("state", "state").build();
  }

  /** Asserts the task exited 0 and returns its stdout. */
  static String assertSucceeded(Result r) {
    assertThat(r.exitCode())
        .as("exit code of %s (stdout: %s, stderr: %s)", r.container().id(), r.out(), r.err())
        .isZero();
    return r.out();
  }

  /** Reads a file of a volume with a task of its own. */
  String readFile(Driver d, String volume, String path) {
    Task read =
        task("read-" + sequence.incrementAndGet(), "cat", "./v/" + path).mount(volume, "v").build();
    Result r = runToEnd(d, read);
    assertThat(r.exitCode())
        .as("exit code of 'cat %s' in volume %s (stderr: %s)", path, volume, r.err())
        .isZero();
    return r.out();
  }

  static void assertDoneOrNotFound(Container c, String when) {
    ContainerStatus s;
    try {
      s = c.status();
    } catch (ContainerNotFoundException e) {
      return;
    }
    assertThat(s.isDone()).as("isDone() %s (or ContainerNotFoundException)", when).isTrue();
  }

  /** As {@link #assertDoneOrNotFound}, also accepting that the closed driver refuses to ask. */
  static void assertStoppedByClose(Container c) {
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

  void requireCapability(Capability capability) {
    Set<Capability> declared = EnumSet.noneOf(Capability.class);
    declared.addAll(driver.capabilities());
    Assumptions.assumeTrue(
        declared.contains(capability),
        () -> "driver '" + driver.name() + "' does not declare capability " + capability);
  }

  static byte[] randomBytes(int size) {
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
  static void assertSameBytes(String what, byte[] actual, byte[] expected) {
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
   * How long a call that should answer at once (an interrupted follow, a stop of a finished task)
   * may take: 10 seconds, or the await timeout if shorter.
   */
  Duration promptly() {
    Duration tenSeconds = Duration.ofSeconds(10);
    return awaitTimeout().compareTo(tenSeconds) < 0 ? awaitTimeout() : tenSeconds;
  }

  void awaitStdout(Container c, String expected) {
    awaitAtMost("stdout of container " + c.id() + " to read " + expected.strip())
        .untilAsserted(() -> assertThat(logsOf(c).out()).isEqualTo(expected));
  }

  /** Calls stop(grace) and fails if it does not return within the grace and the await timeout. */
  ContainerStatus stop(Container c, Duration grace, String what) {
    return within(
        grace.plus(awaitTimeout()), "stop(" + grace + ") of " + what, () -> c.stop(grace));
  }

  /** Every observable field of a status, for comparing two statuses in one assertion. */
  static String describe(ContainerStatus s) {
    return "isDone="
        + s.isDone()
        + " exitCode="
        + s.exitCode()
        + " reason="
        + s.reason()
        + " signal="
        + s.signal();
  }

  static void assertSameStatus(String what, ContainerStatus actual, ContainerStatus expected) {
    assertThat(describe(actual)).as(what).isEqualTo(describe(expected));
  }

  // ---------------------------------------------------------------------------------------------
  // Tasks with background children: for stop, timeout, cleanup and sandbox steps
  // ---------------------------------------------------------------------------------------------

  /**
   * A task whose background child appends a line to the file ticks of volume ticks every second,
   * after printing started.
   */
  Task tickerTask() {
    return task(
            "ticker",
            sh(
                "d=$(cd ./v && pwd -P); (while :; do echo tick >> \"$d/ticks\"; sleep 1;"
                    + " done) & echo started; wait"))
        .mount("ticks", "v")
        .build();
  }

  void awaitTicking(Container ticker) {
    awaitStdout(ticker, "started\n");
    awaitAtMost("the first tick").untilAsserted(() -> assertThat(readTicks()).isNotEmpty());
  }

  /** Fails unless the file ticks stops growing within the await timeout and stays so for 4 s. */
  void assertTicksStop(String what) {
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

  private String readTicks() {
    Task read =
        task("ticks-" + sequence.incrementAndGet(), sh("cat ./v/ticks 2>/dev/null; true"))
            .mount("ticks", "v")
            .build();
    return runToEnd(read).out();
  }

  /**
   * A task that runs {@link #trappingScript()}: it traps SIGTERM (printing bye and exiting 7) while
   * its work runs in a background child it waits for; it prints ready once the trap is set. Its
   * shell sees the child end when the child is signalled first and may then exit 0 before its own
   * SIGTERM arrives: asking the task's own process first is what lets its trap run.
   */
  Task.Builder trappingTask(String id) {
    return task(id, trappingScript());
  }

  static String[] trappingScript() {
    return sh("trap 'echo bye; exit 7' TERM; echo ready; sleep 300 & wait");
  }

  /**
   * Each of the {@link #trappingTask}s ended through its trap: exit 7, the given reason, bye on
   * stdout. One failure per task that did not, with what it read instead.
   */
  static void assertRanTheirTrap(
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
}
