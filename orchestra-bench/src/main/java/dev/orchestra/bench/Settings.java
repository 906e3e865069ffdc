package dev.orchestra.bench;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What a benchmark run measures and how often, from system properties (defaults in brackets):
 *
 * <ul>
 *   <li>{@code bench.runs} [7]: measured rounds per row; each reports the median
 *   <li>{@code bench.warmups} [2]: rounds run first and discarded
 *   <li>{@code bench.parallel} [20]: tasks at once in the parallel row
 *   <li>{@code bench.logBytes} [100000000]: bytes of stdout read back in the logs row
 *   <li>{@code bench.localTasks} [200]: tasks in the local spawn row
 *   <li>{@code bench.statusCalls} [10000]: {@code status()} calls in the status row
 *   <li>{@code bench.memoryBytes} [1000000000]: bytes of logs the memory row follows and reads
 *   <li>{@code bench.memoryHeap} [64m]: the {@code -Xmx} of the memory row's JVM
 *   <li>{@code bench.image} [busybox]: the image of every Docker task
 *   <li>{@code bench.rows} [all]: a comma-separated subset of {@code docker-latency,
 *       docker-parallel, docker-logs, local-spawn, status, memory, breakdown}
 *   <li>{@code bench.output} [docs/benchmarks.md]: where the report goes
 * </ul>
 */
record Settings(
    int runs,
    int warmups,
    int parallel,
    long logBytes,
    int localTasks,
    int statusCalls,
    long memoryBytes,
    String memoryHeap,
    String image,
    Set<String> rows,
    Path output) {

  static final Set<String> ALL_ROWS =
      Set.of(
          "docker-latency",
          "docker-parallel",
          "docker-logs",
          "local-spawn",
          "status",
          "memory",
          "breakdown");

  Settings {
    if (runs < 1 || warmups < 0 || parallel < 1 || localTasks < 1 || statusCalls < 1) {
      throw new IllegalArgumentException(
          "runs, parallel, localTasks and statusCalls must be positive, warmups not negative");
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

  /** The settings the system properties give, with the defaults of a full run. */
  static Settings fromSystemProperties() {
    String rows = System.getProperty("bench.rows", "").strip();
    return new Settings(
        Integer.getInteger("bench.runs", 7),
        Integer.getInteger("bench.warmups", 2),
        Integer.getInteger("bench.parallel", 20),
        Long.getLong("bench.logBytes", 100_000_000L),
        Integer.getInteger("bench.localTasks", 200),
        Integer.getInteger("bench.statusCalls", 10_000),
        Long.getLong("bench.memoryBytes", 1_000_000_000L),
        System.getProperty("bench.memoryHeap", "64m"),
        System.getProperty("bench.image", "busybox"),
        rows.isEmpty()
            ? ALL_ROWS
            : Arrays.stream(rows.split(",")).map(String::strip).collect(Collectors.toSet()),
        Path.of(System.getProperty("bench.output", "docs/benchmarks.md")));
  }

  boolean wants(String row) {
    return rows.contains(row);
  }
}
