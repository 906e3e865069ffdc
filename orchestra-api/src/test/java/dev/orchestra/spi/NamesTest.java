package dev.orchestra.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NamesTest {

  private static final String SAFE = "[a-z0-9][a-z0-9_.-]*";

  @ParameterizedTest
  @ValueSource(strings = {"build-1", "a", "0", "v1.2.3", "my-namespace"})
  void keepsNamesThatAreAlreadySafe(String name) {
    assertThat(Names.safe(name)).isEqualTo(name);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "Build",
        "a/b",
        "a_b",
        "..",
        ".",
        "-x",
        "a b",
        "grüße",
        "a:b",
        "\0",
        "",
        "../../etc"
      })
  void hashesEverythingElseIntoASafeName(String name) {
    String safe = Names.safe(name);

    assertThat(safe).matches(SAFE).contains("_").hasSizeLessThanOrEqualTo(Names.MAX_SAFE_LENGTH);
    assertThat(safe).isEqualTo(Names.safe(name)); // stable
  }

  @Test
  void neverCollides() {
    List<String> names =
        List.of(
            "a/b",
            "a_b",
            "a-b",
            "A-B",
            "a b",
            "a:b",
            "a.b",
            "A/B",
            "ab",
            "a--b",
            "a_b_0",
            "x",
            "X",
            "x ",
            " x",
            "x".repeat(300),
            "x".repeat(301),
            "x".repeat(63),
            "x".repeat(64));
    Map<String, String> seen = new HashMap<>();
    for (String name : names) {
      String previous = seen.put(Names.safe(name), name);
      assertThat(previous).as("%s and %s collide", previous, name).isNull();
    }
    // a hashed name given verbatim maps elsewhere, since '_' always triggers hashing
    String hashed = Names.safe("A");
    assertThat(Names.safe(hashed)).isNotEqualTo(hashed);
  }

  @Test
  void honoursTheMaximumLength() {
    assertThat(Names.safe("x".repeat(300), 30)).hasSize(30).matches(SAFE);
    assertThat(Names.safe("x".repeat(30), 30)).isEqualTo("x".repeat(30));
    assertThatThrownBy(() -> Names.safe("x", 10)).isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {"..", ".", "a/b", "../../etc", "a\\b", "a\nb", " "})
  void refusesVolumeNamesThatCouldLeaveTheDriversArea(String name) {
    assertThatThrownBy(() -> Names.requireVolumeName(name))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("volume name");
  }

  @Test
  void acceptsOrdinaryVolumeNames() {
    assertThat(Names.requireVolumeName("cache")).isEqualTo("cache");
    assertThat(Names.requireVolumeName("Grüße ..x")).isEqualTo("Grüße ..x");
  }

  @Test
  void printableEscapesControlCharacters() {
    assertThat(Names.printable("a\0b\n")).isEqualTo("a\\u0000b\\u000a");
  }
}
