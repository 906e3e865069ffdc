package dev.orchestra.cli;

import java.nio.file.Path;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * One {@code VOLUME=DIR} argument of {@code --copy-in} and {@code --copy-out}: a volume of the
 * namespace and a local directory, split at the first {@code =}.
 *
 * @param volume the volume's name, not empty
 * @param directory the local directory, not empty
 */
record VolumeCopy(String volume, Path directory) {

  /**
   * Splits a {@code VOLUME=DIR} argument.
   *
   * @param text the argument
   * @return the volume and directory
   * @throws IllegalArgumentException naming the text if it has no {@code =}, or an empty side
   */
  static VolumeCopy parse(String text) {
    int eq = text.indexOf('=');
    if (eq <= 0 || eq == text.length() - 1) {
      throw new IllegalArgumentException(
          "expected VOLUME=DIR, was '"
              + text
              + "'"
              + (eq < 0 ? " (no '=')" : eq == 0 ? " (empty volume)" : " (empty directory)"));
    }
    return new VolumeCopy(text.substring(0, eq), Path.of(text.substring(eq + 1)));
  }

  /** Converts an option's value with {@link #parse(String)}. */
  static final class Converter implements ITypeConverter<VolumeCopy> {
    @Override
    public VolumeCopy convert(String value) {
      try {
        return parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
