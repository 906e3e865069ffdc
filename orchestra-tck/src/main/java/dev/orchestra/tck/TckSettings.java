package dev.orchestra.tck;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Pattern;

/** The TCK's timeouts, read from system properties. */
final class TckSettings {

  /** System property: the most one test (or one set-up or tear-down method) may take. */
  static final String TIMEOUT_PROPERTY = "orchestra.tck.timeout";

  /** System property: the most one wait for a task's state (Awaitility) may take. */
  static final String AWAIT_PROPERTY = "orchestra.tck.await";

  static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(2);
  static final Duration DEFAULT_AWAIT = Duration.ofSeconds(60);

  private static final Pattern SECONDS = Pattern.compile("\\d+(\\.\\d+)?");

  private TckSettings() {}

  static Duration testTimeout() {
    return read(TIMEOUT_PROPERTY, DEFAULT_TIMEOUT);
  }

  static Duration awaitTimeout() {
    return read(AWAIT_PROPERTY, DEFAULT_AWAIT);
  }

  private static Duration read(String property, Duration fallback) {
    String value = System.getProperty(property);
    return value == null || value.isBlank() ? fallback : parse(property, value);
  }

  /**
   * Parses an ISO-8601 duration ({@code PT2M}) or a number of seconds ({@code 120}, {@code 1.5}).
   */
  static Duration parse(String property, String value) {
    String text = value.trim();
    Duration duration;
    try {
      duration =
          SECONDS.matcher(text).matches()
              ? Duration.ofNanos(new BigDecimal(text).movePointRight(9).longValueExact())
              : Duration.parse(text);
    } catch (DateTimeParseException | ArithmeticException e) {
      throw new IllegalArgumentException(
          property
              + " must be an ISO-8601 duration such as PT2M or a number of seconds, was '"
              + value
              + "'",
          e);
    }
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException(property + " must be positive, was '" + value + "'");
    }
    return duration;
  }
}
