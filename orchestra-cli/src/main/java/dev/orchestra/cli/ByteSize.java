package dev.orchestra.cli;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Reads a size as people write it: {@code 512k}, {@code 128m}, {@code 1g}, or plain bytes. */
final class ByteSize {

  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([kmgt]?)b?");

  private ByteSize() {}

  /**
   * Parses a size: a whole number of bytes, optionally followed by {@code k}, {@code m}, {@code g}
   * or {@code t} (powers of 1024, either case, an optional trailing {@code b}).
   *
   * @param text the size as written
   * @return the size in bytes
   * @throws IllegalArgumentException naming the text if it is not a size or too large
   */
  static long parse(String text) {
    Matcher m = SIZE.matcher(text.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "expected a size such as 512k, 128m, 1g or a number of bytes, was '" + text + "'");
    }
    int shift =
        switch (m.group(2)) {
          case "k" -> 10;
          case "m" -> 20;
          case "g" -> 30;
          case "t" -> 40;
          default -> 0;
        };
    try {
      long number = Long.parseLong(m.group(1));
      if (number > (Long.MAX_VALUE >> shift)) {
        throw new NumberFormatException();
      }
      return number << shift;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("size '" + text + "' is too large", e);
    }
  }

  /** Converts an option's value with {@link #parse(String)}. */
  static final class Converter implements ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      try {
        return parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
