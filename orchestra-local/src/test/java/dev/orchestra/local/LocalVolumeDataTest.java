package dev.orchestra.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import dev.orchestra.tck.VolumeRoundTrip;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** A volume's data in constant memory: this module's tests run with a 64 MB heap. */
class LocalVolumeDataTest {

  @Test
  void aGigabyteRoundTripInConstantMemory() throws Exception {
    try (Driver driver = Orchestra.open("local", "vdbig-" + UUID.randomUUID())) {
      VolumeRoundTrip.Figures figures =
          VolumeRoundTrip.run(driver.createVolume("big", 0), 1L << 30);

      System.out.println("local: " + figures);
      assertThat(figures.peakHeapBytes()).isLessThanOrEqualTo(Runtime.getRuntime().maxMemory());
    }
  }
}
