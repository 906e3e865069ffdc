package dev.orchestra.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.Volume;
import dev.orchestra.spi.Exceptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class VolumeCacheTest {

  @TempDir Path temp;
  private DataDriver first;
  private DataDriver second;
  private DirectoryStore store;

  @BeforeEach
  void setUp() {
    first = new DataDriver(temp.resolve("first"));
    second = new DataDriver(temp.resolve("second"));
    store = new DirectoryStore(temp.resolve("store"));
  }

  @AfterEach
  void tearDown() {
    first.close();
    second.close();
  }

  @ParameterizedTest
  @EnumSource(Compression.class)
  void aSavedVolumeIsRestoredInAnotherBuild(Compression compression) throws IOException {
    var build1 = VolumeCache.of(first, store, compression);
    var restored = build1.restore("deps", "deps-v1");
    assertThat(restored.hit()).isFalse();
    fill((DataDriver.DirVolume) restored.volume());

    assertThat(build1.save(restored.volume(), "deps-v1")).isTrue();
    assertThat(store.directory().resolve("deps-v1" + compression.extension())).isRegularFile();

    var again = VolumeCache.of(second, store, compression).restore("deps", "deps-v1");
    assertThat(again.hit()).isTrue();
    Path dir = ((DataDriver.DirVolume) again.volume()).dir();
    assertThat(dir.resolve("a/b/hello.txt")).hasContent("hello");
    assertThat(dir.resolve("empty")).isEmptyDirectory();
    assertThat(Files.size(dir.resolve("big.bin"))).isEqualTo(3_000_001);
    assertThat(dir.resolve("big.bin")).hasSameBinaryContentAs(temp.resolve("first/deps/big.bin"));
  }

  @Test
  void aDriverWithoutVolumeDataIsRefusedByName() {
    try (var plain = new DataDriver(temp.resolve("plain"), false)) {
      assertThatThrownBy(() -> VolumeCache.of(plain, store))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("'data-double'")
          .hasMessageContaining("VOLUME_DATA");
    }
  }

  @Test
  void badKeysAreRefusedBeforeAnythingIsCreated() {
    var cache = VolumeCache.of(first, store);
    assertThatThrownBy(() -> cache.restore("deps", "../etc"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'../etc'");
    assertThatThrownBy(() -> cache.save(first.createVolume("deps", 0), "x".repeat(241)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("240");
    assertThat(cache.entryName("k")).isEqualTo("k.tar.gz");
    assertThat(temp.resolve("first")).satisfies(p -> assertThat(list(p)).containsExactly("deps"));
  }

  @Test
  void aStoreThatFailsToReadGivesAnEmptyVolume() {
    CacheStore broken =
        new CacheStore() {
          @Override
          public Optional<InputStream> get(String key) {
            throw new UncheckedIOException(new IOException("connection refused"));
          }

          @Override
          public void put(String key, EntryWriter writer) {
            throw new UncheckedIOException(new IOException("connection refused"));
          }

          @Override
          public void delete(String key) {}
        };
    var cache = VolumeCache.of(first, broken);
    var restored = cache.restore("deps", "k");
    assertThat(restored.hit()).isFalse();
    assertThat(((DataDriver.DirVolume) restored.volume()).dir()).isEmptyDirectory();
    assertThat(cache.save(restored.volume(), "k")).isFalse();
  }

  @Test
  void anEntryThatIsNotCompressedDataGivesAnEmptyVolume() throws IOException {
    Files.createDirectories(store.directory());
    Files.writeString(store.directory().resolve("k.tar.gz"), "not gzip at all");

    var restored = VolumeCache.of(first, store).restore("deps", "k");

    assertThat(restored.hit()).isFalse();
    assertThat(((DataDriver.DirVolume) restored.volume()).dir()).isEmptyDirectory();
  }

  @ParameterizedTest
  @EnumSource(
      value = Compression.class,
      names = {"GZIP", "ZSTD"})
  void aTruncatedEntryIsUndoneAndGivesAnEmptyVolume(Compression compression) throws IOException {
    var cache = VolumeCache.of(first, store, compression);
    var volume = first.createVolume("deps", 0);
    fill(volume);
    assertThat(cache.save(volume, "k")).isTrue();
    Path entry = store.directory().resolve(cache.entryName("k"));
    byte[] whole = Files.readAllBytes(entry);
    Files.write(entry, java.util.Arrays.copyOf(whole, whole.length * 3 / 4));

    var restored = VolumeCache.of(second, store, compression).restore("deps", "k");

    assertThat(restored.hit()).isFalse();
    assertThat(((DataDriver.DirVolume) restored.volume()).dir()).isEmptyDirectory();
  }

  @Test
  void aDamagedChecksumAtTheEndIsNotTakenAsGood() throws IOException {
    var cache = VolumeCache.of(first, store);
    var volume = first.createVolume("deps", 0);
    fill(volume);
    assertThat(cache.save(volume, "k")).isTrue();
    Path entry = store.directory().resolve("k.tar.gz");
    byte[] bytes = Files.readAllBytes(entry);
    bytes[bytes.length - 6] ^= 0x5a; // inside gzip's CRC-32 trailer
    Files.write(entry, bytes);

    var restored = VolumeCache.of(second, store).restore("deps", "k");

    assertThat(restored.hit()).isFalse();
    assertThat(((DataDriver.DirVolume) restored.volume()).dir()).isEmptyDirectory();
  }

  @Test
  void aSaveThatFailsKeepsTheOldEntry() throws IOException {
    var cache = VolumeCache.of(first, store);
    var volume = first.createVolume("deps", 0);
    fill(volume);
    assertThat(cache.save(volume, "k")).isTrue();
    byte[] good = Files.readAllBytes(store.directory().resolve("k.tar.gz"));

    Volume failing =
        new TestVolumes.EndlessVolume() {
          @Override
          public void copyOut(OutputStream tar) {
            try {
              tar.write(new byte[1 << 20]);
            } catch (IOException e) {
              throw Exceptions.launder("copying", e);
            }
            throw new OrchestraException("the volume went away");
          }
        };
    assertThat(cache.save(failing, "k")).isFalse();

    assertThat(store.directory().resolve("k.tar.gz")).hasBinaryContent(good);
    assertThat(list(store.directory())).containsExactly("k.tar.gz");
  }

  @Test
  void anInterruptedSaveLeavesNoEntryAndKeepsTheInterrupt() throws Exception {
    var cache = VolumeCache.of(first, store);
    var thrown = new AtomicReference<Throwable>();
    var flagAfter = new AtomicReference<Boolean>();
    Thread saver =
        new Thread(
            () -> {
              try {
                cache.save(new TestVolumes.EndlessVolume(), "k");
              } catch (Throwable t) {
                thrown.set(t);
              }
              flagAfter.set(Thread.currentThread().isInterrupted());
            });
    saver.start();
    try {
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> Files.isDirectory(store.directory()) && !list(store.directory()).isEmpty());
      saver.interrupt();
      saver.join(30_000);
    } finally {
      saver.interrupt();
      saver.join(30_000);
    }

    assertThat(thrown.get()).isInstanceOf(OrchestraInterruptedException.class);
    assertThat(flagAfter.get()).isTrue();
    assertThat(list(store.directory())).isEmpty();
  }

  @Test
  void anInterruptedRestoreLeavesAnEmptyVolumeAndKeepsTheInterrupt() throws IOException {
    var volume = first.createVolume("deps", 0);
    fill(volume);
    assertThat(VolumeCache.of(first, store).save(volume, "k")).isTrue();
    CacheStore interrupting =
        new CacheStore() {
          @Override
          public Optional<InputStream> get(String key) {
            InputStream entry = store.get(key).orElseThrow();
            return Optional.of(
                new java.io.FilterInputStream(entry) {
                  private long read;

                  @Override
                  public int read(byte[] b, int off, int len) throws IOException {
                    int n = super.read(b, off, len);
                    read += Math.max(n, 0);
                    if (read > 1_000_000) {
                      Thread.currentThread().interrupt(); // as if another thread interrupted
                    }
                    return n;
                  }
                });
          }

          @Override
          public void put(String key, EntryWriter writer) {
            store.put(key, writer);
          }

          @Override
          public void delete(String key) {
            store.delete(key);
          }
        };

    try {
      assertThatThrownBy(() -> VolumeCache.of(second, interrupting).restore("deps", "k"))
          .isInstanceOf(OrchestraInterruptedException.class);
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
    assertThat(second.createVolume("deps", 0).dir()).isEmptyDirectory();
  }

  @Test
  void zstdIsAvailableWhenZstdJniIsPresent() {
    assertThat(Compression.ZSTD.isAvailable()).isTrue();
    assertThat(Compression.GZIP.isAvailable()).isTrue();
  }

  static void fill(DataDriver.DirVolume volume) throws IOException {
    Path dir = volume.dir();
    Files.createDirectories(dir.resolve("a/b"));
    Files.createDirectories(dir.resolve("empty"));
    Files.writeString(dir.resolve("a/b/hello.txt"), "hello", StandardCharsets.UTF_8);
    byte[] big = new byte[3_000_001];
    new java.util.Random(42).nextBytes(big);
    Files.write(dir.resolve("big.bin"), big);
    for (int i = 0; i < 20; i++) {
      Files.writeString(dir.resolve("a/file-" + i + ".txt"), "line\n".repeat(1000 + i));
    }
  }

  static List<String> list(Path dir) throws IOException {
    try (Stream<Path> list = Files.list(dir)) {
      return list.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
