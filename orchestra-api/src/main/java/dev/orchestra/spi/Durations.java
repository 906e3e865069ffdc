package dev.orchestra.spi;

import java.time.Duration;

/**
 * Converts the durations callers give (an {@link dev.orchestra.Container#await await} timeout, a
 * {@link dev.orchestra.Container#stop stop} grace, a {@link dev.orchestra.Task#timeout() task's} or
 * a sandbox step's timeout) into the counts that timers take, saturating instead of overflowing.
 *
 * <p>A {@link Duration} reaches far beyond what a {@code long} of nanoseconds or milliseconds
 * holds: {@code ChronoUnit.FOREVER.getDuration()} and {@code Duration.ofMillis(Long.MAX_VALUE)} are
 * the usual ways to say "no limit", and {@link Duration#toNanos()} throws {@link
 * ArithmeticException} for them. Every driver converts through here, so such a duration means "at
 * least 292 years" (the most nanoseconds a {@code long} counts), which is no limit for a task,
 * never an exception.
 */
public final class Durations {

  private static final Duration MOST_NANOS = Duration.ofNanos(Long.MAX_VALUE);
  private static final Duration LEAST_NANOS = Duration.ofNanos(Long.MIN_VALUE);
  private static final Duration MOST_MILLIS = Duration.ofMillis(Long.MAX_VALUE);
  private static final Duration LEAST_MILLIS = Duration.ofMillis(Long.MIN_VALUE);

  private Durations() {}

  /**
   * A duration in nanoseconds, saturated.
   *
   * @param duration any duration; not {@code null}
   * @return its nanoseconds; {@link Long#MAX_VALUE} for 292 years or more, {@link Long#MIN_VALUE}
   *     for minus that or less
   */
  public static long saturatedNanos(Duration duration) {
    if (duration.compareTo(MOST_NANOS) >= 0) {
      return Long.MAX_VALUE;
    }
    if (duration.compareTo(LEAST_NANOS) <= 0) {
      return Long.MIN_VALUE;
    }
    return duration.toNanos();
  }

  /**
   * A duration in milliseconds (truncated, as {@link Duration#toMillis()}), saturated.
   *
   * @param duration any duration; not {@code null}
   * @return its milliseconds; {@link Long#MAX_VALUE} or {@link Long#MIN_VALUE} beyond what a {@code
   *     long} of milliseconds holds
   */
  public static long saturatedMillis(Duration duration) {
    if (duration.compareTo(MOST_MILLIS) >= 0) {
      return Long.MAX_VALUE;
    }
    if (duration.compareTo(LEAST_MILLIS) <= 0) {
      return Long.MIN_VALUE;
    }
    return duration.toMillis();
  }
}
