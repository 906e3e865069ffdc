package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.ContainerNotFoundException;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.Sandbox;
import dev.orchestra.Task;
import dev.orchestra.Volume;
import dev.orchestra.spi.Names;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reliability kit of Orchestra drivers: the contract when things go wrong. Faults behind the
 * driver's back, load from many threads, hostile names, interruption of every blocking call, and
 * big or interleaved output; after every test, nothing of its namespaces is left on the platform,
 * on disk or as a process.
 *
 * <p>A driver proves itself with one test class, beside its {@link DriverTck} run:
 *
 * <pre>{@code
 * class AcmeReliabilityTest extends ReliabilityTck {
 *   @Override
 *   protected Driver newDriver(String namespace) {
 *     return Orchestra.open("acme", namespace);
 *   }
 *
 *   @Override
 *   protected List<String> leftovers(String namespace) {
 *     return acmeClient.listEverythingLabelled(namespace);    // containers, volumes, files, ...
 *   }
 *
 *   @Override
 *   protected void removeContainerBehindDriver(String namespace, String taskId, Container c) {
 *     acmeClient.forceRemove(c.id());
 *   }
 * }
 * }</pre>
 *
 * <p>The tests are grouped in {@code @Nested} classes: {@link Load}, {@link Interference}, {@link
 * HostileInput}, {@link Interruption}, {@link BigOutput} and {@link UnresponsivePlatform}. Each
 * test opens drivers for fresh namespaces ({@code rel-} and random characters), closes them at the
 * end, even when it fails, and then checks {@link #leftovers(String)} of every namespace it used:
 * anything listed fails the test. Tests share nothing and may run in parallel.
 *
 * <p>Interference needs the platform: a driver that does not override {@link
 * #removeContainerBehindDriver} or {@link #removeVolumeBehindDriver} has those tests skipped with
 * the reason. So does an unresponsive platform: a driver that reaches its platform over TCP
 * overrides {@link #platformEndpoint()} and {@link #newDriverThrough}, and the kit puts a {@link
 * FaultProxy} in between, which it then makes stop answering; other drivers have those tests
 * skipped with the reason. The load test's random choices come from a seed printed in every
 * failure; {@code -Dorchestra.reliability.seed=<seed>} replays it. The big output test writes
 * {@link #bigOutputBytes()} (10^9 by default) and is skipped with the reason unless the JVM's heap
 * is at most {@value #SMALL_HEAP_MIB} MiB, where output held in memory would fail it: run this
 * class with {@code -Xmx64m}.
 *
 * <p>Timeouts are those of the {@link DriverTck}: {@code orchestra.tck.timeout} per test, {@code
 * orchestra.tck.await} per wait for a task's state.
 */
@TestInstance(TestInstance.Lifecycle.PER_METHOD)
@ExtendWith(TckTimeoutExtension.class)
public abstract class ReliabilityTck {

  /** System property: the seed of the load test's random choices, to replay a failed run. */
  public static final String SEED_PROPERTY = "orchestra.reliability.seed";

  /** The largest heap, in MiB, under which the big output test proves output is streamed. */
  public static final int SMALL_HEAP_MIB = 256;

  private static final Logger LOG = LoggerFactory.getLogger(ReliabilityTck.class);
  private static final Duration POLL = Duration.ofMillis(50);

  private final Set<String> namespaces = Collections.synchronizedSet(new LinkedHashSet<>());
  private final List<Driver> opened = new CopyOnWriteArrayList<>();
  private final List<Thread> threads = new CopyOnWriteArrayList<>();

  /** For subclasses. */
  protected ReliabilityTck() {}

  /**
   * Opens the driver under test for a namespace. Called at least once per test with a namespace no
   * other test uses; some tests open it again for the same namespace. The kit closes every driver
   * it opened.
   *
   * @param namespace {@code rel-} and random lower-case letters and digits
   * @return a new driver for the namespace
   */
  protected abstract Driver newDriver(String namespace);

  /**
   * What of a namespace is still there, on the platform (containers, volumes), on disk (task
   * directories, log files, client-side buffers) and as processes. Called after every driver of the
   * namespace was closed: it must then be empty.
   *
   * @param namespace a namespace a test used
   * @return one human-readable line per leftover; empty when nothing is left
   */
  protected abstract List<String> leftovers(String namespace);

  /**
   * Removes a task's container from the platform behind the driver's back, as an operator's {@code
   * docker rm -f} or a disk cleaner would: the driver must then answer with clear errors or a done
   * status, never hang, and still close.
   *
   * @param namespace the task's namespace
   * @param taskId the task's id
   * @param container the driver's handle of it
   * @throws UnsupportedOperationException by default: the tests that need it are skipped
   */
  protected void removeContainerBehindDriver(String namespace, String taskId, Container container) {
    throw new UnsupportedOperationException("removeContainerBehindDriver is not implemented");
  }

  /**
   * Removes a volume from the platform behind the driver's back.
   *
   * @param namespace the volume's namespace
   * @param volumeName the caller's name of the volume
   * @throws UnsupportedOperationException by default: the tests that need it are skipped
   */
  protected void removeVolumeBehindDriver(String namespace, String volumeName) {
    throw new UnsupportedOperationException("removeVolumeBehindDriver is not implemented");
  }

  /**
   * Where the platform's API listens, for the {@link UnresponsivePlatform} tests: the kit runs a
   * {@link FaultProxy} in front of it and opens drivers through the proxy with {@link
   * #newDriverThrough}.
   *
   * @return the platform's TCP endpoint; empty by default: those tests are skipped with the reason
   */
  protected Optional<InetSocketAddress> platformEndpoint() {
    return Optional.empty();
  }

  /**
   * Opens the driver under test for a namespace, so that it reaches its platform only through the
   * given address (a {@link FaultProxy} in front of {@link #platformEndpoint()}), with its timeouts
   * set so that no call waits longer than {@link #unresponsivePlatformBound()} on a platform that
   * stopped answering. The kit closes every driver it opened.
   *
   * @param namespace {@code rel-} and random lower-case letters and digits
   * @param proxy the address to reach the platform through
   * @return the driver; empty by default: the {@link UnresponsivePlatform} tests are skipped with
   *     the reason
   */
  protected Optional<Driver> newDriverThrough(String namespace, InetSocketAddress proxy) {
    return Optional.empty();
  }

  /**
   * The most any call of a driver opened by {@link #newDriverThrough} may take once its platform
   * accepts connections and never answers, or freezes in the middle of a stream: the call must then
   * end, returning or throwing an {@link OrchestraException}, within this bound (a timed {@code
   * await(d)} within {@code d} plus this bound).
   *
   * @return 60 seconds by default
   */
  protected Duration unresponsivePlatformBound() {
    return Duration.ofSeconds(60);
  }

  /**
   * The directories where the driver legitimately creates files named after task ids or volume
   * names (its root directory, say). The hostile input tests search the temporary directory and the
   * working directory, outside these, for anything a hostile name created.
   *
   * @return the driver's own areas on this machine's file system; empty by default
   */
  protected Set<Path> driverAreas() {
    return Set.of();
  }

  /**
   * Tests of this kit the driver is known to fail, by method name (for example {@code
   * "sandboxInterrupted"}), each with the reason: an open bug, say. They are reported as skipped
   * with that reason, never as passed. An exclusion list, as other TCKs keep one: meant to be short
   * and temporary.
   *
   * @return method name to reason; empty by default
   */
  protected Map<String, String> excludedTests() {
    return Map.of();
  }

  /**
   * The image every task names; see {@link DriverTck#image()}.
   *
   * @return {@code "busybox"} by default
   */
  protected String image() {
    return "busybox";
  }

  /**
   * How many bytes the big output test has a task write to stdout and reads back through {@link
   * Container#logs}.
   *
   * @return 10^9 by default
   */
  protected long bigOutputBytes() {
    return 1_000_000_000L;
  }

  /**
   * How many tasks the load test runs.
   *
   * @return 200 by default
   */
  protected int loadTasks() {
    return 200;
  }

  /**
   * From how many threads the load test calls the driver.
   *
   * @return 8 by default
   */
  protected int loadThreads() {
    return 8;
  }

  /**
   * The most one wait for a task's state may take; see {@link DriverTck#awaitTimeout()}.
   *
   * @return the system property {@code orchestra.tck.await} or 60 seconds
   */
  protected Duration awaitTimeout() {
    return TckSettings.awaitTimeout();
  }

  /**
   * The most one test method may take; see {@link DriverTck#testTimeout()}.
   *
   * @return the system property {@code orchestra.tck.timeout} or 2 minutes
   */
  protected Duration testTimeout() {
    return TckSettings.testTimeout();
  }

  @BeforeEach
  final void skipExcluded(TestInfo test) {
    test.getTestMethod()
        .map(m -> excludedTests().get(m.getName()))
        .ifPresent(reason -> Assumptions.abort("excluded for this driver: " + reason));
  }

  @AfterEach
  final void closeAndCheckLeftovers() {
    threads.forEach(Thread::interrupt);
    Drivers.closeAll(opened);
    for (String namespace : new ArrayList<>(namespaces)) {
      assertNothingLeft(namespace);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Groups
  // ---------------------------------------------------------------------------------------------

  /** Many tasks from many threads, every call in a random order, then close(): nothing lost. */
  @Nested
  @DisplayName("load")
  @TestInstance(TestInstance.Lifecycle.PER_METHOD)
  public class Load {

    /** For JUnit. */
    public Load() {}

    @Test
    @DisplayName(
        "tasks from many threads with random run, status, logs, cleanup: every exit code and log"
            + " exact, no undocumented exception, nothing left after close()")
    void randomInterleavings() throws Exception {
      long seed =
          Long.getLong(SEED_PROPERTY, ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
      String replay = "seed " + seed + " (replay with -D" + SEED_PROPERTY + "=" + seed + ")";
      LOG.info("load test: {} tasks from {} threads, {}", loadTasks(), loadThreads(), replay);
      String namespace = newNamespace();
      Driver driver = open(namespace);
      List<String> problems = new CopyOnWriteArrayList<>();
      SplittableRandom root = new SplittableRandom(seed);
      ExecutorService pool = Executors.newFixedThreadPool(loadThreads());
      try {
        List<Future<?>> workers = new ArrayList<>();
        for (int t = 0; t < loadThreads(); t++) {
          LoadWorker worker = new LoadWorker(driver, t, root.split(), problems);
          workers.add(pool.submit(worker::run));
        }
        for (Future<?> w : workers) {
          try {
            w.get(testTimeout().toMillis(), TimeUnit.MILLISECONDS);
          } catch (ExecutionException e) {
            problems.add("a worker failed: " + describe(e.getCause()));
          }
        }
      } finally {
        pool.shutdownNow();
      }
      try {
        driver.close();
      } catch (RuntimeException e) {
        problems.add("close() threw " + describe(e));
      }
      assertThat(problems).as("problems of the load run with %s", replay).isEmpty();
      assertNothingLeft(namespace);
    }
  }

  /** What one load thread expects of one task. */
  private record Expected(Task task, int exitCode, String stdout, String stderr, boolean sleeps) {}

  /** One thread of the load test: its own tasks, its own random choices, all on one driver. */
  private final class LoadWorker {

    private final Driver driver;
    private final int number;
    private final SplittableRandom random;
    private final List<String> problems;
    private final List<Expected> pending = new ArrayList<>();
    private final Map<Expected, Container> started = new LinkedHashMap<>();
    private final Map<Expected, Container> cleaned = new LinkedHashMap<>();

    LoadWorker(Driver driver, int number, SplittableRandom random, List<String> problems) {
      this.driver = driver;
      this.number = number;
      this.random = random;
      this.problems = problems;
      for (int i = number; i < loadTasks(); i += loadThreads()) {
        pending.add(expected(i));
      }
    }

    private Expected expected(int i) {
      String id = "load-" + i + (random.nextInt(4) == 0 ? " ü/" + i : "");
      int code = random.nextInt(256);
      String out = text("out", i);
      String err = random.nextBoolean() ? text("err", i) : "";
      boolean sleeps = random.nextInt(50) == 0;
      Task.Builder b = Task.builder().id(id).image(image()).env("OUT", out).env("ERR", err);
      if (sleeps) {
        // A task still running when close() comes: close must end it.
        b.command("sh", "-c", "printf '%s' \"$OUT\"; exec sleep 300");
        return new Expected(b.build(), -1, out, "", true);
      }
      if (random.nextInt(4) == 0) {
        String input = text("in", i);
        b.stdin(input)
            .command(
                "sh", "-c", "cat; printf '%s' \"$OUT\"; printf '%s' \"$ERR\" >&2; exit " + code);
        return new Expected(b.build(), code, input + out, err, false);
      }
      String pause = random.nextInt(3) == 0 ? "sleep 0." + random.nextInt(1, 5) + "; " : "";
      b.command("sh", "-c", pause + "printf '%s' \"$OUT\"; printf '%s' \"$ERR\" >&2; exit " + code);
      return new Expected(b.build(), code, out, err, false);
    }

    private String text(String kind, int i) {
      StringBuilder s = new StringBuilder(kind).append(i).append(':');
      int lines = random.nextInt(1, 6);
      for (int l = 0; l < lines; l++) {
        s.append(" line ").append(l).append(" grüße ✓ ").append(random.nextLong()).append('\n');
      }
      if (random.nextBoolean()) {
        s.append("partial last line");
      }
      return s.toString();
    }

    void run() {
      while (!pending.isEmpty() || !started.isEmpty()) {
        if (Thread.currentThread().isInterrupted()) {
          problems.add("worker " + number + " was interrupted");
          return;
        }
        int choice = random.nextInt(10);
        if (!pending.isEmpty() && (started.isEmpty() || choice < 3)) {
          Expected e = pending.remove(random.nextInt(pending.size()));
          call(
              "runContainer of " + e.task().id(),
              () -> started.put(e, driver.runContainer(e.task())));
        } else if (choice < 5) {
          Map.Entry<Expected, Container> e = anyStarted();
          call("status of " + e.getKey().task().id(), () -> checkStatus(e.getKey(), e.getValue()));
        } else if (choice < 7) {
          Map.Entry<Expected, Container> e = anyStarted();
          call("logs of " + e.getKey().task().id(), () -> checkLogs(e.getKey(), e.getValue()));
        } else if (choice < 8) {
          Map.Entry<Expected, Container> e = anyStarted();
          call(
              "runContainer again of " + e.getKey().task().id(),
              () -> {
                Container again = driver.runContainer(e.getKey().task());
                if (!again.id().equals(e.getValue().id())) {
                  problems.add(
                      "runContainer of known task '"
                          + e.getKey().task().id()
                          + "' gave container "
                          + again.id()
                          + ", not "
                          + e.getValue().id());
                }
              });
        } else {
          Map.Entry<Expected, Container> e = anyStarted();
          call("finishing " + e.getKey().task().id(), () -> finish(e.getKey(), e.getValue()));
        }
        if (!cleaned.isEmpty() && random.nextInt(10) == 0) {
          List<Expected> gone = new ArrayList<>(cleaned.keySet());
          Expected e = gone.get(random.nextInt(gone.size()));
          call("calls after cleanup of " + e.task().id(), () -> afterCleanup(e, cleaned.get(e)));
        }
      }
    }

    private Map.Entry<Expected, Container> anyStarted() {
      List<Map.Entry<Expected, Container>> entries = new ArrayList<>(started.entrySet());
      return entries.get(random.nextInt(entries.size()));
    }

    private void call(String what, Runnable call) {
      try {
        call.run();
      } catch (RuntimeException | AssertionError e) {
        problems.add(what + " (worker " + number + ") threw " + describe(e));
      }
    }

    private void checkStatus(Expected e, Container c) {
      ContainerStatus s = c.status();
      if (s.isDone() && (e.sleeps() || s.exitCode() != e.exitCode())) {
        problems.add(
            "task '" + e.task().id() + "' is done with " + s.exitCode() + ", expected " + e);
      }
      if (!s.isDone() && s.exitCode() != -1) {
        problems.add("task '" + e.task().id() + "' runs with exit code " + s.exitCode());
      }
    }

    private void checkLogs(Expected e, Container c) {
      boolean doneBefore = c.status().isDone();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      c.logs(out, err);
      String o = out.toString(StandardCharsets.UTF_8);
      String r = err.toString(StandardCharsets.UTF_8);
      boolean exact = doneBefore && !e.sleeps();
      if (exact ? !o.equals(e.stdout()) : !e.stdout().startsWith(o)) {
        problems.add(
            "stdout of task '" + e.task().id() + "' read '" + o + "', expected '" + e.stdout());
      }
      if (exact ? !r.equals(e.stderr()) : !e.stderr().startsWith(r)) {
        problems.add(
            "stderr of task '" + e.task().id() + "' read '" + r + "', expected '" + e.stderr());
      }
    }

    /** Waits for the task's end (a sleeper is left running for close), checks it, cleans up. */
    private void finish(Expected e, Container c) {
      started.remove(e);
      if (e.sleeps()) {
        checkStatus(e, c);
        return;
      }
      ContainerStatus s =
          awaitAtMost("task '" + e.task().id() + "' to end")
              .until(c::status, ContainerStatus::isDone);
      if (s.exitCode() != e.exitCode()) {
        problems.add(
            "task '" + e.task().id() + "' exited " + s.exitCode() + ", expected " + e.exitCode());
      }
      checkLogs(e, c);
      if (random.nextInt(3) > 0) {
        c.cleanup();
        cleaned.put(e, c);
      }
    }

    /** After cleanup: status done or not found; logs not found or exact; cleanup idempotent. */
    private void afterCleanup(Expected e, Container c) {
      try {
        if (!c.status().isDone()) {
          problems.add("task '" + e.task().id() + "' reads running after cleanup()");
        }
      } catch (ContainerNotFoundException expected) {
        LOG.debug("status after cleanup: {}", expected.getMessage());
      }
      try {
        checkLogs(e, c);
      } catch (ContainerNotFoundException expected) {
        LOG.debug("logs after cleanup: {}", expected.getMessage());
      }
      c.cleanup();
    }
  }

  /** The platform changed behind the driver's back: clear errors or done, never a hang. */
  @Nested
  @DisplayName("external interference")
  @TestInstance(TestInstance.Lifecycle.PER_METHOD)
  public class Interference {

    /** For JUnit. */
    public Interference() {}

    @Test
    @DisplayName(
        "a running task removed behind the driver's back: every call answers done or an"
            + " OrchestraException promptly, and close() completes")
    void runningContainerRemoved() {
      String namespace = newNamespace();
      Driver driver = open(namespace);
      Container c = driver.runContainer(task("victim", "sleep", "300").build());
      assertThat(c.status().isDone()).as("isDone() of a task sleeping 300 s").isFalse();
      removeContainer(namespace, "victim", c);

      answersAfterRemoval(driver, c);
      closePromptly(driver);
    }

    @Test
    @DisplayName(
        "a finished task removed behind the driver's back: every call answers done or an"
            + " OrchestraException promptly, and close() completes")
    void finishedContainerRemoved() {
      String namespace = newNamespace();
      Driver driver = open(namespace);
      Container c = driver.runContainer(task("victim", "echo", "hi").build());
      awaitDone(c);
      removeContainer(namespace, "victim", c);

      answersAfterRemoval(driver, c);
      closePromptly(driver);
    }

    @Test
    @DisplayName(
        "a volume removed behind the driver's back: createVolume, tasks mounting it and cleanup"
            + " work or fail clearly, and close() completes")
    void volumeRemoved() {
      String namespace = newNamespace();
      Driver driver = open(namespace);
      Volume volume = driver.createVolume("data", 0);
      Container writer =
          driver.runContainer(
              task("writer", "sh", "-c", "echo kept > v/file").mount("data", "v").build());
      assertThat(awaitDone(writer).exitCode()).as("exit code of the writer").isZero();
      writer.cleanup();
      removeVolume(namespace, "data");

      Throwable again =
          catchThrowable(
              () -> within("createVolume after removal", () -> driver.createVolume("data", 0)));
      assertClear("createVolume(\"data\") after the volume was removed", again);
      Throwable run =
          catchThrowable(
              () ->
                  within(
                      "a task mounting the removed volume",
                      () -> {
                        Container reader =
                            driver.runContainer(
                                task("reader", "sh", "-c", "cat v/file 2>/dev/null; echo end")
                                    .mount("data", "v")
                                    .build());
                        return awaitDone(reader);
                      }));
      assertClear("running a task that mounts the removed volume", run);
      assertClear(
          "cleanup() of the removed volume",
          catchThrowable(() -> within("volume cleanup", () -> call(volume::cleanup))));
      closePromptly(driver);
    }

    private void answersAfterRemoval(Driver driver, Container c) {
      // A platform may let a removed task's processes run on (the local driver's do, in a deleted
      // directory): only once stop() has ended it must the waiting calls return.
      Map<String, Callable<?>> calls = new LinkedHashMap<>();
      calls.put("status()", c::status);
      calls.put("await(1 second)", () -> c.await(Duration.ofSeconds(1)));
      calls.put(
          "logs()",
          () -> call(() -> c.logs(new ByteArrayOutputStream(), new ByteArrayOutputStream())));
      if (driver.capabilities().contains(Capability.STOP)) {
        calls.put("stop()", () -> c.stop(Duration.ofSeconds(1)));
        calls.put("await() after stop()", () -> c.await(awaitTimeout()));
        calls.put(
            "onExit() after stop()",
            () -> c.onExit().get(awaitTimeout().toMillis(), TimeUnit.MILLISECONDS));
        if (driver.capabilities().contains(Capability.FOLLOW)) {
          calls.put(
              "follow() after stop()",
              () -> call(() -> c.follow(new ByteArrayOutputStream(), new ByteArrayOutputStream())));
        }
      }
      if (driver.capabilities().contains(Capability.REATTACH)) {
        calls.put("find()", () -> driver.find("victim"));
      }
      calls.put("cleanup()", () -> call(c::cleanup));
      calls.put("cleanup() again", () -> call(c::cleanup));
      SoftAssertions softly = new SoftAssertions();
      calls.forEach(
          (name, call) -> {
            Throwable thrown = catchThrowable(() -> within(name + " after removal", call));
            if (thrown instanceof ExecutionException) {
              thrown = thrown.getCause();
            }
            softly
                .assertThat(thrown == null || isClear(thrown))
                .as("%s after the container was removed threw %s", name, describe(thrown))
                .isTrue();
          });
      softly.assertAll();
      Throwable status = catchThrowable(c::status);
      if (status == null) {
        assertThat(c.status().isDone())
            .as("isDone() after removal and cleanup (or ContainerNotFoundException)")
            .isTrue();
      }
      Container fresh = driver.runContainer(task("victim", "echo", "fresh").build());
      assertThat(awaitDone(fresh).exitCode()).as("exit code of the id's fresh run").isZero();
      assertThat(stdout(fresh)).as("stdout of the id's fresh run").isEqualTo("fresh\n");
    }

    private void closePromptly(Driver driver) {
      within(
          "close()",
          () -> {
            driver.close();
            return null;
          });
    }
  }

  /** Generated hostile names: refused clearly, or working and never colliding. */
  @Nested
  @DisplayName("hostile input")
  @TestInstance(TestInstance.Lifecycle.PER_METHOD)
  public class HostileInput {

    /** For JUnit. */
    public HostileInput() {}

    @Test
    @DisplayName(
        "hostile task ids and volume names: refused with IllegalArgumentException naming them,"
            + " or run at once without collisions, nothing created outside the driver's area")
    void hostileIdsAndVolumes() {
      String marker = "relmark" + randomSuffix();
      List<String> names = hostileNames(marker);
      Driver driver = open(newNamespace());

      Map<String, String> volumeOf = new LinkedHashMap<>();
      SoftAssertions softly = new SoftAssertions();
      for (String name : names) {
        Throwable thrown = catchThrowable(() -> driver.createVolume(name, 0));
        if (thrown == null) {
          volumeOf.put(name, name);
        } else {
          softly
              .assertThat(thrown)
              .as("createVolume of '%s'", Names.printable(name))
              .isInstanceOf(IllegalArgumentException.class);
          softly
              .assertThat(thrown.getMessage())
              .as("message of the refusal of volume name '%s'", Names.printable(name))
              .contains(Names.printable(name));
          volumeOf.put(name, "v" + volumeOf.size() + "-" + marker);
        }
      }
      Map<String, Container> started = new LinkedHashMap<>();
      Map<String, CompletableFuture<Container>> starts = new LinkedHashMap<>();
      // Started from several threads at once, as a CI server would: collisions show.
      ExecutorService pool = Executors.newFixedThreadPool(8);
      try {
        for (String name : names) {
          Task.Builder b;
          try {
            b = task(name, "sh", "-c", "printf '%s' \"$ID\" > v/id; printf '%s' \"$ID\"");
          } catch (IllegalArgumentException e) {
            softly
                .assertThat(e.getMessage())
                .as("message of the refusal of task id '%s'", Names.printable(name))
                .contains(Names.printable(name));
            continue;
          }
          Task t = b.env("ID", name).mount(volumeOf.get(name), "v").build();
          starts.put(name, CompletableFuture.supplyAsync(() -> driver.runContainer(t), pool));
        }
        collectStarts(starts, started, softly);
      } finally {
        pool.shutdownNow();
      }
      softly.assertAll();
      assertThat(started).as("tasks with hostile ids that run").hasSizeGreaterThan(10);

      Set<String> containerIds = new HashSet<>();
      started.forEach(
          (name, c) -> {
            String shown = Names.printable(name);
            ContainerStatus s = awaitDone(c);
            softly.assertThat(s.exitCode()).as("exit code of task '%s'", shown).isZero();
            softly.assertThat(stdout(c)).as("stdout of task '%s'", shown).isEqualTo(name);
            softly
                .assertThat(containerIds.add(c.id()))
                .as("container id %s of task '%s' is its own", c.id(), shown)
                .isTrue();
          });
      // One task reads every volume back: what each task wrote into its own volume, and nothing
      // another task wrote.
      Task.Builder read =
          task("read-" + marker, "sh", "-c", "for d in \"$@\"; do cat \"$d/id\"; echo; done", "sh");
      List<String> dirs = new ArrayList<>();
      StringBuilder expected = new StringBuilder();
      for (String name : started.keySet()) {
        String dir = "v" + dirs.size();
        dirs.add(dir);
        read.mount(volumeOf.get(name), dir);
        expected.append(name).append('\n');
      }
      List<String> command = new ArrayList<>(read.build().command());
      command.addAll(dirs);
      Container reader = driver.runContainer(read.command(command).build());
      softly.assertThat(awaitDone(reader).exitCode()).as("exit code of the reader").isZero();
      softly
          .assertThat(stdout(reader))
          .as("what each task wrote into its own volume, in order")
          .isEqualTo(expected.toString());
      softly.assertAll();
      driver.close();
      assertNothingOutsideAreas(marker);
    }

    @Test
    @DisplayName(
        "environment keys with '=' or NUL, empty keys and values with NUL are refused with"
            + " IllegalArgumentException before any driver sees them")
    void uncarriableEnvironmentRefused() {
      Map<String, String> refused = new LinkedHashMap<>();
      refused.put("A=B", "v");
      refused.put("=", "v");
      refused.put("", "v");
      refused.put("NUL\0KEY", "v");
      refused.put("NUL_VALUE", "a\0b");
      SoftAssertions softly = new SoftAssertions();
      refused.forEach(
          (key, value) -> {
            Throwable thrown =
                catchThrowable(() -> Task.builder().id("env").command("true").env(key, value));
            softly
                .assertThat(thrown)
                .as("env('%s', '%s')", Names.printable(key), Names.printable(value))
                .isInstanceOf(IllegalArgumentException.class);
            if (thrown != null) {
              softly
                  .assertThat(thrown.getMessage())
                  .as("message of the refusal of env key '%s'", Names.printable(key))
                  .contains(key.contains("\0") ? Names.printable(key) : "env");
            }
          });
      softly.assertAll();
    }

    @Test
    @DisplayName("odd but carriable environment keys and values arrive byte for byte")
    void oddEnvironmentCarried() {
      Driver driver = open(newNamespace());
      Map<String, String> env = new LinkedHashMap<>();
      env.put("SPACED", "  two  spaces  ");
      env.put("EQUALS", "a=b==c");
      env.put("NEWLINES", "line1\nline2\n");
      env.put("UNICODE", "grüße ✓ 日本 🎉");
      env.put("EMPTY", "");
      env.put("LONG", "x".repeat(100_000));
      StringBuilder script = new StringBuilder();
      env.keySet().forEach(k -> script.append("printf '%s|' \"$").append(k).append("\"; "));
      Container c =
          driver.runContainer(task("env", "sh", "-c", script.toString()).env(env).build());
      assertThat(awaitDone(c).exitCode()).as("exit code").isZero();
      StringBuilder expected = new StringBuilder();
      env.values().forEach(v -> expected.append(v).append('|'));
      assertThat(stdout(c))
          .as("the variables as the task printed them")
          .isEqualTo(expected.toString());
    }

    private void collectStarts(
        Map<String, CompletableFuture<Container>> starts,
        Map<String, Container> started,
        SoftAssertions softly) {
      for (Map.Entry<String, CompletableFuture<Container>> start : starts.entrySet()) {
        String name = start.getKey();
        Throwable thrown = null;
        try {
          started.put(name, start.getValue().get(awaitTimeout().toMillis(), TimeUnit.MILLISECONDS));
        } catch (ExecutionException e) {
          thrown = e.getCause();
        } catch (InterruptedException | TimeoutException e) {
          throw new AssertionError("starting task '" + Names.printable(name) + "' failed", e);
        }
        if (thrown != null) {
          softly
              .assertThat(thrown)
              .as("runContainer of task id '%s'", Names.printable(name))
              .isInstanceOf(IllegalArgumentException.class);
          softly
              .assertThat(thrown.getMessage())
              .as("message of the refusal of task id '%s'", Names.printable(name))
              .contains(Names.printable(name));
        }
      }
    }

    private List<String> hostileNames(String marker) {
      String longName = "L".repeat(150) + "-" + marker + "-" + "l".repeat(150);
      List<String> names = new ArrayList<>();
      for (String base :
          List.of(
              "a/b",
              "a_b",
              "a-b",
              "A-B",
              "a b",
              "a.b",
              "a:b",
              "ab",
              "Ab",
              "AB",
              "..",
              "../../",
              "/",
              "a/../../b",
              "c:\\x",
              ".hidden",
              "-dash",
              "trailing.",
              "grüße",
              "GRÜSSE",
              "e\u0301",
              "\u00e9",
              "日本語",
              "🎉",
              "with\0nul",
              "tab\there",
              " ")) {
        names.add(base.equals(" ") ? base : base + "-" + marker);
      }
      names.add(marker + "/../..");
      names.add(marker + ":");
      names.add(marker.toUpperCase(Locale.ROOT));
      names.add(longName);
      names.add(longName + "2");
      names.add("2" + longName);
      names.add(longName.toUpperCase(Locale.ROOT));
      names.add(".");
      names.add("..");
      names.add("");
      return names;
    }

    private void assertNothingOutsideAreas(String marker) {
      Set<Path> areas = new HashSet<>();
      driverAreas().forEach(p -> areas.add(p.toAbsolutePath().normalize()));
      Path tmp = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath().normalize();
      Path cwd = Path.of("").toAbsolutePath().normalize();
      List<Path> found = new ArrayList<>();
      for (Path start : List.of(tmp, cwd, Path.of("/"))) {
        int depth = start.equals(tmp) ? 8 : start.equals(cwd) ? 3 : 1;
        found.addAll(FileSearch.named(start, depth, n -> n.contains(marker), areas));
      }
      assertThat(found)
          .as("files named after hostile input outside the driver's areas %s", areas)
          .isEmpty();
    }
  }

  /** Every blocking call answers Thread.interrupt() promptly and leaves nothing half-made. */
  @Nested
  @DisplayName("interruption")
  @TestInstance(TestInstance.Lifecycle.PER_METHOD)
  public class Interruption {

    /** For JUnit. */
    public Interruption() {}

    @Test
    @DisplayName(
        "await, follow, stop and logs answer an interrupt while they block: promptly,"
            + " OrchestraInterruptedException, flag set")
    void blockedCallsAnswer() {
      Driver driver = open(newNamespace());
      Container sleeper = driver.runContainer(task("sleeper", "sleep", "300").build());
      Container trapper =
          driver.runContainer(
              task(
                      "trapper",
                      "sh",
                      "-c",
                      "trap 'echo term' TERM; echo ready; while :; do sleep 1; done")
                  .build());
      Container chatty =
          driver.runContainer(task("chatty", "sh", "-c", "yes chatty | head -c 4000000").build());
      awaitDone(chatty);
      awaitAtMost("trapper to be ready").until(() -> stdout(trapper).startsWith("ready"));

      Map<String, Callable<?>> calls = new LinkedHashMap<>();
      calls.put("await(5 minutes)", () -> sleeper.await(Duration.ofMinutes(5)));
      if (driver.capabilities().contains(Capability.FOLLOW)) {
        calls.put(
            "follow()",
            () ->
                call(
                    () ->
                        sleeper.follow(new ByteArrayOutputStream(), new ByteArrayOutputStream())));
      }
      BlockingStream blocking = new BlockingStream();
      calls.put(
          "logs() into a stream that blocks",
          () -> call(() -> chatty.logs(blocking, new ByteArrayOutputStream())));
      SoftAssertions softly = new SoftAssertions();
      calls.forEach(
          (name, call) -> {
            Interrupted r = interruptWhileBlocked(name, call, Duration.ofMillis(300));
            softly
                .assertThat(r.returnedBeforeInterrupt())
                .as(
                    "%s returned before the interrupt, having thrown %s",
                    name, describe(r.thrown()))
                .isFalse();
            softly
                .assertThat(r.thrown())
                .as("what %s threw when interrupted", name)
                .isInstanceOfAny(OrchestraInterruptedException.class, InterruptedException.class);
            softly.assertThat(r.flagAtEnd()).as("interrupt flag after %s", name).isTrue();
          });
      if (driver.capabilities().contains(Capability.STOP)) {
        Interrupted r =
            interruptWhileBlocked(
                "stop(5 minutes) of a task that traps SIGTERM",
                () -> trapper.stop(Duration.ofMinutes(5)),
                Duration.ofMillis(500));
        softly
            .assertThat(r.returnedBeforeInterrupt())
            .as("stop returned before the interrupt")
            .isFalse();
        softly
            .assertThat(r.thrown())
            .as("what stop threw when interrupted")
            .isInstanceOf(OrchestraInterruptedException.class);
        softly.assertThat(r.flagAtEnd()).as("interrupt flag after stop").isTrue();
        softly
            .assertThat(awaitDone(trapper).isDone())
            .as("trapper killed by the interrupted stop")
            .isTrue();
      }
      blocking.release();
      softly.assertAll();
      assertThat(sleeper.status().isDone())
          .as("the sleeper runs on after the interrupts")
          .isFalse();
    }

    @Test
    @DisplayName(
        "runContainer, createVolume, status, find, cleanup and close interrupted at random"
            + " moments: done or OrchestraInterruptedException, flag set, nothing half-made")
    void interruptedAtRandomMoments() {
      String namespace = newNamespace();
      Driver driver = open(namespace);
      boolean find = driver.capabilities().contains(Capability.REATTACH);
      String input = "0123456789abcdef\n".repeat(64 * 1024);
      SoftAssertions softly = new SoftAssertions();
      long[] delaysMicros = {0, 1_000, 20_000, 80_000};
      for (int r = 0; r < delaysMicros.length; r++) {
        int round = r;
        Duration delay = Duration.ofNanos(delaysMicros[round] * 1000);
        String id = "task-" + round;
        Task t =
            task(id, "sh", "-c", "cat; echo done").stdin(input).mount("vol-" + round, "v").build();
        Interrupted run =
            interruptWhileBlocked("runContainer " + id, () -> driver.runContainer(t), delay);
        checkInterrupted(softly, "runContainer of " + id, run);
        Interrupted vol =
            interruptWhileBlocked(
                "createVolume", () -> driver.createVolume("other-" + round, 0), delay);
        checkInterrupted(softly, "createVolume", vol);
        Container c = driver.runContainer(t);
        checkInterrupted(softly, "status", interruptWhileBlocked("status", c::status, delay));
        if (find) {
          checkInterrupted(
              softly, "find", interruptWhileBlocked("find", () -> driver.find(id), delay));
        }
        ContainerStatus s = awaitDone(c);
        softly
            .assertThat(s.exitCode())
            .as("exit code of %s after the interrupted calls", id)
            .isZero();
        softly
            .assertThat(stdout(c))
            .as("stdout of %s after the interrupted calls", id)
            .isEqualTo(input + "done\n");
        Volume v = driver.createVolume("other-" + round, 0);
        softly.assertThat(v.name()).as("the interrupted volume's name").isEqualTo("other-" + round);
        Container sleeper = driver.runContainer(task("sleeper-" + round, "sleep", "300").build());
        checkInterrupted(
            softly,
            "cleanup of a running task",
            interruptWhileBlocked("cleanup", () -> call(sleeper::cleanup), delay));
        within("cleanup after the interrupted cleanup", () -> call(sleeper::cleanup));
        Throwable status = catchThrowable(sleeper::status);
        softly
            .assertThat(
                status == null
                    ? sleeper.status().isDone()
                    : status instanceof ContainerNotFoundException)
            .as(
                "the sleeper is done or not found after cleanup (status threw %s)",
                describe(status))
            .isTrue();
      }
      softly.assertAll();
    }

    @Test
    @DisplayName(
        "close() interrupted at random moments: done or OrchestraInterruptedException, flag set;"
            + " close() again leaves nothing")
    void closeInterrupted() {
      SoftAssertions softly = new SoftAssertions();
      for (int round = 0; round < 2; round++) {
        String ns = newNamespace();
        Driver d = open(ns);
        for (int i = 0; i < 2; i++) {
          d.runContainer(task("sleeper-" + i, "sleep", "300").mount("vol", "v").build());
        }
        Interrupted close =
            interruptWhileBlocked("close", () -> call(d::close), Duration.ofMillis(round * 20L));
        checkInterrupted(softly, "close", close);
        within("close after the interrupted close", () -> call(d::close));
        assertNothingLeft(ns);
      }
      softly.assertAll();
    }

    @Test
    @DisplayName(
        "createSandbox and exec interrupted at random moments: done or"
            + " OrchestraInterruptedException, flag set, the sandbox then works")
    void sandboxInterrupted() {
      Driver driver = open(newNamespace());
      Assumptions.assumeTrue(
          driver.capabilities().contains(Capability.SANDBOX),
          () -> "driver '" + driver.name() + "' does not declare capability SANDBOX");
      SoftAssertions softly = new SoftAssertions();
      long[] delaysMicros = {0, 1_000, 20_000};
      for (int round = 0; round < delaysMicros.length; round++) {
        Duration delay = Duration.ofNanos(delaysMicros[round] * 1000);
        Task box = task("box-" + round, "sleep", "300").build();
        checkInterrupted(
            softly,
            "createSandbox",
            interruptWhileBlocked("createSandbox", () -> driver.createSandbox(box), delay));
        Sandbox sandbox = driver.createSandbox(box);
        Task step =
            Task.builder().id("step").command("sh", "-c", "cat; echo done").stdin("in\n").build();
        checkInterrupted(
            softly, "exec", interruptWhileBlocked("exec", () -> sandbox.exec(step), delay));
        Container c = sandbox.exec(step);
        softly.assertThat(awaitDone(c).exitCode()).as("exit code of the step").isZero();
        softly.assertThat(stdout(c)).as("stdout of the step").isEqualTo("in\ndone\n");
        sandbox.close();
      }
      softly.assertAll();
    }

    private void checkInterrupted(SoftAssertions softly, String what, Interrupted r) {
      if (r.thrown() != null) {
        softly
            .assertThat(r.thrown())
            .as("what the interrupted %s threw", what)
            .isInstanceOf(OrchestraInterruptedException.class);
      }
      if (r.thrown() != null || r.interruptedDuringCall()) {
        softly
            .assertThat(r.flagAtEnd())
            .as("interrupt flag after the interrupted %s", what)
            .isTrue();
      }
    }
  }

  /** Big output and both streams at full speed: streamed, byte-exact. */
  @Nested
  @DisplayName("big output")
  @TestInstance(TestInstance.Lifecycle.PER_METHOD)
  public class BigOutput {

    /** For JUnit. */
    public BigOutput() {}

    @Test
    @DisplayName("a task's huge stdout comes through logs() byte for byte with a small heap")
    void hugeLogsStreamed() {
      long maxHeapMib = Runtime.getRuntime().maxMemory() / (1024 * 1024);
      Assumptions.assumeTrue(
          maxHeapMib <= SMALL_HEAP_MIB,
          () ->
              "the heap may grow to "
                  + maxHeapMib
                  + " MiB: run with -Xmx"
                  + SMALL_HEAP_MIB
                  + "m or less to prove the output is streamed");
      long size = bigOutputBytes();
      String line =
          "orchestra big output 0123456789 abcdefghijklmnopqrstuvwxyz ".repeat(270) + "\n";
      Driver driver = open(newNamespace());
      Container c =
          driver.runContainer(
              task("big", "sh", "-c", "yes \"$LINE\" | head -c " + size)
                  .env("LINE", line.substring(0, line.length() - 1))
                  .build());
      ContainerStatus s =
          await("the task writing " + size + " bytes to end")
              .atMost(testTimeout())
              .pollInterval(Duration.ofMillis(500))
              .until(c::status, ContainerStatus::isDone);
      assertThat(s.exitCode()).as("exit code").isZero();
      PatternStream out = new PatternStream(line.getBytes(StandardCharsets.UTF_8));
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      c.logs(out, err);
      assertThat(out.mismatch())
          .as("first byte of stdout that differs from the pattern")
          .isEqualTo(-1);
      assertThat(out.count()).as("bytes of stdout").isEqualTo(size);
      assertThat(err.size()).as("bytes of stderr").isZero();
    }

    @Test
    @DisplayName(
        "stdout and stderr written interleaved at full speed each arrive byte for byte, in order")
    void interleavedStreamsExact() {
      Driver driver = open(newNamespace());
      int lines = 5_000;
      Container alternating =
          driver.runContainer(
              task(
                      "alternating",
                      "sh",
                      "-c",
                      "i=0; while [ $i -lt "
                          + lines
                          + " ]; do echo \"out $i\"; echo \"err $i\" >&2;"
                          + " i=$((i+1)); done")
                  .build());
      long each = 8L * 1024 * 1024;
      String outLine = "stdout-stream-ABCDEFGHIJ";
      String errLine = "stderr-stream-0123456789-klmnop";
      Container racing =
          driver.runContainer(
              task(
                      "racing",
                      "sh",
                      "-c",
                      "yes "
                          + outLine
                          + " | head -c "
                          + each
                          + " & yes "
                          + errLine
                          + " | head -c "
                          + each
                          + " >&2 & wait")
                  .build());
      assertThat(awaitDone(alternating).exitCode())
          .as("exit code of the alternating task")
          .isZero();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      alternating.logs(out, err);
      StringBuilder expectedOut = new StringBuilder();
      StringBuilder expectedErr = new StringBuilder();
      for (int i = 0; i < lines; i++) {
        expectedOut.append("out ").append(i).append('\n');
        expectedErr.append("err ").append(i).append('\n');
      }
      assertThat(out.toString(StandardCharsets.UTF_8))
          .as("stdout of the alternating task")
          .isEqualTo(expectedOut.toString());
      assertThat(err.toString(StandardCharsets.UTF_8))
          .as("stderr of the alternating task")
          .isEqualTo(expectedErr.toString());

      assertThat(awaitDone(racing).exitCode()).as("exit code of the racing task").isZero();
      PatternStream o = new PatternStream((outLine + "\n").getBytes(StandardCharsets.UTF_8));
      PatternStream e = new PatternStream((errLine + "\n").getBytes(StandardCharsets.UTF_8));
      racing.logs(o, e);
      assertThat(o.mismatch()).as("first byte of stdout not of the stdout pattern").isEqualTo(-1);
      assertThat(e.mismatch()).as("first byte of stderr not of the stderr pattern").isEqualTo(-1);
      assertThat(o.count()).as("bytes of stdout").isEqualTo(each);
      assertThat(e.count()).as("bytes of stderr").isEqualTo(each);
    }
  }

  /**
   * A platform that stops answering: every call ends within {@link #unresponsivePlatformBound()},
   * and once the platform answers again nothing is left.
   */
  @Nested
  @DisplayName("unresponsive platform")
  @TestInstance(TestInstance.Lifecycle.PER_METHOD)
  public class UnresponsivePlatform {

    private final List<Driver> proxied = new ArrayList<>();

    /** For JUnit. */
    public UnresponsivePlatform() {}

    @Test
    @DisplayName(
        "with the platform accepting connections and never answering, runContainer, status, logs,"
            + " await, cleanup, createVolume and close each end within the bound (with an"
            + " OrchestraException where the platform must act); once it answers again, a driver's"
            + " close() leaves nothing")
    void unansweredRequests() throws IOException {
      try (FaultProxy proxy = proxyToPlatform()) {
        try {
          unansweredRequests(proxy);
        } finally {
          passAndCloseProxied(proxy);
        }
      }
    }

    private void unansweredRequests(FaultProxy proxy) {
      String namespace = newNamespace();
      Driver driver = openThrough(namespace, proxy);
      Container sleeper = driver.runContainer(task("sleeper", "sleep", "300").build());
      Container done = driver.runContainer(task("done", "echo", "hi").build());
      assertThat(awaitDone(done).exitCode()).as("exit code of a task before the stall").isZero();
      driver.createVolume("kept", 0);
      proxy.mode(FaultProxy.Mode.UNANSWERED);

      Duration bound = unresponsivePlatformBound();
      Duration awaited = Duration.ofSeconds(1);
      SoftAssertions softly = new SoftAssertions();
      // The platform must act on these: they cannot succeed while it does not answer.
      Map<String, Callable<?>> acting = new LinkedHashMap<>();
      acting.put(
          "runContainer of a new task",
          () -> driver.runContainer(task("new", "echo", "never").build()));
      acting.put("createVolume of a new volume", () -> driver.createVolume("new-volume", 0));
      acting.put("cleanup() of a running task", () -> call(sleeper::cleanup));
      // These may answer from what the driver knows.
      Map<String, Callable<?>> reading = new LinkedHashMap<>();
      reading.put("status() of a running task", sleeper::status);
      reading.put(
          "logs() of a finished task",
          () -> call(() -> done.logs(new ByteArrayOutputStream(), new ByteArrayOutputStream())));
      reading.forEach((name, c) -> checkStalled(softly, name, bound, c, false));
      checkStalled(
          softly,
          "await(" + awaited + ")",
          bound.plus(awaited),
          () -> sleeper.await(awaited),
          false);
      acting.forEach((name, c) -> checkStalled(softly, name, bound, c, true));
      checkStalled(softly, "close()", bound, () -> call(driver::close), true);

      proxy.mode(FaultProxy.Mode.PASS);
      within(
          "close() of a new driver of the namespace once the platform answers again",
          () -> call(open(namespace)::close));
      softly.assertAll();
    }

    @Test
    @DisplayName(
        "a follow() whose stream freezes mid-way (nothing forwarded either way, connections kept"
            + " open) ends within the bound, returning or with an OrchestraException; once the"
            + " platform answers again, a driver's close() leaves nothing")
    void frozenFollow() throws Exception {
      try (FaultProxy proxy = proxyToPlatform()) {
        try {
          frozenFollow(proxy);
        } finally {
          passAndCloseProxied(proxy);
        }
      }
    }

    private void frozenFollow(FaultProxy proxy) throws Exception {
      String namespace = newNamespace();
      Driver driver = openThrough(namespace, proxy);
      Assumptions.assumeTrue(
          driver.capabilities().contains(Capability.FOLLOW),
          () -> "driver '" + driver.name() + "' does not declare capability FOLLOW");
      Container ticker =
          driver.runContainer(
              task("ticker", "sh", "-c", "while :; do echo tick; sleep 0.2; done").build());
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      Running<Void> followed =
          inThread("follow()", () -> call(() -> ticker.follow(out, new ByteArrayOutputStream())));
      awaitAtMost("follow() to deliver the task's first line").until(() -> out.size() > 0);
      proxy.mode(FaultProxy.Mode.FROZEN);

      Duration bound = unresponsivePlatformBound();
      Throwable thrown = null;
      try {
        followed.outcome().get(bound.toMillis(), TimeUnit.MILLISECONDS);
      } catch (ExecutionException e) {
        thrown = e.getCause();
      } catch (TimeoutException e) {
        throw followed.stuck("follow() still blocks " + bound + " after its stream froze mid-way");
      }
      if (thrown != null) {
        assertThat(isClear(thrown))
            .as("follow() of a frozen stream threw %s", describe(thrown))
            .isTrue();
      }
      proxy.mode(FaultProxy.Mode.PASS);
      within("close() once the platform answers again", () -> call(driver::close));
    }

    /**
     * Lets the platform answer again and closes the drivers opened through the proxy while it still
     * runs (the tear-down does not close them again: the proxy is gone by then); the test has
     * closed a driver of each namespace opened without the proxy, and the tear-down checks what is
     * left.
     */
    private void passAndCloseProxied(FaultProxy proxy) {
      proxy.mode(FaultProxy.Mode.PASS);
      for (Driver d : proxied) {
        opened.remove(d);
        try {
          within("close() of a driver opened through the proxy", () -> call(d::close));
        } catch (RuntimeException e) {
          LOG.warn("closing a driver opened through the proxy failed: {}", describe(e));
        }
      }
      proxied.clear();
    }

    /**
     * Runs a call against the stalled platform: it must end within the bound, and may throw only an
     * {@link OrchestraException}; one the platform must act on must throw it.
     */
    private void checkStalled(
        SoftAssertions softly, String name, Duration bound, Callable<?> call, boolean mustFail) {
      long start = System.nanoTime();
      Throwable thrown = catchThrowable(() -> within(name + " on a stalled platform", bound, call));
      Duration took = Duration.ofNanos(System.nanoTime() - start);
      LOG.info("{} on a stalled platform ended after {}: {}", name, took, describe(thrown));
      if (thrown instanceof AssertionError stuck) {
        softly.fail(stuck.getMessage(), stuck);
        return;
      }
      if (mustFail || thrown != null) {
        softly
            .assertThat(isClear(thrown))
            .as(
                "%s on a platform that does not answer threw %s, not an OrchestraException",
                name, describe(thrown))
            .isTrue();
      }
    }

    private FaultProxy proxyToPlatform() throws IOException {
      Optional<InetSocketAddress> endpoint = platformEndpoint();
      Assumptions.assumeTrue(
          endpoint.isPresent(),
          "the driver cannot be put behind a proxy: its test does not override"
              + " platformEndpoint() and newDriverThrough()");
      return FaultProxy.start(endpoint.get());
    }

    private Driver openThrough(String namespace, FaultProxy proxy) {
      Optional<Driver> driver = newDriverThrough(namespace, proxy.address());
      Assumptions.assumeTrue(
          driver.isPresent(),
          "the driver cannot be put behind a proxy: its test does not override"
              + " newDriverThrough()");
      opened.add(driver.get());
      proxied.add(driver.get());
      return driver.get();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers
  // ---------------------------------------------------------------------------------------------

  private String newNamespace() {
    String namespace = "rel-" + randomSuffix();
    namespaces.add(namespace);
    return namespace;
  }

  private Driver open(String namespace) {
    Driver d = newDriver(namespace);
    opened.add(d);
    return d;
  }

  private static String randomSuffix() {
    String chars = "abcdefghijklmnopqrstuvwxyz0123456789";
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < 10; i++) {
      s.append(chars.charAt(ThreadLocalRandom.current().nextInt(chars.length())));
    }
    return s.toString();
  }

  private Task.Builder task(String id, String... command) {
    return Task.builder().id(id).image(image()).command(command);
  }

  private ConditionFactory awaitAtMost(String what) {
    return await(what).atMost(awaitTimeout()).pollDelay(Duration.ZERO).pollInterval(POLL);
  }

  private ContainerStatus awaitDone(Container c) {
    return awaitAtMost("container " + c.id() + " to finish")
        .until(c::status, ContainerStatus::isDone);
  }

  private static String stdout(Container c) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    c.logs(out, new ByteArrayOutputStream());
    return out.toString(StandardCharsets.UTF_8);
  }

  private void assertNothingLeft(String namespace) {
    awaitAtMost("nothing of namespace " + namespace + " to be left")
        .untilAsserted(
            () ->
                assertThat(leftovers(namespace))
                    .as("what is left of namespace %s after close()", namespace)
                    .isEmpty());
  }

  private void removeContainer(String namespace, String taskId, Container c) {
    try {
      removeContainerBehindDriver(namespace, taskId, c);
    } catch (UnsupportedOperationException e) {
      Assumptions.abort("cannot remove a container behind the driver's back: " + e.getMessage());
    }
  }

  private void removeVolume(String namespace, String volumeName) {
    try {
      removeVolumeBehindDriver(namespace, volumeName);
    } catch (UnsupportedOperationException e) {
      Assumptions.abort("cannot remove a volume behind the driver's back: " + e.getMessage());
    }
  }

  /** An exception a driver may answer with when the platform changed behind its back. */
  private static boolean isClear(Throwable t) {
    return t instanceof OrchestraException && !(t instanceof OrchestraInterruptedException);
  }

  private static void assertClear(String what, Throwable thrown) {
    if (thrown != null) {
      assertThat(isClear(thrown)).as("%s threw %s", what, describe(thrown)).isTrue();
    }
  }

  private static String describe(Throwable t) {
    if (t == null) {
      return "nothing";
    }
    return t.getClass().getName() + ": " + t.getMessage();
  }

  private static Void call(Runnable r) {
    r.run();
    return null;
  }

  /**
   * Runs a call on a thread of its own and fails if it does not return within the await timeout.
   */
  private <T> T within(String what, Callable<T> call) {
    return within(what, awaitTimeout(), call);
  }

  /**
   * Runs a call on a thread of its own and fails with an {@link AssertionError} (whose stack trace
   * is where the call blocks) if it does not return within {@code limit}.
   */
  private <T> T within(String what, Duration limit, Callable<T> call) {
    Running<T> running = inThread(what, call);
    try {
      return running.outcome().get(limit.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      while ((cause instanceof ExecutionException || cause instanceof CompletionException)
          && cause.getCause() != null) {
        cause = cause.getCause();
      }
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      if (cause instanceof Error r) {
        throw r;
      }
      throw new IllegalStateException(what + " threw " + cause, cause);
    } catch (TimeoutException e) {
      throw running.stuck(what + " did not return within " + limit);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting for " + what, e);
    }
  }

  /** A call running on a thread of its own, which the tear-down interrupts. */
  private record Running<T>(Thread thread, CompletableFuture<T> outcome) {

    /** A failure whose stack trace is where the call is now. */
    AssertionError stuck(String message) {
      AssertionError stuck = new AssertionError(message);
      stuck.setStackTrace(thread.getStackTrace());
      return stuck;
    }
  }

  /** Starts a call on a thread of its own. */
  private <T> Running<T> inThread(String what, Callable<T> call) {
    CompletableFuture<T> outcome = new CompletableFuture<>();
    Thread thread =
        new Thread(
            () -> {
              try {
                outcome.complete(call.call());
              } catch (Throwable t) {
                outcome.completeExceptionally(t);
              }
            },
            "orchestra-reliability " + what);
    thread.setDaemon(true);
    threads.add(thread);
    thread.start();
    return new Running<>(thread, outcome);
  }

  /**
   * What a call did when its thread was interrupted while it ran.
   *
   * @param thrown what it threw, or null
   * @param flagAtEnd whether its thread's interrupt flag was set when it returned or threw
   * @param returnedBeforeInterrupt whether it ended before the interrupt was sent
   * @param interruptedDuringCall whether the interrupt was surely sent before it ended
   */
  private record Interrupted(
      Throwable thrown,
      boolean flagAtEnd,
      boolean returnedBeforeInterrupt,
      boolean interruptedDuringCall) {}

  /**
   * Starts the call on a thread of its own, interrupts that thread after {@code delay}, and waits
   * (at most the await timeout: promptly) for the call to end.
   */
  private Interrupted interruptWhileBlocked(String what, Callable<?> call, Duration delay) {
    // Set just before the interrupt (a call that ended earlier ended before it), and just after
    // (a call that ended later surely saw it).
    AtomicBoolean sending = new AtomicBoolean();
    AtomicBoolean sent = new AtomicBoolean();
    AtomicBoolean endedBeforeInterrupt = new AtomicBoolean();
    AtomicBoolean sentBeforeEnd = new AtomicBoolean();
    CompletableFuture<Throwable> ended = new CompletableFuture<>();
    AtomicBoolean flag = new AtomicBoolean();
    Thread thread =
        new Thread(
            () -> {
              Throwable thrown = null;
              try {
                call.call();
              } catch (Throwable t) {
                thrown = t;
              }
              flag.set(Thread.currentThread().isInterrupted());
              sentBeforeEnd.set(sent.get());
              endedBeforeInterrupt.set(!sending.get());
              ended.complete(thrown);
            },
            "orchestra-reliability interrupted " + what);
    thread.setDaemon(true);
    threads.add(thread);
    thread.start();
    LockSupport.parkNanos(delay.toNanos());
    sending.set(true);
    thread.interrupt();
    sent.set(true);
    Throwable thrown;
    try {
      thrown = ended.get(awaitTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      AssertionError stuck =
          new AssertionError(what + " did not answer an interrupt within " + awaitTimeout());
      stuck.setStackTrace(thread.getStackTrace());
      throw stuck;
    } catch (InterruptedException | ExecutionException e) {
      throw new AssertionError("waiting for " + what + " failed", e);
    }
    if (thrown instanceof ExecutionException e && e.getCause() != null) {
      thrown = e.getCause();
    }
    return new Interrupted(thrown, flag.get(), endedBeforeInterrupt.get(), sentBeforeEnd.get());
  }

  /** An output stream that blocks every write until its thread is interrupted. */
  private static final class BlockingStream extends OutputStream {
    private final CountDownLatch never = new CountDownLatch(1);

    /** Lets every write through: a driver may write from a thread of its own, never interrupted. */
    void release() {
      never.countDown();
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      try {
        never.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("write interrupted");
      }
    }
  }

  /** Checks, without keeping it, that what is written repeats a pattern from its first byte. */
  private static final class PatternStream extends OutputStream {
    private final byte[] pattern;
    private long count;
    private long mismatch = -1;

    PatternStream(byte[] pattern) {
      this.pattern = pattern;
    }

    @Override
    public void write(int b) {
      check((byte) b);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      for (int i = off; i < off + len; i++) {
        check(b[i]);
      }
    }

    private void check(byte b) {
      if (mismatch < 0 && b != pattern[(int) (count % pattern.length)]) {
        mismatch = count;
      }
      count++;
    }

    long count() {
      return count;
    }

    long mismatch() {
      return mismatch;
    }
  }
}
