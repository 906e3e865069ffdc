package dev.orchestra.spi;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Checks and sanitises the names that callers give (task ids, volume names, namespaces) so that
 * every driver maps them to platform names the same safe way.
 */
public final class Names {

  /** The longest name {@link #safe(String)} returns. */
  public static final int MAX_SAFE_LENGTH = 63;

  private static final int HASH_HEX_CHARS = 16;
  private static final Pattern VERBATIM = Pattern.compile("[a-z0-9][a-z0-9.-]*");
  private static final Pattern FOLD = Pattern.compile("[^a-z0-9.-]+");

  private Names() {}

  /**
   * Maps any text to a name that is safe as a file name, a Docker container or volume name and a
   * label value: {@code [a-z0-9][a-z0-9_.-]*}, at most {@code maxLength} characters.
   *
   * <p>The mapping is injective (short of a 64-bit hash collision): a text that is already such a
   * name without {@code _} and short enough is returned unchanged; any other text becomes a
   * readable prefix, {@code _}, and a hash of the whole text. Because only hashed names contain
   * {@code _}, a hashed name never equals an unchanged one, and texts that differ only in case or
   * in characters the fold replaces still map to different names.
   *
   * @param text any text, not {@code null}
   * @param maxLength the longest acceptable result, at least 24
   * @return the safe name
   * @throws IllegalArgumentException if {@code maxLength} is below 24
   */
  public static String safe(String text, int maxLength) {
    if (maxLength < 24) {
      throw new IllegalArgumentException("maxLength must be at least 24, was " + maxLength);
    }
    if (text.length() <= maxLength && VERBATIM.matcher(text).matches()) {
      return text;
    }
    String folded = FOLD.matcher(text.toLowerCase(Locale.ROOT)).replaceAll("-");
    folded = folded.replaceAll("^[.-]+", "").replaceAll("[.-]+$", "");
    int room = maxLength - HASH_HEX_CHARS - 1;
    if (folded.length() > room) {
      folded = folded.substring(0, room).replaceAll("[.-]+$", "");
    }
    if (folded.isEmpty()) {
      folded = "x";
    }
    return folded + "_" + hash(text);
  }

  /**
   * {@link #safe(String, int)} with {@link #MAX_SAFE_LENGTH}.
   *
   * @param text any text, not {@code null}
   * @return the safe name
   */
  public static String safe(String text) {
    return safe(text, MAX_SAFE_LENGTH);
  }

  /**
   * Checks a volume name as callers give it.
   *
   * @param name the name
   * @return the name, unchanged
   * @throws IllegalArgumentException if it is null, blank, {@code .} or {@code ..}, or contains
   *     {@code /}, {@code \} or a control character; the message names the bad value
   */
  public static String requireVolumeName(String name) {
    requireText("volume name", name);
    if (name.equals(".")
        || name.equals("..")
        || name.indexOf('/') >= 0
        || name.indexOf('\\') >= 0) {
      throw new IllegalArgumentException(
          "volume name must not be '.' or '..' nor contain '/' or '\\' (it may not reach outside"
              + " the driver's area), was '"
              + printable(name)
              + "'");
    }
    return name;
  }

  /**
   * Checks the arguments of {@link dev.orchestra.Driver#createVolume(String, long)} as callers give
   * them: the name as {@link #requireVolumeName} does, and the size.
   *
   * @param name the volume's name
   * @param sizeBytes its size limit, 0 for none
   * @return the name, unchanged
   * @throws IllegalArgumentException if the name is bad or the size negative; the message names the
   *     bad value
   */
  public static String requireVolume(String name, long sizeBytes) {
    requireVolumeName(name);
    if (sizeBytes < 0) {
      throw new IllegalArgumentException(
          "sizeBytes of volume '" + name + "' must be 0 (no limit) or positive, was " + sizeBytes);
    }
    return name;
  }

  /**
   * Checks a namespace as callers give it.
   *
   * @param namespace the namespace
   * @return the namespace, unchanged
   * @throws IllegalArgumentException if it is null, blank or holds a control character
   */
  public static String requireNamespace(String namespace) {
    return requireText("namespace", namespace);
  }

  /**
   * Checks that a value is present, not blank, and free of control characters.
   *
   * @param field the field's name, for the message
   * @param value the value
   * @return the value, unchanged
   * @throws IllegalArgumentException naming the field and the bad value
   */
  public static String requireText(String field, String value) {
    if (value == null) {
      throw new IllegalArgumentException(field + " must not be null");
    }
    if (value.isBlank()) {
      throw new IllegalArgumentException(field + " must not be blank, was '" + value + "'");
    }
    if (value.chars().anyMatch(Character::isISOControl)) {
      throw new IllegalArgumentException(
          field + " must not contain control characters, was '" + printable(value) + "'");
    }
    return value;
  }

  /**
   * Renders a value for an error message: control characters as {@code \}{@code uXXXX} escapes.
   *
   * @param value any text
   * @return the text with its control characters escaped
   */
  public static String printable(String value) {
    StringBuilder s = new StringBuilder(value.length());
    value
        .codePoints()
        .forEach(
            c -> {
              if (Character.isISOControl(c)) {
                s.append(String.format("\\u%04x", c));
              } else {
                s.appendCodePoint(c);
              }
            });
    return s.toString();
  }

  private static String hash(String text) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest).substring(0, HASH_HEX_CHARS);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
