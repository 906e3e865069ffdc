package dev.orchestra.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs contenders side by side: round after round, each contender once per round in the same order
 * (A B A B ..., or A B C D A B C D ...), so that a machine that gets busier or quieter affects all
 * of them alike. The first rounds are warm-ups and are discarded.
 */
final class Rotation {

  /** One measured run of a contender: does its own set-up and clean-up, returns the timed part. */
  @FunctionalInterface
  interface Trial {
    /**
     * @param round the round, counting warm-ups, for unique task names
     * @return the nanoseconds of the timed part only
     */
    long run(int round) throws Exception;
  }

  private Rotation() {}

  /**
   * @return per contender, the nanoseconds of each measured round
   */
  static List<List<Long>> run(int warmups, int runs, List<Trial> contenders) throws Exception {
    List<List<Long>> samples = new ArrayList<>();
    contenders.forEach(c -> samples.add(new ArrayList<>()));
    for (int round = 0; round < warmups + runs; round++) {
      for (int i = 0; i < contenders.size(); i++) {
        long nanos = contenders.get(i).run(round);
        if (round >= warmups) {
          samples.get(i).add(nanos);
        }
      }
    }
    return samples;
  }

  /** The median of the samples (the mean of the two middle ones for an even count). */
  static double median(List<Long> samples) {
    if (samples.isEmpty()) {
      throw new IllegalArgumentException("no samples");
    }
    List<Long> sorted = samples.stream().sorted().toList();
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2.0;
  }
}
