package dev.orchestra.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * One {@code KEY=VALUE} argument, as given to {@code -e} and {@code --param}: split at the first
 * {@code =}, so the value may hold more of them, and may be empty.
 *
 * @param key the text before the first {@code =}, not empty
 * @param value the text after it
 */
record KeyValue(String key, String value) {

  /**
   * Splits a {@code KEY=VALUE} argument.
   *
   * @param text the argument
   * @return the key and value
   * @throws IllegalArgumentException naming the text if it has no {@code =} or an empty key
   */
  static KeyValue parse(String text) {
    int eq = text.indexOf('=');
    if (eq < 0) {
      throw new IllegalArgumentException("expected KEY=VALUE, was '" + text + "' (no '=')");
    }
    if (eq == 0) {
      throw new IllegalArgumentException("expected KEY=VALUE, was '" + text + "' (empty key)");
    }
    return new KeyValue(text.substring(0, eq), text.substring(eq + 1));
  }

  /**
   * Collects arguments into a map; a later value of a key replaces an earlier one.
   *
   * @param pairs the arguments, in the order given
   * @return the map, in the order keys were first given
   */
  static Map<String, String> toMap(List<KeyValue> pairs) {
    Map<String, String> map = new LinkedHashMap<>();
    pairs.forEach(p -> map.put(p.key(), p.value()));
    return map;
  }

  /** Converts an option's value with {@link #parse(String)}. */
  static final class Converter implements ITypeConverter<KeyValue> {
    @Override
    public KeyValue convert(String value) {
      try {
        return parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
