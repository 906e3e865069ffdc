package dev.orchestra.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * One contender's measured rounds of a row, in nanoseconds: {@code perRound} holds one entry per
 * round, {@code null} where the trial failed ({@code failures} says why, in the order they came).
 */
record Samples(List<Long> perRound, List<String> failures) {

  Samples {
    perRound = Collections.unmodifiableList(new ArrayList<>(perRound));
    failures = List.copyOf(failures);
  }

  /** Samples of trials that all succeeded. */
  static Samples of(List<Long> nanos) {
    return new Samples(nanos, List.of());
  }

  /** No measurement at all (a row without a baseline). */
  static Samples none() {
    return new Samples(List.of(), List.of());
  }

  /** The samples of the trials that succeeded, in round order. */
  List<Long> measured() {
    return perRound.stream().filter(Objects::nonNull).toList();
  }

  boolean isEmpty() {
    return measured().isEmpty();
  }

  int rounds() {
    return perRound.size();
  }

  int failed() {
    return (int) perRound.stream().filter(Objects::isNull).count();
  }

  double minMillis() {
    return measured().stream().mapToLong(Long::longValue).min().orElseThrow() / 1e6;
  }

  double maxMillis() {
    return measured().stream().mapToLong(Long::longValue).max().orElseThrow() / 1e6;
  }

  double medianMillis() {
    return median(measured()) / 1e6;
  }

  /** The median (the mean of the two middle ones for an even count). */
  static double median(List<? extends Number> values) {
    if (values.isEmpty()) {
      throw new IllegalArgumentException("no samples");
    }
    List<Double> sorted = values.stream().map(Number::doubleValue).sorted().toList();
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2.0;
  }
}
