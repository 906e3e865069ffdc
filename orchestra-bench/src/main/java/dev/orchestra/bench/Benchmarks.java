package dev.orchestra.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The benchmark runner: measures every row (see {@link Settings} for what and how often), prints
 * one table on stdout and writes the report (by default {@code docs/benchmarks.md}). Every word of
 * the report is written here, from this run's measurements.
 *
 * <p>Each timed row runs the library and its baseline alternately, the first of each round
 * alternating too (see {@link Rotation}), discards the warm-up rounds, and compares the medians:
 * ratio = library / baseline. Started by {@code mvn -q -pl orchestra-bench -am -DskipTests -Pbench
 * verify}, which {@code scripts/bench.sh} runs with a private {@code sshd} for the SSH row.
 *
 * <p>To add a row: write a method that measures it and returns its {@link Row}s (with {@link
 * Rotation#run} and {@link Row#timed} for a timed one), and add one entry to {@link #SOURCES}; its
 * key is then a value of {@code bench.rows}.
 */
public final class Benchmarks {

  private Benchmarks() {}

  /** Measures one group of rows. */
  @FunctionalInterface
  interface RowSource {
    List<Row> measure(Settings settings) throws Exception;
  }

  /** The key of the section that shows where one Docker task's time goes; not a row. */
  static final String BREAKDOWN = "breakdown";

  /** Every group of rows, by its key in {@code bench.rows}, in the report's order. */
  static final Map<String, RowSource> SOURCES = sources();

  private static Map<String, RowSource> sources() {
    Map<String, RowSource> s = new LinkedHashMap<>();
    s.put("docker-latency", settings -> new DockerRows(settings).latency());
    s.put("docker-parallel", settings -> new DockerRows(settings).parallel());
    s.put("docker-logs", settings -> new DockerRows(settings).logs());
    s.put("docker-ssh", settings -> List.of(new SshRow(settings).latency()));
    s.put("podman", settings -> new PodmanRow(settings).latency());
    s.put("local-spawn", settings -> new LocalRows(settings).spawn());
    s.put("status", settings -> List.of(new DockerRows(settings).status()));
    s.put(
        "memory",
        settings ->
            List.of(
                new MemoryRow(settings).measure("local"),
                new MemoryRow(settings).measure("docker")));
    s.put(
        "in-flight",
        settings ->
            List.of(
                new InFlightRow(settings).measure("local"),
                new InFlightRow(settings).measure("docker")));
    return Collections.unmodifiableMap(s);
  }

  /**
   * Runs the benchmarks as the system properties say, prints the table, writes the report.
   *
   * @param args none
   */
  public static void main(String[] args) throws Exception {
    if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    }
    Settings settings = Settings.fromSystemProperties();
    Result result = run(settings);
    System.out.print(table(result.rows()));
    Path output = settings.output().toAbsolutePath();
    if (output.getParent() != null) {
      Files.createDirectories(output.getParent());
    }
    Files.writeString(output, markdown(settings, result), StandardCharsets.UTF_8);
    System.out.println("written to " + output + " after " + result.wall().toSeconds() + " s");
  }

  /**
   * What a run measured: the rows, the breakdown of one task's engine requests, the machine at the
   * start, the load average at the end, when it started and how long it took.
   */
  record Result(
      List<Row> rows,
      String breakdown,
      Machine machine,
      String endLoadAverage,
      Instant started,
      Duration wall) {}

  /** Runs the rows the settings ask for. */
  static Result run(Settings s) throws Exception {
    Instant started = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    long t0 = System.nanoTime();
    Machine machine = Machine.now();
    List<Row> rows = new ArrayList<>();
    for (Map.Entry<String, RowSource> source : SOURCES.entrySet()) {
      if (s.wants(source.getKey())) {
        try {
          rows.addAll(source.getValue().measure(s));
        } catch (Exception | AssertionError e) {
          // Reported, not hidden: the row group's failure is a row of the report.
          // The logger is made here, not in a static field: main() sets the log level first.
          Logger log = LoggerFactory.getLogger(Benchmarks.class);
          log.warn("rows {} failed", source.getKey(), e);
          rows.add(failed(source.getKey(), e));
        }
      }
    }
    String breakdown = s.wants(BREAKDOWN) ? new DockerRows(s).breakdown() : "";
    return new Result(
        rows,
        breakdown,
        machine,
        Machine.loadAverageNow(),
        started,
        Duration.ofSeconds((System.nanoTime() - t0) / 1_000_000_000L));
  }

  private static Row failed(String key, Throwable e) {
    return Row.untimed(
        key,
        "FAILED",
        "The rows `"
            + key
            + "` failed before they were measured: "
            + e.toString().replace('|', '/'));
  }

  private static String[] cells(Row r) {
    double ratio = r.ratio();
    return new String[] {
      r.name(),
      r.library(),
      Row.spread(r.librarySamples()),
      r.baseline(),
      Row.spread(r.baselineSamples()),
      String.valueOf(r.rounds()),
      r.order(),
      Double.isNaN(ratio) ? "-" : String.format(Locale.ROOT, "%.3f", ratio),
      r.roundRatioRange(),
      r.target(),
      r.verdict()
    };
  }

  private static final String[] HEADER = {
    "row",
    "library",
    "min / median / max",
    "baseline",
    "min / median / max",
    "rounds",
    "order",
    "ratio",
    "round ratios",
    "target",
    "verdict"
  };

  /** The plain-text table printed on stdout. */
  static String table(List<Row> rows) {
    List<String[]> lines = new ArrayList<>();
    lines.add(HEADER);
    rows.forEach(r -> lines.add(cells(r)));
    int[] width = new int[HEADER.length];
    for (String[] line : lines) {
      for (int i = 0; i < line.length; i++) {
        width[i] = Math.max(width[i], line[i].length());
      }
    }
    StringBuilder out = new StringBuilder();
    for (String[] line : lines) {
      for (int i = 0; i < line.length; i++) {
        out.append(i == 0 ? "" : "  ").append(String.format("%-" + width[i] + "s", line[i]));
      }
      out.append(System.lineSeparator());
    }
    return out.toString();
  }

  /**
   * The report: where and when this run measured, the table, each row's samples and what it timed,
   * where one Docker task's time goes, how it measures, and the settings it ran with. Nothing in it
   * comes from another run, and nothing is written by hand.
   */
  static String markdown(Settings s, Result result) {
    StringBuilder md = new StringBuilder();
    md.append("# Benchmarks\n\n");
    md.append(
        "Generated by `dev.orchestra.bench.Benchmarks` (module `orchestra-bench`) from one run;"
            + " do not edit by hand, run it again (it starts the SSH row's private sshd, then runs"
            + " `mvn -q -pl orchestra-bench -am -DskipTests -Pbench verify`):\n\n```shell\n"
            + "bash scripts/bench.sh\n```\n\n");
    Machine m = result.machine();
    md.append(
        String.format(
            Locale.ROOT,
            "This run: started %s, took %s. Timed rows: %d measured rounds each (%d for the"
                + " rows whose round takes seconds: docker parallel, docker over ssh, status),"
                + " after %d warm-up round(s); ratio = library median / baseline median.%n%n",
            result.started(),
            duration(result.wall()),
            s.quickRuns(),
            s.runs(),
            s.warmups()));
    md.append("| machine | |\n|---|---|\n");
    md.append("| cores | ").append(m.cores()).append(" |\n");
    if (m.memoryBytes() > 0) {
      md.append(
          String.format(Locale.ROOT, "| memory | %.1f GiB |%n", m.memoryBytes() / 1073741824.0));
    }
    md.append("| kernel | ").append(m.kernel()).append(" |\n");
    md.append("| JDK | ").append(m.jdk()).append(" |\n");
    md.append("| engine | ").append(m.engine()).append(" |\n");
    md.append("| load average (1, 5, 15 min) at the start | ")
        .append(m.loadAverage())
        .append(" |\n");
    md.append("| load average (1, 5, 15 min) at the end | ")
        .append(result.endLoadAverage())
        .append(" |\n\n");
    md.append("| ").append(String.join(" | ", HEADER)).append(" |\n");
    md.append("|").append("---|".repeat(HEADER.length)).append('\n');
    for (Row r : result.rows()) {
      md.append("| ").append(String.join(" | ", cells(r))).append(" |\n");
    }
    long noisy = result.rows().stream().filter(Row::noisy).count();
    long notMet = result.rows().stream().filter(r -> !r.met()).count();
    long outOfReach = result.rows().stream().filter(Row::outOfReach).count();
    md.append(
        String.format(
            Locale.ROOT,
            "%n%d of %d rows met their target; %d out of reach here (not met, and their floor,"
                + " measured in the same rotation, misses the target too); %d noisy (the target"
                + " lies within the range of their per-round ratios).%n",
            result.rows().size() - notMet,
            result.rows().size(),
            outOfReach,
            noisy));
    section(md, "What each row measures");
    for (Row r : result.rows()) {
      md.append("- **").append(r.name()).append("**: ").append(r.detail());
      if (r.rounds() > 1) {
        md.append(" Samples (ms), round by round: library ")
            .append(samples(r.librarySamples()))
            .append("; baseline ")
            .append(samples(r.baselineSamples()))
            .append('.');
      }
      failures(md, "library", r.librarySamples());
      failures(md, "baseline", r.baselineSamples());
      md.append('\n');
    }
    if (!result.breakdown().isEmpty()) {
      section(md, "Where one Docker task's time goes");
      md.append(
          "`runContainer` of `true` then `await`, with the driver behind a recording proxy"
              + " (which adds its own hop to every request, so the absolute times are a little"
              + " higher than in the table): every engine request, when it was sent and answered,"
              + " relative to the call.\n\n");
      md.append(result.breakdown());
    }
    section(md, "How it measures").append(METHOD);
    section(md, "Settings of this run");
    md.append(
        "Each is a system property of the command above, e.g. `-Dbench.runs=11` or"
            + " `-Dbench.rows=status,memory`.\n\n");
    md.append("| property | value |\n|---|---|\n");
    s.asProperties()
        .forEach((k, v) -> md.append("| `").append(k).append("` | ").append(v).append(" |\n"));
    return md.toString();
  }

  private static void failures(StringBuilder md, String side, Samples samples) {
    if (!samples.failures().isEmpty()) {
      md.append(" Failed trials of the ")
          .append(side)
          .append(" (not retried): ")
          .append(String.join("; ", samples.failures()).replace('|', '/').replace('\n', ' '))
          .append('.');
    }
  }

  private static String duration(Duration d) {
    long s = d.toSeconds();
    return s >= 60 ? String.format(Locale.ROOT, "%d min %d s", s / 60, s % 60) : s + " s";
  }

  /** Starts a section: one blank line before its heading, whatever came before. */
  private static StringBuilder section(StringBuilder md, String title) {
    while (md.charAt(md.length() - 1) == '\n') {
      md.setLength(md.length() - 1);
    }
    return md.append("\n\n## ").append(title).append("\n\n");
  }

  /** How every run measures, whatever it found: the method, not a result. */
  private static final String METHOD =
      """
      - Each timed row runs the library and its baseline alternately within every round, and the \
      order is reversed every other round (column "order": L is the library, B the baseline, F a \
      floor, D `docker run`, T Testcontainers; "L B, B L" means L B in the first round, B L in the \
      second, and so on), so that both meet the machine in the same state and neither always pays \
      for going first. The warm-up rounds are discarded.
      - The table shows the minimum, median and maximum of each side's measured rounds; ratio = \
      library median / baseline median, against the row's target.
      - "round ratios" is the range of the per-round ratios: each round's library sample over the \
      same round's baseline sample, measured back to back. A row is **noisy** when its target lies \
      within that range: some rounds met it and some did not, so another run may well give the \
      other verdict. The verdict still comes from the medians.
      - A row whose baseline is another client (`docker run`, `docker logs`, Testcontainers, \
      plain processes) has a floor in the same rotation: the least any client must do for the same \
      result on this platform. When such a row is not met and the floor's median, over the row's \
      baseline median, is itself above the target, the row is **out of reach here**: the platform, \
      not the library, sets the limit, and the floor row says how close the library comes to it. \
      A floor that the library beat in every round is no floor (it is not the least a client must \
      do there): it proves no limit, and the row's verdict says so.
      - A trial that fails (an error, a wrong exit code or byte count) is not run again: the round \
      has no sample for that side, the verdict counts the failed trials, and the row's paragraph \
      above says what failed. A side with no successful trial fails the row.
      - What a row times, and what it leaves out (a cleanup, a removal), is said with its samples \
      above.
      - Absolute times depend on the machine and its load (see the load averages above); only \
      ratios measured side by side in one run compare. Timings never go into tests: the default \
      build runs every row once at a tiny size, checking results only.
      - The Docker rows need a Docker engine with the row's image. Testcontainers runs with \
      `TESTCONTAINERS_RYUK_DISABLED=true` and `TESTCONTAINERS_HOST_OVERRIDE=localhost`, so that it \
      needs no registry.
      """;

  private static String samples(Samples s) {
    List<String> list = new ArrayList<>();
    s.perRound()
        .forEach(n -> list.add(n == null ? "FAILED" : String.format(Locale.ROOT, "%.1f", n / 1e6)));
    return String.join(", ", list);
  }
}
