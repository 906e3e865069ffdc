package dev.orchestra.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs contenders side by side: round after round, each contender once per round, the order
 * reversed every other round (A B, B A, A B ..., or A B C D, D C B A ...), so that a machine that
 * gets busier or quieter, and whatever the first of a round pays for the others, affects all of
 * them alike. The first rounds are warm-ups and are discarded.
 *
 * <p>A trial that fails is not run again: it is recorded as failed (its round has no sample for
 * that contender) and the rotation goes on.
 */
final class Rotation {

  /** One measured run of a contender: does its own set-up and clean-up, returns the timed part. */
  @FunctionalInterface
  interface Trial {
    /**
     * @param round a number unique to this run of the trial, for unique task names
     * @return the nanoseconds of the timed part only
     * @throws Exception if the trial failed, or the library's result was wrong
     */
    long run(int round) throws Exception;
  }

  private static final Logger LOG = LoggerFactory.getLogger(Rotation.class);

  private Rotation() {}

  /**
   * @return per contender, in the order given, the measured rounds
   */
  static List<Samples> run(int warmups, int runs, List<Trial> contenders) {
    List<List<Long>> nanos = new ArrayList<>();
    List<List<String>> failures = new ArrayList<>();
    for (int i = 0; i < contenders.size(); i++) {
      nanos.add(new ArrayList<>());
      failures.add(new ArrayList<>());
    }
    for (int round = 0; round < warmups + runs; round++) {
      for (int i : order(round, contenders.size())) {
        Long sample;
        String failure = null;
        try {
          sample = contenders.get(i).run(round);
        } catch (Exception | AssertionError e) {
          if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
          }
          sample = null;
          failure = e.toString();
          LOG.warn("trial {} of round {} failed: {}", i, round, failure);
        }
        if (round >= warmups) {
          nanos.get(i).add(sample);
          if (failure != null) {
            failures.get(i).add(failure);
          }
        }
      }
    }
    List<Samples> samples = new ArrayList<>();
    for (int i = 0; i < contenders.size(); i++) {
      samples.add(new Samples(nanos.get(i), failures.get(i)));
    }
    return samples;
  }

  /** The order of the contenders in a round: as given in even rounds, reversed in odd ones. */
  static List<Integer> order(int round, int contenders) {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < contenders; i++) {
      order.add(i);
    }
    if (round % 2 == 1) {
      Collections.reverse(order);
    }
    return order;
  }

  /**
   * How {@link #order} runs contenders named by {@code letters}, for the report: {@code "L B, B L"}
   * for two.
   */
  static String describeOrder(String... letters) {
    List<String> forward = List.of(letters);
    List<String> backward = new ArrayList<>(forward);
    Collections.reverse(backward);
    return String.join(" ", forward) + ", " + String.join(" ", backward);
  }
}
