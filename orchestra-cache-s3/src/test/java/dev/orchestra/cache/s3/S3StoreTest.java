package dev.orchestra.cache.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.cache.CacheStore;
import dev.orchestra.cache.Compression;
import dev.orchestra.cache.TestVolumes;
import dev.orchestra.cache.VolumeCache;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/** {@link S3Store} and {@link VolumeCache} against a real S3-compatible server, S3Proxy. */
class S3StoreTest {

  private static S3ProxyServer server;
  private String bucket;
  private S3Store store;
  private MemoryDriver driver;

  @BeforeAll
  static void startServer() throws Exception {
    server = new S3ProxyServer();
  }

  @AfterAll
  static void stopServer() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  @BeforeEach
  void setUp(TestInfo test) {
    bucket = "b-" + test.getTestMethod().orElseThrow().getName().toLowerCase().substring(0, 20);
    server.createBucket(bucket);
    store = server.store(bucket).prefix("ci/").build();
    driver = new MemoryDriver();
  }

  @AfterEach
  void tearDown() {
    driver.close();
    store.close();
    server.blobStore().deleteContainer(bucket);
  }

  @Test
  void entriesRoundTripAndAMissIsEmpty() throws IOException {
    assertThat(store.get("absent")).isEmpty();

    store.put("k", out -> out.write("hello".getBytes(StandardCharsets.UTF_8)));
    store.put("k", out -> out.write("hello again".getBytes(StandardCharsets.UTF_8)));

    try (InputStream in = store.get("k").orElseThrow()) {
      assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("hello again");
    }
    assertThat(server.blobStore().blobExists(bucket, "ci/k")).isTrue();
    store.delete("k");
    store.delete("k");
    assertThat(store.get("k")).isEmpty();
  }

  @Test
  void aVolumeIsSavedAndRestoredThroughTheCache() throws IOException {
    var cache = VolumeCache.of(driver, store, Compression.GZIP);
    var volume = driver.createVolume("deps", 0).contents(20_000_000, 7);

    assertThat(cache.save(volume, "deps-1")).isTrue();
    var restored = cache.restore("deps-restored", "deps-1");

    assertThat(restored.hit()).isTrue();
    var got = (MemoryDriver.GeneratedVolume) restored.volume();
    assertThat(got.receivedBytes()).isEqualTo(20_000_000);
    assertThat(got.receivedCrc()).isEqualTo(TestVolumes.generate(20_000_000, 7, null));
    assertThat(server.blobStore().blobExists(bucket, "ci/deps-1.tar.gz")).isTrue();
  }

  @Test
  void aCorruptEntryIsLoggedAndTheVolumeStartsEmpty() {
    store.put("k.tar.gz", out -> out.write("this is not gzip".getBytes(StandardCharsets.UTF_8)));

    var restored = VolumeCache.of(driver, store).restore("deps", "k");

    assertThat(restored.hit()).isFalse();
    assertThat(((MemoryDriver.GeneratedVolume) restored.volume()).receivedBytes()).isZero();
  }

  @Test
  void aMissingBucketIsAStoreFailureNotABuildFailure() {
    try (var nowhere = server.store("no-such-bucket").build()) {
      var cache = VolumeCache.of(driver, nowhere);
      assertThat(cache.restore("deps", "k").hit()).isFalse();
      assertThat(cache.save(driver.createVolume("deps", 0).contents(10, 1), "k")).isFalse();
      assertThatThrownBy(() -> nowhere.get("k"))
          .isInstanceOf(OrchestraException.class)
          .hasMessageContaining("s3://no-such-bucket/k");
    }
  }

  @Test
  void anInterruptedSaveAbortsTheUploadAndLeavesNoEntry() throws Exception {
    var endless = new TestVolumes.EndlessVolume();
    var cache = VolumeCache.of(driver, store, Compression.NONE);
    var thrown = new AtomicReference<Throwable>();
    Thread saver =
        new Thread(
            () -> {
              try {
                cache.save(endless, "k");
              } catch (Throwable t) {
                thrown.set(t);
              }
            });
    saver.start();
    try {
      // Past three parts: a multipart upload with parts on the server.
      await().atMost(Duration.ofSeconds(60)).until(() -> endless.written() > 3L * (8 << 20));
      saver.interrupt();
      saver.join(60_000);
    } finally {
      saver.interrupt();
      saver.join(60_000);
    }

    assertThat(thrown.get()).isInstanceOf(OrchestraInterruptedException.class);
    assertThat(store.get("k.tar")).isEmpty();
    assertThat(server.files()).isEmpty();
  }

  @Test
  void aLargeEntryGoesThroughAMultipartUploadInConstantMemory() throws IOException {
    long size = 200L << 20;
    var cache = VolumeCache.of(driver, store, Compression.NONE);
    var volume = driver.createVolume("big", 0).contents(size, 42);

    assertThat(cache.save(volume, "big")).isTrue();
    var restored = cache.restore("big-restored", "big");

    var got = (MemoryDriver.GeneratedVolume) restored.volume();
    assertThat(restored.hit()).isTrue();
    assertThat(got.receivedBytes()).isEqualTo(size);
    assertThat(got.receivedCrc()).isEqualTo(TestVolumes.generate(size, 42, null));
  }

  @Test
  void keysAreCheckedBeforeAnyRequest() {
    assertThatThrownBy(() -> store.get("../x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'../x'");
    assertThatThrownBy(() -> CacheStore.checkKey("a/b")).hasMessageContaining("'a/b'");
    assertThatThrownBy(() -> S3Store.builder("b").partSize(1 << 20))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("5 MiB");
  }
}
