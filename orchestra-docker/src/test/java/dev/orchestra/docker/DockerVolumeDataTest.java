package dev.orchestra.docker;

import static dev.orchestra.docker.DockerTesting.TASK_TIMEOUT;
import static dev.orchestra.docker.DockerTesting.containersOf;
import static dev.orchestra.docker.DockerTesting.namespace;
import static dev.orchestra.docker.DockerTesting.open;
import static dev.orchestra.docker.DockerTesting.volumesOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.orchestra.Driver;
import dev.orchestra.ImageNotFoundException;
import dev.orchestra.OrchestraInterruptedException;
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
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
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

  /**
   * The create of a copy's helper container is cut off by an interrupt, and the engine carries it
   * out late (the proxy hands the request over two seconds later, as a loaded engine may take that
   * long): close() right after the interrupted copy still leaves nothing, even once the late
   * request has reached the engine.
   */
  @Test
  void aHelperCreatedAfterItsCopyWasInterruptedIsRemoved() throws Exception {
    String ns = namespace("vdlate");
    String dockerHost = System.getenv().getOrDefault("DOCKER_HOST", "unix:///var/run/docker.sock");
    Assumptions.assumeTrue(dockerHost.startsWith("unix://"), "the engine is at " + dockerHost);
    Path socket = Path.of(dockerHost.substring("unix://".length()));
    try (TcpToUnixProxy proxy = TcpToUnixProxy.unixToUnix(socket)) {
      Driver driver = open(ns, Map.of(DockerDriverProvider.HOST, proxy.host()));
      try {
        Volume v = driver.createVolume("data", 0);
        proxy.holdRequests(Pattern.compile("POST /\\S*containers/create"), Duration.ofSeconds(2));
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread copier =
            new Thread(
                () -> {
                  try {
                    v.copyOut(OutputStream.nullOutputStream());
                  } catch (RuntimeException e) {
                    thrown.set(e);
                  }
                });
        copier.start();
        await().atMost(TASK_TIMEOUT).until(() -> proxy.requestsHeld() > 0);
        copier.interrupt();
        copier.join(TASK_TIMEOUT.toMillis());

        assertThat(copier.isAlive()).as("the interrupted copy returned").isFalse();
        assertThat(thrown.get()).isInstanceOf(OrchestraInterruptedException.class);
        driver.close();
        await()
            .during(Duration.ofSeconds(4))
            .atMost(Duration.ofSeconds(10))
            .untilAsserted(
                () -> {
                  assertThat(containersOf(ns)).as("containers of the closed namespace").isEmpty();
                  assertThat(volumesOf(ns)).as("volumes of the closed namespace").isEmpty();
                });
      } finally {
        driver.close();
        open(ns).close();
      }
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
