package dev.orchestra.bench;

import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import dev.orchestra.Task;
import java.lang.ProcessBuilder.Redirect;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Many tasks in flight on one driver at once: the threads and the live heap they cost while every
 * task runs and its {@code onExit()} waits. A driver that spends a thread per waiting task shows it
 * here. Local processes are compared with the same number of plain {@code ProcessBuilder}
 * processes, because the JDK itself runs one "process reaper" thread per live child process that it
 * started (blocked in {@code waitpid}); the local driver's own launch on Linux does not.
 */
final class InFlightRow {

  private static final Duration PATIENCE = Duration.ofMinutes(30);

  /** The JDK's frame of a reaper thread that waits for its process. */
  private static final String REAPER_FRAME = "waitForProcessExit";

  /**
   * The most threads the JVM may gain while the tasks are in flight, whatever their number: a
   * driver's fixed helpers (an event stream, an executor, a timer), not a thread per task.
   */
  static final int SPARE_THREADS = 16;

  /** How the JDK names its reaper threads, busy or idle. */
  private static final String REAPER_NAME = "process reaper";

  private final Settings settings;

  InFlightRow(Settings settings) {
    this.settings = settings;
  }

  /**
   * A snapshot of the JVM: live threads other than the JDK's process reapers, reaper threads
   * waiting for a process, live heap after a GC, and the threads by name.
   */
  record Snapshot(int threads, int reapersWaiting, long liveHeap, Map<String, Integer> groups) {

    static Snapshot take() {
      System.gc();
      long heap = 0;
      for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
        if (pool.getType() == MemoryType.HEAP && pool.getCollectionUsage() != null) {
          heap += pool.getCollectionUsage().getUsed();
        }
      }
      int reapers = 0;
      int others = 0;
      Map<String, Integer> groups = new TreeMap<>();
      Map<Thread, StackTraceElement[]> all = Thread.getAllStackTraces();
      for (Map.Entry<Thread, StackTraceElement[]> t : all.entrySet()) {
        String name = t.getKey().getName();
        groups.merge(name.replaceAll("[0-9]+", "#"), 1, Integer::sum);
        if (!name.startsWith(REAPER_NAME)) {
          others++;
        }
        for (StackTraceElement frame : t.getValue()) {
          if (frame.getMethodName().startsWith(REAPER_FRAME)) {
            reapers++;
            break;
          }
        }
      }
      return new Snapshot(others, reapers, heap, groups);
    }

    /** The largest thread groups (names with digits as #), for the report. */
    String largestGroups() {
      List<Map.Entry<String, Integer>> sorted = new ArrayList<>(groups.entrySet());
      sorted.sort((a, b) -> b.getValue() - a.getValue());
      List<String> top = new ArrayList<>();
      for (Map.Entry<String, Integer> e : sorted.subList(0, Math.min(4, sorted.size()))) {
        top.add(e.getValue() + " \"" + e.getKey() + "\"");
      }
      return String.join(", ", top);
    }
  }

  /** One row per driver: {@code local} or {@code docker}. */
  Row measure(String driverName) throws Exception {
    int n = settings.inFlight();
    boolean local = "local".equals(driverName);
    ThreadPoolExecutor pool = (ThreadPoolExecutor) Executors.newFixedThreadPool(local ? 1 : 8);
    // The row's own threads exist before the first snapshot, so that they are not counted.
    pool.prestartAllCoreThreads();
    Snapshot before;
    Snapshot during;
    long t0;
    long started;
    List<Container> containers = new ArrayList<>();
    try (Driver driver = Orchestra.open(driverName, DockerRows.freshNamespace())) {
      Container warm = driver.runContainer(task(local, "warm", "true"));
      warm.await(PATIENCE);
      warm.cleanup();
      before = Snapshot.take();
      t0 = System.nanoTime();
      List<Future<Container>> starts = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        Task task = task(local, "flight-" + i, "sleep", "3600");
        starts.add(pool.submit(() -> driver.runContainer(task)));
      }
      List<CompletableFuture<ContainerStatus>> ends = new ArrayList<>();
      try {
        for (Future<Container> f : starts) {
          Container c = f.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
          containers.add(c);
          ends.add(c.onExit());
        }
        started = System.nanoTime();
        during = Snapshot.take();
        for (CompletableFuture<ContainerStatus> end : ends) {
          if (end.isDone()) {
            throw new IllegalStateException(
                "a task of the in-flight row ended early: " + end.join());
          }
        }
      } finally {
        List<Future<?>> removals = new ArrayList<>();
        for (Container c : containers) {
          removals.add(pool.submit(c::cleanup));
        }
        for (Future<?> r : removals) {
          r.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        }
      }
    } finally {
      pool.shutdownNow();
    }
    Snapshot plain = local ? plainProcesses(n) : null;
    long driverThreads = during.threads() - before.threads();
    boolean met = driverThreads <= SPARE_THREADS;
    double heapKb = (during.liveHeap() - before.liveHeap()) / 1024.0;
    String verdict =
        String.format(
            Locale.ROOT,
            "%s: %+d threads%s, live heap %+.1f MB",
            met ? "met" : "NOT met",
            driverThreads,
            local
                ? String.format(
                    Locale.ROOT, " (and %d JDK process reapers waiting)", during.reapersWaiting())
                : "",
            heapKb / 1024);
    String detail =
        String.format(
            Locale.ROOT,
            "%d tasks (`sleep 3600`) started on one driver %s, every onExit() pending; then, with"
                + " all of them running, the JVM's live threads and its live heap after a GC,"
                + " against the same before the first start. Threads other than the JDK's"
                + " \"process reaper\" threads: %d before, %d with all in flight (%+d); reaper"
                + " threads waiting for a child process: %d before, %d with all in flight (the"
                + " JDK starts one per live child process it started). Largest thread"
                + " groups in flight, digits as #: %s. Live heap: %.1f MB before, %.1f MB with"
                + " all in flight, %.1f KB a task. Starting them all took %.1f s. \"No thread per"
                + " task\" (met): at most %d more threads besides the JDK's reapers, whatever the"
                + " number of tasks (the row's own starting threads exist before it counts).%s",
            n,
            local ? "from one thread" : "from 8 threads",
            before.threads(),
            during.threads(),
            driverThreads,
            before.reapersWaiting(),
            during.reapersWaiting(),
            during.largestGroups(),
            before.liveHeap() / 1048576.0,
            during.liveHeap() / 1048576.0,
            heapKb / n,
            (started - t0) / 1e9,
            SPARE_THREADS,
            plain == null
                ? ""
                : String.format(
                    Locale.ROOT,
                    " For comparison, %d plain ProcessBuilder processes (output discarded, each"
                        + " onExit() pending) in the same JVM: %d reaper threads waiting.",
                    n,
                    plain.reapersWaiting()));
    return new Row(
        "in flight (" + driverName + ")",
        n + " tasks running, onExit() pending",
        "-",
        Samples.none(),
        Samples.none(),
        "-",
        "no thread per task",
        verdict,
        met,
        false,
        detail);
  }

  private Task task(boolean local, String id, String... command) {
    Task.Builder b = Task.builder().id(id).command(command);
    if (!local) {
      b.image(settings.image());
    }
    return b.build();
  }

  /** N plain processes, each onExit() pending: the JDK's own threads for them. */
  private static Snapshot plainProcesses(int n) throws Exception {
    List<Process> processes = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        Process p =
            new ProcessBuilder("sleep", "3600")
                .redirectOutput(Redirect.DISCARD)
                .redirectError(Redirect.DISCARD)
                .start();
        processes.add(p);
        p.onExit();
      }
      return Snapshot.take();
    } finally {
      processes.forEach(Process::destroyForcibly);
      for (Process p : processes) {
        p.waitFor(1, TimeUnit.MINUTES);
      }
    }
  }
}
