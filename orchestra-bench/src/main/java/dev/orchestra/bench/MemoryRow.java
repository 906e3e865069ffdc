package dev.orchestra.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Follows and reads back a large log in a JVM with a small heap: it must complete, heap flat. */
final class MemoryRow {

  /** After a GC, the live heap may grow by at most this much while the log passes. */
  static final long FLAT = 16L << 20;

  private final Settings settings;

  MemoryRow(Settings settings) {
    this.settings = settings;
  }

  /** One row per driver. */
  Row measure(String driver) throws IOException, InterruptedException {
    long bytes = settings.memoryBytes();
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process p =
        new ProcessBuilder(
                java.toString(),
                "-Xmx" + settings.memoryHeap(),
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp",
                System.getProperty("java.class.path"),
                MemoryProbe.class.getName(),
                driver,
                Long.toString(bytes),
                settings.image())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    if (!p.waitFor(30, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new IllegalStateException("the memory probe of driver " + driver + " did not end");
    }
    Map<String, Long> v = new HashMap<>();
    for (String pair : output.substring(output.lastIndexOf('\n') + 1).split(" ")) {
      String[] kv = pair.split("=", 2);
      if (kv.length == 2) {
        v.put(kv[0], Long.parseLong(kv[1]));
      }
    }
    if (p.exitValue() != 0 || !v.containsKey("followed")) {
      throw new IllegalStateException(
          "the memory probe of driver "
              + driver
              + " failed (exit "
              + p.exitValue()
              + "): "
              + output);
    }
    boolean completed = v.get("exit") == 0;
    boolean exact = v.get("followed") == bytes && v.get("read") == bytes && v.get("stderr") == 0;
    long growth = v.get("peakAfterGc") - v.get("startAfterGc");
    boolean flat = growth <= FLAT;
    boolean met = completed && exact && flat;
    String verdict =
        (met ? "met: " : "NOT met: ")
            + (completed ? "completes" : "task FAILED")
            + (exact
                ? ""
                : String.format(
                    Locale.ROOT,
                    ", byte counts WRONG (followed %d, read %d)",
                    v.get("followed"),
                    v.get("read")))
            + String.format(Locale.ROOT, ", live heap +%.1f MB", growth / 1048576.0);
    return new Row(
        "memory (" + driver + ")",
        "follow + logs() of " + DockerRows.mb(bytes) + ", -Xmx" + settings.memoryHeap(),
        "-",
        Samples.of(List.of(v.get("millis") * 1_000_000)),
        Samples.none(),
        "-",
        "exact counts, heap flat",
        verdict,
        met,
        false,
        String.format(
            Locale.ROOT,
            "Driver %s in a JVM with -Xmx%s (max heap %.0f MB): a task wrote %d bytes to stdout;"
                + " follow() counted %d, then logs() counted %d (exit %d). Live heap after GC:"
                + " %.1f MB at the start, at most %.1f MB during, %.1f MB at the end; the most"
                + " used at any sample %.1f MB. \"Flat\": at most %d MB more live heap than at"
                + " the start.",
            driver,
            settings.memoryHeap(),
            v.get("maxHeap") / 1048576.0,
            bytes,
            v.get("followed"),
            v.get("read"),
            v.get("exit"),
            v.get("startAfterGc") / 1048576.0,
            v.get("peakAfterGc") / 1048576.0,
            v.get("endAfterGc") / 1048576.0,
            v.get("peakUsed") / 1048576.0,
            FLAT >> 20));
  }
}
