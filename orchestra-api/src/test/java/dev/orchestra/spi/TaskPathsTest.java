package dev.orchestra.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class TaskPathsTest {

  @ParameterizedTest
  @CsvSource({"/test,test", "test,test", "cache/m2,cache/m2", "/a//b/./c/,a/b/c", "./x,x"})
  void normalisesBothForms(String given, String expected) {
    assertThat(TaskPaths.requireRelativePath("mount path", given, false)).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(strings = {"/", "", ".", "//./"})
  void theTaskDirectoryItselfOnlyWhenAllowed(String given) {
    assertThat(TaskPaths.requireRelativePath("workDir", given, true)).isEqualTo(".");
    assertThatThrownBy(() -> TaskPaths.requireRelativePath("mount path", given, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("mount path");
  }

  @ParameterizedTest
  @ValueSource(strings = {"..", "../../etc", "a/../b", "/..", "a/..", "x\0y"})
  void refusesDotDotAndControlCharacters(String given) {
    assertThatThrownBy(() -> TaskPaths.requireRelativePath("mount path", given, true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("mount path");
  }

  @Test
  void resolvesInsideALocalTaskDirectory() {
    Path dir = Path.of("/tmp/orchestra/t1");

    assertThat(TaskPaths.resolve(dir, "mount path", "/cache/m2"))
        .isEqualTo(Path.of("/tmp/orchestra/t1/cache/m2"));
    assertThat(TaskPaths.resolve(dir, "workDir", "/")).isEqualTo(dir);
    assertThatThrownBy(() -> TaskPaths.resolve(dir, "mount path", "../../etc"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void resolvesInsideAContainerTaskDirectory() {
    assertThat(TaskPaths.resolve("/tmp/orchestra/ns-t", "mount path", "test"))
        .isEqualTo("/tmp/orchestra/ns-t/test");
    assertThat(TaskPaths.resolve("/tmp/orchestra/ns-t/", "workDir", "."))
        .isEqualTo("/tmp/orchestra/ns-t");
  }
}
