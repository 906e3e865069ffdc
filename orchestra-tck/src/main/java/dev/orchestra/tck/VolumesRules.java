package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.orchestra.Driver;
import dev.orchestra.Volume;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Named volumes of a namespace. */
abstract class VolumesRules extends DriverRules {

  VolumesRules(DriverTck kit) {
    super(kit);
  }

  @Test
  @DisplayName("name() is the caller's name, even one a platform must sanitise")
  void nameIsCallersName() {
    String name = "Build Cache #1 ✓";
    Volume v = driver.createVolume(name, 0);

    assertThat(v.name()).isEqualTo(name);
    assertSucceeded(runToEnd(task("write", sh("echo kept > ./v/file")).mount(name, "v").build()));
    assertThat(readFile(driver, name, "file")).isEqualTo("kept\n");
  }

  @Test
  @DisplayName("creating a known volume again returns it with its data")
  void createAgainKeepsData() {
    driver.createVolume("data", 0);
    assertSucceeded(runToEnd(task("write", sh("echo kept > ./v/file")).mount("data", "v").build()));

    Volume again = driver.createVolume("data", 0);

    assertThat(again.name()).isEqualTo("data");
    assertThat(readFile(driver, "data", "file")).isEqualTo("kept\n");
  }

  @Test
  @DisplayName("cleanup() deletes the volume's data and may be called any number of times")
  void cleanupDeletesData() {
    Volume v = driver.createVolume("data", 0);
    assertSucceeded(runToEnd(task("write", sh("echo gone > ./v/file")).mount("data", "v").build()));

    v.cleanup();
    v.cleanup();
    v.cleanup();

    Result look = runToEnd(task("look", sh("test ! -e ./v/file")).mount("data", "v").build());
    assertThat(look.exitCode()).as("exit code of 'test ! -e' on the cleaned volume").isZero();
  }

  @Test
  @DisplayName("two namespaces do not see each other's volume of the same name")
  void namespacesIsolated() {
    Driver other = open(newNamespace());
    assertSucceeded(
        runToEnd(task("write", sh("echo mine > ./v/file")).mount("shared", "v").build()));
    assertSucceeded(
        runToEnd(other, task("write", sh("echo theirs > ./v/file")).mount("shared", "v").build()));

    assertThat(readFile(driver, "shared", "file")).as("this namespace").isEqualTo("mine\n");
    assertThat(readFile(other, "shared", "file")).as("other namespace").isEqualTo("theirs\n");
  }

  @Test
  @DisplayName("sizeBytes 0 (platform default) and a positive size are accepted")
  void sizesAccepted() {
    assertThat(driver.createVolume("default-size", 0).name()).isEqualTo("default-size");
    assertThat(driver.createVolume("sized", 64L * MIB).name()).isEqualTo("sized");
  }

  @Test
  @DisplayName("a negative size is refused with IllegalArgumentException naming it")
  void negativeSizeRefused() {
    assertThatThrownBy(() -> driver.createVolume("negative", -1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("-1");
  }
}
