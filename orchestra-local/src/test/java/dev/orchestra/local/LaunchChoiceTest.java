package dev.orchestra.local;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Which launch the driver uses. The build runs the driver's lifecycle tests once more with {@code
 * -Dorchestra.local.spawn=jdk}, so that both launches are proven.
 */
class LaunchChoiceTest {

  @Test
  void thePropertyChoosesTheJdksLaunchElseLinuxUsesPosixSpawn() {
    if ("jdk".equals(System.getProperty(PosixSpawn.PROPERTY))) {
      assertThat(PosixSpawn.unavailable())
          .contains("the system property orchestra.local.spawn is 'jdk'");
    } else if (System.getProperty("os.name").equals("Linux")) {
      // CI runs Linux with a recent glibc and kernel: a launch that fell back there is a failure.
      assertThat(PosixSpawn.unavailable()).isEmpty();
    }
  }
}
