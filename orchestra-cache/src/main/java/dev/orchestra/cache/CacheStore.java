package dev.orchestra.cache;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Optional;

/**
 * Where a {@link VolumeCache} keeps its entries: named byte streams, written whole or not at all.
 * Built in: {@link DirectoryStore}; S3-compatible object storage is in the module {@code
 * orchestra-cache-s3}. A store of your own implements these three methods.
 *
 * <p>Keys are checked by {@link #checkKey(String)} before they reach a store, so a store may use
 * them as file or object names as they are.
 *
 * <p>Implementations are thread-safe. Failures are unchecked ({@link java.io.UncheckedIOException}
 * or {@link dev.orchestra.OrchestraException}); an interrupted call restores the interrupt flag and
 * throws {@link dev.orchestra.OrchestraInterruptedException}.
 */
public interface CacheStore {

  /**
   * Opens an entry for reading.
   *
   * @param key the entry's key, valid by {@link #checkKey(String)}
   * @return the entry's bytes, which the caller closes; empty if there is no entry of this key
   */
  Optional<InputStream> get(String key);

  /**
   * Writes an entry, replacing one of the same key. The entry appears only once {@code writer} has
   * returned normally and the store has taken all its bytes (a temporary file renamed, a multipart
   * upload completed): if the writer throws or the thread is interrupted, nothing of the new entry
   * is visible and the old one, if any, is kept. The writer must not close the stream.
   *
   * @param key the entry's key, valid by {@link #checkKey(String)}
   * @param writer writes the entry's bytes to the stream it is given
   * @throws java.io.UncheckedIOException if the writer or the store fails
   */
  void put(String key, EntryWriter writer);

  /**
   * Deletes an entry. Deleting an absent entry does nothing.
   *
   * @param key the entry's key, valid by {@link #checkKey(String)}
   */
  void delete(String key);

  /**
   * Checks a key: 1 to 255 characters, each an ASCII letter, a digit or one of {@code . _ - + = @
   * ,}, not starting with a dot. Such a key is a safe file name and object name everywhere: no
   * {@code /}, no {@code ..}, no control characters, no spaces.
   *
   * @param key the key
   * @return the key
   * @throws IllegalArgumentException naming the key and the rule it breaks
   */
  static String checkKey(String key) {
    if (key == null || key.isEmpty() || key.length() > 255) {
      throw new IllegalArgumentException(
          "cache key must have 1 to 255 characters: " + (key == null ? "null" : quote(key)));
    }
    if (key.charAt(0) == '.') {
      throw new IllegalArgumentException("cache key must not start with a dot: " + quote(key));
    }
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || ".-_+=@,".indexOf(c) >= 0;
      if (!ok) {
        throw new IllegalArgumentException(
            "cache key "
                + quote(key)
                + " has the character "
                + String.format("U+%04X", (int) c)
                + " at index "
                + i
                + ": allowed are ASCII letters, digits and . _ - + = @ ,");
      }
    }
    return key;
  }

  private static String quote(String key) {
    var b = new StringBuilder("'");
    key.codePoints()
        .limit(240)
        .forEach(
            cp -> {
              if (Character.isISOControl(cp)) {
                b.append(String.format("\\u%04x", cp));
              } else {
                b.appendCodePoint(cp);
              }
            });
    return b.append('\'').toString();
  }

  /** Writes an entry's bytes; see {@link CacheStore#put(String, EntryWriter)}. */
  @FunctionalInterface
  interface EntryWriter {
    /**
     * Writes the whole entry.
     *
     * @param out where the bytes go; not to be closed
     * @throws IOException if writing fails: the entry is then discarded
     */
    void writeTo(OutputStream out) throws IOException;
  }
}
