package dev.orchestra.bench;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
     * @param round a number unique to this run of the trial, for unique task names
     * @return the nanoseconds of the timed part only
     */
    long run(int round) throws Exception;
  }

  private static final Logger LOG = LoggerFactory.getLogger(Rotation.class);

  /** How often a trial is tried before its failure fails the run. */
  static final int ATTEMPTS = 3;

  private Rotation() {}

  /**
   * @return per contender, the nanoseconds of each measured round
   */
  static List<List<Long>> run(int warmups, int runs, List<Trial> contenders) throws Exception {
    List<List<Long>> samples = new ArrayList<>();
    contenders.forEach(c -> samples.add(new ArrayList<>()));
    for (int round = 0; round < warmups + runs; round++) {
      for (int i = 0; i < contenders.size(); i++) {
        long nanos = attempt(contenders.get(i), round);
        if (round >= warmups) {
          samples.get(i).add(nanos);
        }
      }
    }
    return samples;
  }

  /**
   * Runs a trial; a failed one is run again, up to {@link #ATTEMPTS} times in all (a shared engine
   * can fail a single start for reasons of its own), so that one hiccup does not void the run. A
   * trial that keeps failing fails the run.
   */
  private static long attempt(Trial trial, int round) throws Exception {
    for (int attempt = 1; ; attempt++) {
      try {
        return trial.run(round * ATTEMPTS + attempt - 1);
      } catch (Exception | AssertionError e) {
        if (attempt >= ATTEMPTS) {
          throw e;
        }
        LOG.warn("a trial of round {} failed, running it again: {}", round, e.toString());
      }
    }
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
