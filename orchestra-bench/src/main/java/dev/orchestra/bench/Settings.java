package dev.orchestra.bench;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * What a benchmark run measures and how often, from system properties (defaults in brackets):
 *
 * <ul>
 *   <li>{@code bench.runs} [7]: measured rounds of the rows whose round takes seconds (docker
 *       parallel, docker over ssh) and of the status row; each row reports its median
 *   <li>{@code bench.quickRuns} [31]: measured rounds of the rows whose round takes a second or
 *       less a contender (docker latency, docker logs, Podman, local spawn): their spread is mostly
 *       the machine's, and more rounds steady a median that lies close to a target
 *   <li>{@code bench.warmups} [2]: rounds run first and discarded
 *   <li>{@code bench.parallel} [20]: tasks at once in the parallel row
 *   <li>{@code bench.logBytes} [100000000]: bytes of stdout read back in the logs row
 *   <li>{@code bench.localTasks} [200]: tasks in the local spawn row
 *   <li>{@code bench.statusCalls} [10000]: {@code status()} calls in the status row
 *   <li>{@code bench.memoryBytes} [1000000000]: bytes of logs the memory row follows and reads
 *   <li>{@code bench.memoryHeap} [64m]: the {@code -Xmx} of the memory row's JVM
 *   <li>{@code bench.inFlight} [1000]: tasks at once in the in-flight rows
 *   <li>{@code bench.image} [busybox]: the image of every Docker task
 *   <li>{@code bench.rows} [all]: a comma-separated subset of the keys of {@link
 *       Benchmarks#SOURCES} and {@code breakdown} ({@code docker-ssh} needs an engine over SSH, see
 *       {@link SshRow}; {@code podman} Podman's service, see {@link PodmanRow})
 *   <li>{@code bench.output} [docs/benchmarks.md]: where the report goes
 * </ul>
 */
record Settings(
    int runs,
    int quickRuns,
    int warmups,
    int parallel,
    long logBytes,
    int localTasks,
    int statusCalls,
    long memoryBytes,
    String memoryHeap,
    int inFlight,
    String image,
    Set<String> rows,
    Path output) {

  static final Set<String> ALL_ROWS = allRows();

  private static Set<String> allRows() {
    Set<String> rows = new TreeSet<>(Benchmarks.SOURCES.keySet());
    rows.add(Benchmarks.BREAKDOWN);
    return Collections.unmodifiableSet(rows);
  }

  Settings {
    if (runs < 1
        || quickRuns < 1
        || warmups < 0
        || parallel < 1
        || localTasks < 1
        || statusCalls < 1
        || inFlight < 1) {
      throw new IllegalArgumentException(
          "runs, quickRuns, parallel, localTasks, statusCalls and inFlight must be positive,"
              + " warmups not"
              + " negative");
    }
    if (logBytes < 1 || memoryBytes < 1) {
      throw new IllegalArgumentException("logBytes and memoryBytes must be positive");
    }
    for (String row : rows) {
      if (!ALL_ROWS.contains(row)) {
        throw new IllegalArgumentException(
            "unknown row '" + row + "' in bench.rows; known: " + ALL_ROWS);
      }
    }
  }

  private static final String RUNS = "bench.runs";
  private static final String QUICK_RUNS = "bench.quickRuns";
  private static final String WARMUPS = "bench.warmups";
  private static final String PARALLEL = "bench.parallel";
  private static final String LOG_BYTES = "bench.logBytes";
  private static final String LOCAL_TASKS = "bench.localTasks";
  private static final String STATUS_CALLS = "bench.statusCalls";
  private static final String MEMORY_BYTES = "bench.memoryBytes";
  private static final String MEMORY_HEAP = "bench.memoryHeap";
  private static final String IN_FLIGHT = "bench.inFlight";
  private static final String IMAGE = "bench.image";
  private static final String ROWS = "bench.rows";
  private static final String OUTPUT = "bench.output";

  /** The settings the system properties give, with the defaults of a full run. */
  static Settings fromSystemProperties() {
    String rows = System.getProperty(ROWS, "").strip();
    return new Settings(
        Integer.getInteger(RUNS, 7),
        Integer.getInteger(QUICK_RUNS, 31),
        Integer.getInteger(WARMUPS, 2),
        Integer.getInteger(PARALLEL, 20),
        Long.getLong(LOG_BYTES, 100_000_000L),
        Integer.getInteger(LOCAL_TASKS, 200),
        Integer.getInteger(STATUS_CALLS, 10_000),
        Long.getLong(MEMORY_BYTES, 1_000_000_000L),
        System.getProperty(MEMORY_HEAP, "64m"),
        Integer.getInteger(IN_FLIGHT, 1000),
        System.getProperty(IMAGE, "busybox"),
        rows.isEmpty()
            ? ALL_ROWS
            : Arrays.stream(rows.split(",")).map(String::strip).collect(Collectors.toSet()),
        Path.of(System.getProperty(OUTPUT, "docs/benchmarks.md")));
  }

  /**
   * What the run measured with, as the system properties that set it (all but where the report
   * goes), in the order of the class comment; the rows sorted.
   */
  Map<String, String> asProperties() {
    Map<String, String> p = new LinkedHashMap<>();
    p.put(RUNS, String.valueOf(runs));
    p.put(QUICK_RUNS, String.valueOf(quickRuns));
    p.put(WARMUPS, String.valueOf(warmups));
    p.put(PARALLEL, String.valueOf(parallel));
    p.put(LOG_BYTES, String.valueOf(logBytes));
    p.put(LOCAL_TASKS, String.valueOf(localTasks));
    p.put(STATUS_CALLS, String.valueOf(statusCalls));
    p.put(MEMORY_BYTES, String.valueOf(memoryBytes));
    p.put(MEMORY_HEAP, memoryHeap);
    p.put(IN_FLIGHT, String.valueOf(inFlight));
    p.put(IMAGE, image);
    p.put(ROWS, String.join(",", new TreeSet<>(rows)));
    return p;
  }

  boolean wants(String row) {
    return rows.contains(row);
  }
}
