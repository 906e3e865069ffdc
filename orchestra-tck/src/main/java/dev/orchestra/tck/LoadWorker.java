package dev.orchestra.tck;

import dev.orchestra.Container;
import dev.orchestra.ContainerNotFoundException;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.Task;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread of the reliability kit's load test: its own tasks, its own random choices, all on one
 * driver. Every unexpected answer of the driver is added to the problems the test reports.
 */
final class LoadWorker {

  private static final Logger LOG = LoggerFactory.getLogger(ReliabilityTck.class);

  private final ReliabilityRules rules;

  private final Driver driver;
  private final int number;
  private final SplittableRandom random;
  private final List<String> problems;
  private final List<Expected> pending = new ArrayList<>();
  private final Map<Expected, Container> started = new LinkedHashMap<>();
  private final Map<Expected, Container> cleaned = new LinkedHashMap<>();

  /**
   * A worker of tasks {@code number}, {@code number + threads}, ... below {@code tasks}.
   *
   * @param rules the test, for its image and its waits
   */
  LoadWorker(
      ReliabilityRules rules,
      Driver driver,
      int number,
      int tasks,
      int threads,
      SplittableRandom random,
      List<String> problems) {
    this.rules = rules;
    this.driver = driver;
    this.number = number;
    this.random = random;
    this.problems = problems;
    for (int i = number; i < tasks; i += threads) {
      pending.add(expected(i));
    }
  }

  private Expected expected(int i) {
    String id = "load-" + i + (random.nextInt(4) == 0 ? " ü/" + i : "");
    int code = random.nextInt(256);
    String out = text("out", i);
    String err = random.nextBoolean() ? text("err", i) : "";
    boolean sleeps = random.nextInt(50) == 0;
    Task.Builder b = Task.builder().id(id).image(rules.image()).env("OUT", out).env("ERR", err);
    if (sleeps) {
      // A task still running when close() comes: close must end it.
      b.command(Rules.sh("printf '%s' \"$OUT\"; exec sleep 300"));
      return new Expected(b.build(), -1, out, "", true);
    }
    if (random.nextInt(4) == 0) {
      String input = text("in", i);
      b.stdin(input)
          .command(Rules.sh("cat; printf '%s' \"$OUT\"; printf '%s' \"$ERR\" >&2; exit " + code));
      return new Expected(b.build(), code, input + out, err, false);
    }
    String pause = random.nextInt(3) == 0 ? "sleep 0." + random.nextInt(1, 5) + "; " : "";
    b.command(Rules.sh(pause + "printf '%s' \"$OUT\"; printf '%s' \"$ERR\" >&2; exit " + code));
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
      problems.add(what + " (worker " + number + ") threw " + ReliabilityRules.describe(e));
    }
  }

  private void checkStatus(Expected e, Container c) {
    ContainerStatus s = c.status();
    if (s.isDone() && (e.sleeps() || s.exitCode() != e.exitCode())) {
      problems.add("task '" + e.task().id() + "' is done with " + s.exitCode() + ", expected " + e);
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
        rules
            .awaitAtMost("task '" + e.task().id() + "' to end")
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

  /** What one load thread expects of one task. */
  private record Expected(Task task, int exitCode, String stdout, String stderr, boolean sleeps) {}
}
