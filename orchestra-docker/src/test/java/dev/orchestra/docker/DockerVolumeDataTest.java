package dev.orchestra.docker;

import static dev.orchestra.docker.DockerTesting.containersOf;
import static dev.orchestra.docker.DockerTesting.namespace;
import static dev.orchestra.docker.DockerTesting.open;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.orchestra.Driver;
import dev.orchestra.ImageNotFoundException;
import dev.orchestra.Volume;
import dev.orchestra.spi.TarEntry;
import dev.orchestra.spi.TarWriter;
import dev.orchestra.tck.VolumeRoundTrip;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Volume data as only the Docker driver moves it: through a helper container that is always
 * removed, of an image that is never pulled.
 */
@RequiresDocker
class DockerVolumeDataTest {

  @Test
  void theHelperContainerGoesAfterEveryCopyAlsoARefusedOne() throws Exception {
    String ns = namespace("vdhelper");
    try (Driver driver = open(ns)) {
      Volume v = driver.createVolume("data", 0);

      v.copyIn(archive(file("f", "x")));
      v.copyOut(OutputStream.nullOutputStream());
      assertThatThrownBy(() -> v.copyIn(archive(link("l", "/etc"), file("l/passwd", "x"))))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("l/passwd");

      assertThat(containersOf(ns)).as("containers of the namespace after the copies").isEmpty();
    }
  }

  @Test
  void aMissingHelperImageIsNamedAndNeverPulled() throws Exception {
    String ns = namespace("vdimage");
    String image = "orchestra-no-such-helper:0";
    try (Driver driver = open(ns, Map.of(DockerDriverProvider.VOLUME_HELPER_IMAGE, image))) {
      Volume v = driver.createVolume("data", 0);

      assertThatThrownBy(() -> v.copyIn(archive(file("f", "x"))))
          .isInstanceOf(ImageNotFoundException.class)
          .hasMessageContaining("'" + image + "'")
          .hasMessageContaining(DockerDriverProvider.VOLUME_HELPER_IMAGE);
      assertThat(containersOf(ns)).as("containers of the namespace").isEmpty();
    }
  }

  /** Runs in the {@code big-data} execution, with a 64 MB heap. */
  @Test
  @Tag("big-data")
  void aGigabyteRoundTripInConstantMemory() throws Exception {
    try (Driver driver = open(namespace("vdbig"))) {
      VolumeRoundTrip.Figures figures =
          VolumeRoundTrip.run(driver.createVolume("big", 0), 1L << 30);

      System.out.println("docker: " + figures);
      assertThat(figures.peakHeapBytes()).isLessThanOrEqualTo(Runtime.getRuntime().maxMemory());
    }
  }

  private static TarEntry file(String name, String content) {
    return new TarEntry(name, TarEntry.Type.FILE, 0644, content.length(), 1_700_000_000L, "", 0, 0);
  }

  private static TarEntry link(String name, String target) {
    return new TarEntry(name, TarEntry.Type.SYMLINK, 0777, 0, 1_700_000_000L, target, 0, 0);
  }

  private static InputStream archive(TarEntry... entries) throws IOException {
    var out = new ByteArrayOutputStream();
    TarWriter writer = new TarWriter(out);
    for (TarEntry e : entries) {
      writer.add(
          e, new ByteArrayInputStream("x".repeat((int) e.size()).getBytes(StandardCharsets.UTF_8)));
    }
    writer.finish();
    return new ByteArrayInputStream(out.toByteArray());
  }
}
