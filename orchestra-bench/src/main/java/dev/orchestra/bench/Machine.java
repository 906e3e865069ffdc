package dev.orchestra.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the machine was when a run started or ended: for the report's header, which says where its
 * numbers come from.
 *
 * @param engine the Docker engine's version and API version, or why it is not known
 * @param loadAverage the 1, 5 and 15 minute load averages ({@code /proc/loadavg}), or "unknown"
 */
record Machine(
    int cores, long memoryBytes, String kernel, String jdk, String engine, String loadAverage) {

  private static final Pattern VERSION = Pattern.compile("\"Version\"\\s*:\\s*\"([^\"]+)\"");
  private static final Pattern API = Pattern.compile("\"ApiVersion\"\\s*:\\s*\"([^\"]+)\"");

  /** The machine now. */
  static Machine now() {
    long memory = -1;
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      memory = os.getTotalMemorySize();
    }
    return new Machine(
        Runtime.getRuntime().availableProcessors(),
        memory,
        System.getProperty("os.name") + " " + System.getProperty("os.version"),
        System.getProperty("java.vm.name")
            + " "
            + System.getProperty("java.runtime.version")
            + " ("
            + System.getProperty("java.vm.vendor")
            + ")",
        engineNow(),
        loadAverageNow());
  }

  /** The load averages now: "1.16 3.77 4.06" (1, 5 and 15 minutes). */
  static String loadAverageNow() {
    try {
      String[] f =
          Files.readString(Path.of("/proc/loadavg"), StandardCharsets.US_ASCII).strip().split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "unknown (" + e + ")";
    }
  }

  private static String engineNow() {
    try (EngineClient client = new EngineClient(UnixSockets.engineSocket())) {
      String body = client.expect(200, "GET", "/version", null);
      Matcher v = VERSION.matcher(body);
      Matcher a = API.matcher(body);
      return "Docker engine "
          + (v.find() ? v.group(1) : "?")
          + " (API "
          + (a.find() ? a.group(1) : "?")
          + ")";
    } catch (IOException | RuntimeException e) {
      return "no Docker engine answered at " + UnixSockets.engineSocket() + " (" + e + ")";
    }
  }
}
