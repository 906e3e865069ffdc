package dev.orchestra.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 1 GiB volume saved to and restored from the directory store in a JVM of 64 MiB heap (this
 * module's surefire argLine): the data must stream all the way, never be held. zstd, because gzip
 * takes minutes for a gibibyte on a small machine; both compressors stream the same way.
 */
class LargeVolumeRoundTripTest {

  private static final long SIZE = 1L << 30;

  @TempDir Path temp;
  private DataDriver first;
  private DataDriver second;

  @AfterEach
  void tearDown() {
    if (first != null) {
      first.close();
    }
    if (second != null) {
      second.close();
    }
  }

  @Test
  void aGibibyteVolumeRoundTripsAtASmallHeap() throws IOException {
    assertThat(Runtime.getRuntime().maxMemory()).isLessThan(SIZE / 8);
    first = new DataDriver(temp.resolve("first"));
    second = new DataDriver(temp.resolve("second"));
    var store = new DirectoryStore(temp.resolve("store"));
    var volume = first.createVolume("big", 0);
    long crc;
    try (OutputStream out = Files.newOutputStream(volume.dir().resolve("data.bin"))) {
      crc = TestVolumes.generate(SIZE, 1, out);
    }

    assertThat(VolumeCache.of(first, store, Compression.ZSTD).save(volume, "big")).isTrue();
    volume.cleanup();
    var restored = VolumeCache.of(second, store, Compression.ZSTD).restore("big", "big");

    assertThat(restored.hit()).isTrue();
    Path data = ((DataDriver.DirVolume) restored.volume()).dir().resolve("data.bin");
    assertThat(Files.size(data)).isEqualTo(SIZE);
    try (InputStream in = Files.newInputStream(data)) {
      assertThat(TestVolumes.lengthAndCrc(in)).containsExactly(SIZE, crc);
    }
  }
}
