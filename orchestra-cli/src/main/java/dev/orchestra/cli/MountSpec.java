package dev.orchestra.cli;

import dev.orchestra.Mount;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Reads a {@code -v VOLUME:PATH} argument into a {@link Mount}. */
final class MountSpec {

  private MountSpec() {}

  /**
   * Splits a {@code VOLUME:PATH} argument at its first {@code :} and checks both halves as {@link
   * Mount} does.
   *
   * @param text the argument
   * @return the mount
   * @throws IllegalArgumentException naming the text if it has no {@code :}, or the volume name or
   *     the path is invalid
   */
  static Mount parse(String text) {
    int colon = text.indexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException("expected VOLUME:PATH, was '" + text + "' (no ':')");
    }
    return new Mount(text.substring(0, colon), text.substring(colon + 1));
  }

  /** Converts an option's value with {@link #parse(String)}. */
  static final class Converter implements ITypeConverter<Mount> {
    @Override
    public Mount convert(String value) {
      try {
        return parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
