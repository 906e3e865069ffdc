package dev.orchestra.bench;

import java.util.List;
import java.util.Locale;

/**
 * One row of the table: the library's median against the baseline's, their ratio and the verdict
 * against the target. Samples are in nanoseconds; {@code detail} goes into the report below the
 * table (what was measured, what was checked).
 */
record Row(
    String name,
    String library,
    String baseline,
    List<Long> librarySamples,
    List<Long> baselineSamples,
    String target,
    String verdict,
    boolean met,
    String detail) {

  /** A timed row: the ratio of the medians against a maximum ratio. */
  static Row timed(
      String name,
      String library,
      String baseline,
      List<Long> librarySamples,
      List<Long> baselineSamples,
      double maxRatio,
      String detail) {
    double ratio = Rotation.median(librarySamples) / Rotation.median(baselineSamples);
    boolean met = ratio <= maxRatio;
    return new Row(
        name,
        library,
        baseline,
        librarySamples,
        baselineSamples,
        String.format(Locale.ROOT, "<= %.2f", maxRatio),
        met ? "met" : "NOT met",
        met,
        detail);
  }

  double libraryMedianMillis() {
    return librarySamples.isEmpty() ? Double.NaN : Rotation.median(librarySamples) / 1e6;
  }

  double baselineMedianMillis() {
    return baselineSamples.isEmpty() ? Double.NaN : Rotation.median(baselineSamples) / 1e6;
  }

  /** The ratio of the medians, library / baseline; NaN when there is no baseline. */
  double ratio() {
    return librarySamples.isEmpty() || baselineSamples.isEmpty()
        ? Double.NaN
        : Rotation.median(librarySamples) / Rotation.median(baselineSamples);
  }

  static String millis(double ms) {
    if (Double.isNaN(ms)) {
      return "-";
    }
    return ms >= 100
        ? String.format(Locale.ROOT, "%.0f ms", ms)
        : ms >= 1
            ? String.format(Locale.ROOT, "%.1f ms", ms)
            : String.format(Locale.ROOT, "%.3f ms", ms);
  }
}
