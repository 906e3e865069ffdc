package dev.orchestra.tck;

import dev.orchestra.spi.DriverParams;
import java.time.Duration;

/** The TCK's timeouts, read from system properties. */
final class TckSettings {

  /** System property: the most one test (or one set-up or tear-down method) may take. */
  static final String TIMEOUT_PROPERTY = "orchestra.tck.timeout";

  /** System property: the most one wait for a task's state (Awaitility) may take. */
  static final String AWAIT_PROPERTY = "orchestra.tck.await";

  static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(2);
  static final Duration DEFAULT_AWAIT = Duration.ofSeconds(60);

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
    return DriverParams.parseDuration(property, value);
  }
}
