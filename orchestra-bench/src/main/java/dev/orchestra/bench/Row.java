package dev.orchestra.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One row of the table: both sides' samples, the order they ran in, the verdict against the target,
 * and whether the verdict is noisy. {@code detail} goes into the report below the table (what was
 * measured, what was checked).
 *
 * @param order how the contenders took turns, e.g. {@code "L B, B L"}: the first round's order,
 *     then the second's, repeated; {@code "-"} for a row measured once
 * @param noisy whether the verdict flips within the row's spread: see {@link #timed}
 */
record Row(
    String name,
    String library,
    String baseline,
    Samples librarySamples,
    Samples baselineSamples,
    String order,
    String target,
    String verdict,
    boolean met,
    boolean noisy,
    String detail) {

  /**
   * A timed row: the ratio of the medians (library / baseline) against a maximum ratio. The row is
   * <em>noisy</em> when the target lies within the range of the per-round ratios (each round's
   * library sample over the same round's baseline sample, the two measured back to back): some
   * rounds met the target and some did not, so another run may well give the other verdict. Failed
   * trials are counted in the verdict; a side with no successful trial fails the row.
   */
  static Row timed(
      String name,
      String library,
      String baseline,
      Samples lib,
      Samples base,
      String order,
      double maxRatio,
      String detail) {
    String target = String.format(Locale.ROOT, "<= %.2f", maxRatio);
    String failures = failures(lib, base);
    boolean measured = !lib.isEmpty() && !base.isEmpty();
    boolean met = measured && lib.medianMillis() / base.medianMillis() <= maxRatio;
    List<Double> rounds = roundRatios(lib, base);
    boolean noisy =
        measured
            && !rounds.isEmpty()
            && rounds.stream().mapToDouble(d -> d).min().orElseThrow() <= maxRatio
            && rounds.stream().mapToDouble(d -> d).max().orElseThrow() > maxRatio;
    String verdict =
        !measured
            ? "FAILED: no successful trial" + failures
            : (met ? "met" : "NOT met") + (noisy ? ", noisy" : "") + failures;
    return new Row(name, library, baseline, lib, base, order, target, verdict, met, noisy, detail);
  }

  /** How the verdict of a row out of reach on this machine starts: see {@link #judgedAgainst}. */
  static final String OUT_OF_REACH = "NOT met, out of reach here";

  /**
   * This row judged against a floor measured in the same rotation (the floor row has the same
   * library samples, the floor as its baseline). A row not met whose floor's median is itself over
   * the target, against this row's baseline median, is out of reach on this machine: no client of
   * the platform, however minimal, meets it here. The verdict says so, with that ratio; whether the
   * library comes close to the floor is the floor row's own verdict. A row that was met, or whose
   * floor meets the target, is returned as it is. So is a row whose library beat the floor in every
   * round: that floor is not the least a client must do on this platform, and proves no limit (the
   * verdict says so).
   *
   * @param floor the floor row of the same rotation
   * @param maxRatio this row's target, as given to {@link #timed}
   * @return this row, or a copy with the verdict that says it is out of reach
   */
  Row judgedAgainst(Row floor, double maxRatio) {
    if (met
        || librarySamples.isEmpty()
        || baselineSamples.isEmpty()
        || floor.baselineSamples().isEmpty()) {
      return this;
    }
    double floorRatio = floor.baselineSamples().medianMillis() / baselineSamples.medianMillis();
    if (floorRatio <= maxRatio) {
      return this;
    }
    List<Double> againstFloor = roundRatios(librarySamples, floor.baselineSamples());
    if (!againstFloor.isEmpty() && againstFloor.stream().allMatch(r -> r < 1.0)) {
      return withVerdict(verdict + " (its floor is none: the library beat it in every round)");
    }
    return withVerdict(
        String.format(
            Locale.ROOT,
            "%s: the floor is %.3f of the baseline%s%s",
            OUT_OF_REACH,
            floorRatio,
            noisy ? ", noisy" : "",
            failures(librarySamples, baselineSamples)));
  }

  /** A copy of this row, not met, with another verdict. */
  private Row withVerdict(String newVerdict) {
    return new Row(
        name,
        library,
        baseline,
        librarySamples,
        baselineSamples,
        order,
        target,
        newVerdict,
        false,
        noisy,
        detail);
  }

  /**
   * Whether the row was not met because its floor, measured in the same run, is over its target.
   */
  boolean outOfReach() {
    return verdict.startsWith(OUT_OF_REACH);
  }

  /**
   * A row that a run left out because what it needs is not there (an engine, a service); it stays
   * in the report, saying so, instead of vanishing.
   *
   * @param detail what the row needs, and how to give it
   */
  static Row notMeasured(String name, String detail) {
    return untimed(name, "not measured", detail);
  }

  /** A row with no samples, only a verdict (the target not met) and its detail. */
  static Row untimed(String name, String verdict, String detail) {
    return new Row(
        name, "-", "-", Samples.none(), Samples.none(), "-", "-", verdict, false, false, detail);
  }

  /** ", 1 failed trial (library)" and the like; empty when every trial succeeded. */
  static String failures(Samples lib, Samples base) {
    int l = lib.failed();
    int b = base.failed();
    if (l + b == 0) {
      return "";
    }
    String sides =
        l > 0 && b > 0 ? "library " + l + ", baseline " + b : l > 0 ? "library" : "baseline";
    return String.format(
        Locale.ROOT, ", %d failed trial%s (%s)", l + b, l + b == 1 ? "" : "s", sides);
  }

  /** Each round's library sample over the same round's baseline sample, where both succeeded. */
  static List<Double> roundRatios(Samples lib, Samples base) {
    List<Double> ratios = new ArrayList<>();
    for (int i = 0; i < Math.min(lib.rounds(), base.rounds()); i++) {
      Long l = lib.perRound().get(i);
      Long b = base.perRound().get(i);
      if (l != null && b != null && b > 0) {
        ratios.add(l / (double) b);
      }
    }
    return ratios;
  }

  /** The ratio of the medians, library / baseline; NaN when a side has no sample. */
  double ratio() {
    return librarySamples.isEmpty() || baselineSamples.isEmpty()
        ? Double.NaN
        : librarySamples.medianMillis() / baselineSamples.medianMillis();
  }

  /** "min / median / max" of one side, or "-". */
  static String spread(Samples s) {
    if (s.isEmpty()) {
      return "-";
    }
    if (s.measured().size() == 1) {
      return millis(s.medianMillis());
    }
    return millis(s.minMillis()) + " / " + millis(s.medianMillis()) + " / " + millis(s.maxMillis());
  }

  /** The range of the per-round ratios, or "-". */
  String roundRatioRange() {
    List<Double> r = roundRatios(librarySamples, baselineSamples);
    if (r.isEmpty()) {
      return "-";
    }
    return String.format(
        Locale.ROOT,
        "%.3f - %.3f",
        r.stream().mapToDouble(d -> d).min().orElseThrow(),
        r.stream().mapToDouble(d -> d).max().orElseThrow());
  }

  /** How many rounds were measured (the most of either side); 1 for a row measured once. */
  int rounds() {
    return Math.max(1, Math.max(librarySamples.rounds(), baselineSamples.rounds()));
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
