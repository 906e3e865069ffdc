package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Mount paths are resolved inside the task directory. */
abstract class MountsRules extends DriverRules {

  MountsRules(DriverTck kit) {
    super(kit);
  }

  @Test
  @DisplayName("mount paths '/x' and 'x' reach the same volume")
  void absoluteAndRelativeSame() {
    assertSucceeded(runToEnd(task("absolute", sh("echo a > ./x/file")).mount("vol", "/x").build()));
    Result relative =
        runToEnd(
            task("relative", sh("echo b >> ./x/file && cat ./x/file")).mount("vol", "x").build());
    assertThat(assertSucceeded(relative)).as("file read through mount 'x'").isEqualTo("a\nb\n");

    Result again = runToEnd(task("absolute-again", "cat", "./x/file").mount("vol", "/x").build());
    assertThat(assertSucceeded(again)).as("file read through mount '/x'").isEqualTo("a\nb\n");
  }

  @Test
  @DisplayName("a nested mount path 'cache/m2' works, its parents created")
  void nestedMountPath() {
    assertSucceeded(
        runToEnd(
            task("nested", sh("test -d ./cache && echo m2 > ./cache/m2/file"))
                .mount("m2", "cache/m2")
                .build()));

    assertThat(readFile(driver, "m2", "file")).isEqualTo("m2\n");
  }

  @Test
  @DisplayName("two volumes mounted in one task stay separate")
  void twoVolumesSeparate() {
    assertSucceeded(
        runToEnd(
            task("both", sh("echo A > ./a/file && echo B > ./b/file"))
                .mount("vol-a", "a")
                .mount("vol-b", "b")
                .build()));

    assertThat(readFile(driver, "vol-a", "file")).as("file in vol-a").isEqualTo("A\n");
    assertThat(readFile(driver, "vol-b", "file")).as("file in vol-b").isEqualTo("B\n");
  }
}
