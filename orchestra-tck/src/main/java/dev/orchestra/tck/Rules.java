package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.Task;
import java.io.ByteArrayOutputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.TestInstance;

/**
 * The base of every rule group of both kits: what one test holds, and the helpers both kits use.
 *
 * <p>JUnit creates a group's entry class (a kit's {@code @Nested} class, which extends its group's
 * rules) for each test, with the kit instance of that test: the drivers a test opened and the calls
 * it runs on threads of their own belong to that instance. After the test, even when it failed, the
 * calls still running are interrupted, every driver the test opened is closed (the last opened
 * first), and then {@link #afterClose()} runs.
 *
 * <p>The entry classes inherit {@link TestInstance.Lifecycle#PER_METHOD} from here, whatever the
 * default lifecycle of the run: a group's state is its test's.
 *
 * @param <K> the kit whose hooks the rules call
 */
@TestInstance(TestInstance.Lifecycle.PER_METHOD)
abstract class Rules<K extends KitBase> {

  static final Charset UTF8 = StandardCharsets.UTF_8;
  static final int MIB = 1024 * 1024;
  private static final Duration POLL = Duration.ofMillis(50);
  private static final String SUFFIX_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789";

  /** The kit instance of this test: its hooks are the driver author's. */
  final K kit;

  private final String namespacePrefix;
  private final List<Driver> opened = new CopyOnWriteArrayList<>();
  private final List<Background<?>> background = new CopyOnWriteArrayList<>();

  Rules(K kit, String namespacePrefix) {
    this.kit = kit;
    this.namespacePrefix = namespacePrefix;
  }

  @AfterEach
  final void closeDriversOfTest() {
    background.forEach(Background::interrupt);
    background.clear();
    Drivers.closeAll(opened);
    afterClose();
  }

  /** What the kit checks once every driver of the test is closed; nothing by default. */
  void afterClose() {}

  // ---------------------------------------------------------------------------------------------
  // The kit's hooks
  // ---------------------------------------------------------------------------------------------

  String image() {
    return kit.image();
  }

  Duration awaitTimeout() {
    return kit.awaitTimeout();
  }

  Duration testTimeout() {
    return kit.testTimeout();
  }

  /** A namespace no other test uses: the kit's prefix and random lower-case letters and digits. */
  String newNamespace() {
    return namespacePrefix + randomSuffix();
  }

  /**
   * Ten random lower-case letters and digits: every character a namespace may hold after its
   * prefix, so that a driver meets them all.
   */
  static String randomSuffix() {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < 10; i++) {
      s.append(
          SUFFIX_CHARACTERS.charAt(
              ThreadLocalRandom.current().nextInt(SUFFIX_CHARACTERS.length())));
    }
    return s.toString();
  }

  /** Opens the driver under test for the namespace; the test closes it at its end. */
  Driver open(String namespace) {
    Driver d = kit.newDriver(namespace);
    assertThat(d).as("newDriver(\"%s\")", namespace).isNotNull();
    return closeAfterTest(d);
  }

  /** Has the test close the driver at its end (the last opened first). */
  Driver closeAfterTest(Driver d) {
    opened.add(d);
    return d;
  }

  /** Takes the driver off the list of those the test closes at its end. */
  void dontCloseAfterTest(Driver d) {
    opened.remove(d);
  }

  // ---------------------------------------------------------------------------------------------
  // Tasks
  // ---------------------------------------------------------------------------------------------

  Task.Builder task(String id, String... command) {
    return Task.builder().id(id).image(image()).command(command);
  }

  static String[] sh(String script) {
    return new String[] {"sh", "-c", script};
  }

  ConditionFactory awaitAtMost(String what) {
    return await(what).atMost(awaitTimeout()).pollDelay(Duration.ZERO).pollInterval(POLL);
  }

  ContainerStatus awaitDone(Container c) {
    return awaitAtMost("container " + c.id() + " to finish")
        .until(c::status, ContainerStatus::isDone);
  }

  static Output logsOf(Container c) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    c.logs(out, err);
    return new Output(out.toByteArray(), err.toByteArray());
  }

  /** Runs the task and waits for its end; returns its exit code and both logs. */
  Result runToEnd(Driver d, Task t) {
    Container c = d.runContainer(t);
    ContainerStatus s = awaitDone(c);
    Output o = logsOf(c);
    return new Result(c, s.exitCode(), o.stdout(), o.stderr());
  }

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

  // ---------------------------------------------------------------------------------------------
  // Calls on threads of their own
  // ---------------------------------------------------------------------------------------------

  /**
   * Starts a call on a thread of its own, which the test interrupts at its end if still running.
   */
  <T> Background<T> inBackground(String what, Callable<T> call) {
    Background<T> b = new Background<>(what, call);
    background.add(b);
    b.start();
    return b;
  }

  /** Runs a call on a thread of its own and fails if it does not return within the limit. */
  <T> T within(Duration limit, String what, Callable<T> call) {
    return inBackground(what, call).result(limit, what);
  }

  /**
   * Runs a call on a thread of its own and fails if it does not return within the await timeout.
   */
  <T> T within(String what, Callable<T> call) {
    return within(awaitTimeout(), what, call);
  }

  /** A call that returns nothing, as a {@link Callable}. */
  static Void call(Runnable r) {
    r.run();
    return null;
  }

  @FunctionalInterface
  interface Call<T> {
    T call(int index);
  }

  /** Makes {@code threads} calls at once (released together by a barrier); returns the results. */
  <T> List<T> concurrently(int threads, Call<T> call) throws Exception {
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
}
