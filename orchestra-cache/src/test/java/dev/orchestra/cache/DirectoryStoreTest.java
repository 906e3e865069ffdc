package dev.orchestra.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DirectoryStoreTest {

  @TempDir Path dir;

  @Test
  void aMissingEntryIsEmptyAndAWrittenOneReadsBack() throws IOException {
    var store = new DirectoryStore(dir.resolve("not-yet"));
    assertThat(store.get("k1")).isEmpty();

    store.put("k1", out -> out.write("one".getBytes(StandardCharsets.UTF_8)));
    store.put("k1", out -> out.write("two".getBytes(StandardCharsets.UTF_8)));

    assertThat(read(store, "k1")).isEqualTo("two");
    store.delete("k1");
    store.delete("k1");
    assertThat(store.get("k1")).isEmpty();
  }

  @Test
  void aWriterThatFailsLeavesTheOldEntryAndNoTemporaryFile() throws IOException {
    var store = new DirectoryStore(dir);
    store.put("k", out -> out.write("old".getBytes(StandardCharsets.UTF_8)));

    assertThatThrownBy(
            () ->
                store.put(
                    "k",
                    out -> {
                      out.write(new byte[100_000]);
                      throw new IOException("disk on fire");
                    }))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining("disk on fire");

    assertThat(read(store, "k")).isEqualTo("old");
    assertThat(files()).containsExactly("k");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"a/b", "..", ".hidden", "a b", "tab\there", "new\nline", "back\\slash", "é"})
  void keysThatAreNotSafeFileNamesAreRefusedByName(String key) {
    var store = new DirectoryStore(dir);
    assertThatThrownBy(() -> store.put(key, out -> {}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cache key");
    assertThatThrownBy(() -> store.get(key)).isInstanceOf(IllegalArgumentException.class);
    assertThat(dir).isEmptyDirectory();
  }

  @Test
  void keyErrorsShowTheKeyWithControlCharactersEscaped() {
    assertThatThrownBy(() -> CacheStore.checkKey("a\nb"))
        .hasMessageContaining("'a\\u000ab'")
        .hasMessageContaining("U+000A at index 1");
    assertThatThrownBy(() -> CacheStore.checkKey("")).hasMessageContaining("1 to 255");
    assertThatThrownBy(() -> CacheStore.checkKey("x".repeat(256))).hasMessageContaining("1 to 255");
    assertThat(CacheStore.checkKey("maven-3.9_linux+jdk17=a@b,c.tar.gz"))
        .isEqualTo("maven-3.9_linux+jdk17=a@b,c.tar.gz");
  }

  private List<String> files() throws IOException {
    try (Stream<Path> list = Files.list(dir)) {
      return list.map(p -> p.getFileName().toString()).toList();
    }
  }

  private static String read(CacheStore store, String key) throws IOException {
    try (InputStream in = store.get(key).orElseThrow()) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
