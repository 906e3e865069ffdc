package dev.orchestra.spi;

import java.math.BigDecimal;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The settings a driver was opened with, checked against the names it knows.
 *
 * <p>{@link #toString()} hides the value of every parameter whose name suggests a secret ({@code
 * password}, {@code passphrase}, {@code secret}, {@code token}, {@code key}, {@code credential}).
 */
public final class DriverParams {

  private static final Set<String> SECRET_WORDS =
      Set.of("password", "passphrase", "secret", "token", "key", "credential");

  private static final Pattern SECONDS = Pattern.compile("\\d+(\\.\\d+)?");

  /**
   * A driver name (a URI scheme, RFC 3986) with nothing or an empty authority after it: {@code
   * local}, {@code local:}, {@code local://}.
   */
  private static final Pattern BARE_DRIVER_NAME =
      Pattern.compile("([A-Za-z][A-Za-z0-9+.-]*)(?::(?://)?)?");

  private final String driver;
  private final Map<String, String> values;

  private DriverParams(String driver, Map<String, String> values) {
    this.driver = driver;
    this.values = values;
  }

  /**
   * Checks the given parameters.
   *
   * @param driver the driver's name, for messages
   * @param params the parameters as given; not {@code null}, no {@code null} keys or values
   * @param known every parameter name the driver understands
   * @return the checked parameters
   * @throws IllegalArgumentException if a parameter is unknown (the message lists the known ones)
   *     or null
   */
  public static DriverParams of(String driver, Map<String, String> params, Set<String> known) {
    if (params == null) {
      throw new IllegalArgumentException("params of driver '" + driver + "' must not be null");
    }
    Map<String, String> copy = new TreeMap<>();
    params.forEach(
        (k, v) -> {
          if (k == null || v == null) {
            throw new IllegalArgumentException(
                "params of driver '" + driver + "' must not hold null keys or values");
          }
          if (!known.contains(k)) {
            throw new IllegalArgumentException(
                "unknown parameter '"
                    + k
                    + "' for driver '"
                    + driver
                    + "'; known: "
                    + (known.isEmpty() ? "none" : String.join(", ", new TreeSet<>(known))));
          }
          copy.put(k, v);
        });
    return new DriverParams(driver, Collections.unmodifiableMap(copy));
  }

  /**
   * The value of a parameter.
   *
   * @param name the parameter's name
   * @return its value, or empty when it was not given
   */
  public Optional<String> get(String name) {
    return Optional.ofNullable(values.get(name));
  }

  /**
   * The value of a parameter that holds a duration, see {@link #parseDuration(String, String)}.
   *
   * @param name the parameter's name
   * @return its value, or empty when it was not given
   * @throws IllegalArgumentException naming the parameter, the driver and the value, if the value
   *     is not a positive duration
   */
  public Optional<Duration> getDuration(String name) {
    return get(name)
        .map(v -> parseDuration("parameter '" + name + "' of driver '" + driver + "'", v));
  }

  /**
   * Parses a positive duration: ISO-8601 ({@code PT30S}, {@code PT0.5S}, {@code PT2M}) or a number
   * of seconds ({@code 30}, {@code 1.5}); surrounding blanks are ignored.
   *
   * @param what what holds the value, for the message (for example {@code parameter 'x' of driver
   *     'y'})
   * @param value the text
   * @return the duration
   * @throws IllegalArgumentException naming {@code what} and the value, if the value is neither, or
   *     not positive
   */
  public static Duration parseDuration(String what, String value) {
    String text = value.trim();
    Duration duration;
    try {
      duration =
          SECONDS.matcher(text).matches()
              ? Duration.ofNanos(new BigDecimal(text).movePointRight(9).longValueExact())
              : Duration.parse(text);
    } catch (DateTimeParseException | ArithmeticException e) {
      throw new IllegalArgumentException(
          what
              + " must be an ISO-8601 duration such as PT30S or a number of seconds, was '"
              + value
              + "'",
          e);
    }
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException(what + " must be positive, was '" + value + "'");
    }
    return duration;
  }

  /**
   * Every parameter that was given.
   *
   * @return the parameters, sorted by name, unmodifiable
   */
  public Map<String, String> asMap() {
    return values;
  }

  /**
   * Whether a parameter's value must never be shown.
   *
   * @param name the parameter's name
   * @return {@code true} when the name suggests a secret
   */
  public static boolean isSecret(String name) {
    String lower = name.toLowerCase(Locale.ROOT);
    return SECRET_WORDS.stream().anyMatch(lower::contains);
  }

  /**
   * The parameters as they may be shown in messages and logs.
   *
   * @param params any parameters
   * @return a sorted copy in which the value of every secret parameter (see {@link
   *     #isSecret(String)}) reads {@code ****}
   */
  public static Map<String, String> redact(Map<String, String> params) {
    Map<String, String> shown = new TreeMap<>();
    params.forEach((k, v) -> shown.put(k, isSecret(k) ? "****" : v));
    return shown;
  }

  /**
   * A driver URI as it may be shown in messages and logs: its query, which may hold secrets, and
   * its fragment replaced by {@code ...}.
   *
   * @param uri a driver URI such as {@code docker://ns?token=x}, or any text
   * @return the text up to its first {@code ?} or {@code #}, followed by {@code ?...} or {@code
   *     #...} when it had one
   */
  public static String redactUri(String uri) {
    int end = hiddenFrom(uri);
    return end < 0 ? uri : uri.substring(0, end) + uri.charAt(end) + "...";
  }

  private static int hiddenFrom(String uri) {
    int q = uri.indexOf('?');
    int f = uri.indexOf('#');
    return q < 0 ? f : f < 0 ? q : Math.min(q, f);
  }

  /**
   * Parses a driver URI such that no exception carries its query. {@link URI#URI(String)} throws a
   * {@link URISyntaxException} whose message holds the whole text, secrets included; this throws an
   * exception of its own instead, without that cause.
   *
   * @param what what the text is, for the message, for example {@code "driver URI"}
   * @param text the text; not {@code null}
   * @return the URI
   * @throws IllegalArgumentException if the text is not a URI: the message gives the parser's
   *     reason (and where, unless that lies in the part hidden) and the text as {@link #redactUri}
   *     shows it; it has no cause
   */
  public static URI parseUri(String what, String text) {
    try {
      return new URI(text);
    } catch (URISyntaxException e) {
      int hidden = hiddenFrom(text);
      boolean shown = e.getIndex() >= 0 && (hidden < 0 || e.getIndex() < hidden);
      throw new IllegalArgumentException(
          what
              + " is malformed ("
              + e.getReason()
              + (shown ? " at index " + e.getIndex() : "")
              + "): '"
              + redactUri(text)
              + "'");
    }
  }

  /**
   * Parses a driver URI, {@code driver://namespace?param=value&...}, as {@link #parseUri} does, and
   * checks its shape as {@link #requireDriverUri} does.
   *
   * @param what what the text is, for the message ({@code "driver URI"}, {@code "--driver URI"})
   * @param text the text to parse
   * @param byName how the caller can open a driver by name with a namespace instead, with {@code
   *     %s} standing for the driver's name (shown when the text names a driver but no namespace)
   * @return the URI
   * @throws IllegalArgumentException if the text is malformed or has another shape; the message is
   *     as {@link #parseUri} and {@link #requireDriverUri} describe
   */
  public static URI parseDriverUri(String what, String text, String byName) {
    Matcher bare = BARE_DRIVER_NAME.matcher(text);
    if (bare.matches()) {
      throw noNamespace(what, text, bare.group(1), byName);
    }
    return requireDriverUri(what, parseUri(what, text), byName);
  }

  /**
   * Checks that a URI has the shape of a driver URI, {@code driver://namespace?param=value&...}: a
   * scheme (the driver's name), an authority (the namespace), no path and no fragment.
   *
   * @param what what the URI is, for the message ({@code "driver URI"}, {@code "--driver URI"})
   * @param uri the URI to check
   * @param byName how the caller can open a driver by name with a namespace instead, with {@code
   *     %s} standing for the driver's name (shown when the URI names a driver but no namespace)
   * @return {@code uri}
   * @throws IllegalArgumentException if the URI has another shape; the message shows the URI as
   *     {@link #redactUri} does and the expected shape and, for a URI that names a driver but no
   *     namespace ({@code local}, {@code local:}, {@code local://}), both ways to name one
   */
  public static URI requireDriverUri(String what, URI uri, String byName) {
    String text = String.valueOf(uri);
    Matcher bare = BARE_DRIVER_NAME.matcher(text);
    if (bare.matches()) {
      throw noNamespace(what, text, bare.group(1), byName);
    }
    if (uri.getScheme() == null || uri.isOpaque() || uri.getRawAuthority() == null) {
      throw new IllegalArgumentException(
          what + " must read driver://namespace?param=value&..., was '" + redactUri(text) + "'");
    }
    String path = uri.getRawPath();
    if ((path != null && !path.isEmpty() && !path.equals("/")) || uri.getRawFragment() != null) {
      throw new IllegalArgumentException(
          what
              + " must have no path or fragment (driver://namespace?param=value&...), was '"
              + redactUri(text)
              + "'");
    }
    return uri;
  }

  private static IllegalArgumentException noNamespace(
      String what, String text, String name, String byName) {
    return new IllegalArgumentException(
        what
            + " '"
            + text
            + "' names driver '"
            + name
            + "' but no namespace, which every driver needs (closing a driver removes everything"
            + " of its namespace): write "
            + name
            + "://<namespace>, or "
            + String.format(Locale.ROOT, byName, name));
  }

  @Override
  public String toString() {
    return driver + redact(values);
  }
}
