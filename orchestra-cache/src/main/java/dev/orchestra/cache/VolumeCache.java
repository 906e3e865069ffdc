package dev.orchestra.cache;

import dev.orchestra.Capability;
import dev.orchestra.Driver;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.Volume;
import dev.orchestra.spi.Exceptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cache of volumes between builds: {@link #restore(String, String)} creates a volume and fills it
 * from a {@link CacheStore} entry when one exists; {@link #save(Volume, String)} writes the volume
 * back as an entry when the caller says so (never by itself, never on close). The data is the
 * volume's tar stream ({@link Volume#copyOut(OutputStream)}), compressed ({@link Compression}) and
 * streamed both ways: memory stays constant whatever the volume's size.
 *
 * <p><b>A cache never fails the build it is meant to speed up.</b> A missing entry, a store that
 * fails, a corrupt or truncated entry: a restore logs it at WARN (with the key and the cause) and
 * returns an empty volume; a save logs it and returns {@code false}. What still throws: a key that
 * breaks the rules (a caller's bug), the driver failing to create or reset the volume itself, and
 * interruption ({@link OrchestraInterruptedException}, with the interrupt flag set; an interrupted
 * save leaves no entry, an interrupted restore leaves an empty volume).
 *
 * <p>Each restore and save is logged at INFO with the volume, the entry, the sizes (tar bytes and
 * stored bytes) and the time taken. See {@code docs/cache.md}.
 *
 * <p>Thread-safe; it holds no state but its three collaborators, and does not close the driver.
 */
public final class VolumeCache {

  private static final Logger LOG = LoggerFactory.getLogger(VolumeCache.class);

  /** Keys leave room for the extension within {@link CacheStore#checkKey(String)}'s 255. */
  private static final int MAX_KEY_LENGTH = 240;

  private final Driver driver;
  private final CacheStore store;
  private final Compression compression;

  private VolumeCache(Driver driver, CacheStore store, Compression compression) {
    this.driver = driver;
    this.store = store;
    this.compression = compression;
  }

  /**
   * A cache with gzip compression.
   *
   * @param driver a driver that declares {@link Capability#VOLUME_DATA}
   * @param store where the entries are kept
   * @return the cache
   * @throws IllegalArgumentException if the driver lacks {@link Capability#VOLUME_DATA}
   */
  public static VolumeCache of(Driver driver, CacheStore store) {
    return of(driver, store, Compression.GZIP);
  }

  /**
   * A cache with the given compression.
   *
   * @param driver a driver that declares {@link Capability#VOLUME_DATA}
   * @param store where the entries are kept
   * @param compression how entries are compressed
   * @return the cache
   * @throws IllegalArgumentException if the driver lacks {@link Capability#VOLUME_DATA}
   * @throws IllegalStateException if the compression is not {@linkplain Compression#isAvailable()
   *     available} here (zstd without zstd-jni)
   */
  public static VolumeCache of(Driver driver, CacheStore store, Compression compression) {
    Objects.requireNonNull(driver, "driver");
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(compression, "compression");
    if (!driver.capabilities().contains(Capability.VOLUME_DATA)) {
      throw new IllegalArgumentException(
          "driver '"
              + driver.name()
              + "' cannot move volume data (it does not declare Capability.VOLUME_DATA),"
              + " which a volume cache needs");
    }
    compression.requireAvailable();
    return new VolumeCache(driver, store, compression);
  }

  /**
   * The name of the store entry of a key: the key followed by the compression's extension.
   *
   * @param key a cache key
   * @return the entry's name in the store, for example {@code maven-3f2a.tar.gz}
   * @throws IllegalArgumentException if the key breaks {@link CacheStore#checkKey(String)}'s rules
   *     or is longer than 240 characters
   */
  public String entryName(String key) {
    CacheStore.checkKey(key);
    if (key.length() > MAX_KEY_LENGTH) {
      throw new IllegalArgumentException(
          "cache key is longer than " + MAX_KEY_LENGTH + " characters: '" + key + "'");
    }
    return key + compression.extension();
  }

  /**
   * Creates (or gets) a volume of the platform's default size and restores it from the entry of
   * {@code key}, if there is one.
   *
   * @param volumeName the volume's name, as for {@link Driver#createVolume(String, long)}
   * @param key the cache key
   * @return the volume and whether it was restored
   * @see #restore(String, long, String)
   */
  public Restored restore(String volumeName, String key) {
    return restore(volumeName, 0, key);
  }

  /**
   * Creates (or gets) a volume and restores it from the entry of {@code key}, if there is one. The
   * entry is extracted over what the volume holds already (files of the same path are replaced). On
   * a miss or any failure of the store or the entry, the volume is returned empty: a failure
   * part-way is undone by deleting and re-creating the volume.
   *
   * @param volumeName the volume's name, as for {@link Driver#createVolume(String, long)}
   * @param sizeBytes the volume's size, as for {@link Driver#createVolume(String, long)}
   * @param key the cache key
   * @return the volume and whether it was restored
   * @throws IllegalArgumentException if the key breaks the rules of {@link #entryName(String)}
   * @throws dev.orchestra.OrchestraException if the driver fails to create or reset the volume
   * @throws OrchestraInterruptedException if the thread is interrupted (the volume is left empty)
   */
  public Restored restore(String volumeName, long sizeBytes, String key) {
    String entry = entryName(key);
    Volume volume = driver.createVolume(volumeName, sizeBytes);
    long start = System.nanoTime();
    Optional<InputStream> found;
    try {
      found = store.get(entry);
    } catch (RuntimeException e) {
      throwIfInterrupted("restoring volume " + volumeName + " from " + entry, e);
      LOG.warn(
          "cache restore of volume {} failed, it starts empty: the store {} could not read entry"
              + " {}: {}",
          volumeName,
          store,
          entry,
          causes(e));
      LOG.debug("the store's failure", e);
      return new Restored(volume, false);
    }
    if (found.isEmpty()) {
      LOG.info("cache miss for volume {}: no entry {} in {}", volumeName, entry, store);
      return new Restored(volume, false);
    }
    try (InputStream stored = found.get()) {
      var packed = new CountingInputStream(stored);
      var tar = new CountingInputStream(compression.decompress(packed));
      volume.copyIn(tar);
      // Read what follows the archive's end to the end of the stream: this checks the
      // compressed format's checksum, so a damaged entry is not taken as good.
      tar.transferTo(OutputStream.nullOutputStream());
      LOG.info(
          "cache restored volume {} from entry {} in {}: {} bytes ({} stored) in {} ms",
          volumeName,
          entry,
          store,
          tar.count(),
          packed.count(),
          millisSince(start));
      return new Restored(volume, true);
    } catch (IOException | RuntimeException e) {
      boolean interrupted = Thread.interrupted() || isInterruption(e);
      if (!interrupted) {
        LOG.warn(
            "cache restore of volume {} from entry {} in {} failed, it starts empty: {}",
            volumeName,
            entry,
            store,
            causes(e));
        LOG.debug("the restore's failure", e);
      }
      Volume empty;
      try {
        empty = reset(volume, volumeName, sizeBytes);
      } finally {
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
      if (interrupted) {
        throw new OrchestraInterruptedException(
            "restoring volume " + volumeName + " from " + entry + " was interrupted", e);
      }
      return new Restored(empty, false);
    }
  }

  /**
   * Saves a volume's contents as the entry of {@code key}, replacing an entry of the same key. The
   * entry appears only once complete (see {@link CacheStore#put(String, CacheStore.EntryWriter)}).
   *
   * @param volume a volume of this cache's driver
   * @param key the cache key
   * @return {@code true} if the entry was written; {@code false} if the volume or the store failed
   *     (logged at WARN; any old entry of the key is kept)
   * @throws IllegalArgumentException if the key breaks the rules of {@link #entryName(String)}
   * @throws OrchestraInterruptedException if the thread is interrupted (no entry is written)
   */
  public boolean save(Volume volume, String key) {
    Objects.requireNonNull(volume, "volume");
    String entry = entryName(key);
    long start = System.nanoTime();
    long[] sizes = new long[2];
    try {
      store.put(
          entry,
          out -> {
            var packed = new CountingOutputStream(out);
            var tar = new CountingOutputStream(compression.compress(packed));
            volume.copyOut(tar);
            tar.closeWrapped(); // finishes the compressed format; packed keeps the store's open
            sizes[0] = tar.count();
            sizes[1] = packed.count();
          });
    } catch (RuntimeException e) {
      throwIfInterrupted("saving volume " + volume.name() + " as " + entry, e);
      LOG.warn(
          "cache save of volume {} as entry {} in {} failed, the build goes on without it: {}",
          volume.name(),
          entry,
          store,
          causes(e));
      LOG.debug("the save's failure", e);
      return false;
    }
    LOG.info(
        "cache saved volume {} as entry {} in {}: {} bytes ({} stored) in {} ms",
        volume.name(),
        entry,
        store,
        sizes[0],
        sizes[1],
        millisSince(start));
    return true;
  }

  private Volume reset(Volume volume, String volumeName, long sizeBytes) {
    volume.cleanup();
    return driver.createVolume(volumeName, sizeBytes);
  }

  private static void throwIfInterrupted(String what, RuntimeException e) {
    if (Thread.currentThread().isInterrupted() || isInterruption(e)) {
      Thread.currentThread().interrupt();
      if (e instanceof OrchestraInterruptedException) {
        throw e;
      }
      throw new OrchestraInterruptedException(what + " was interrupted", e);
    }
  }

  private static boolean isInterruption(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof OrchestraInterruptedException || Exceptions.isInterruption(t)) {
        return true;
      }
    }
    return false;
  }

  /** The exception and its causes on one line: a WARN a CI log shows without a stack trace. */
  private static String causes(Throwable e) {
    var b = new StringBuilder(e.toString());
    int depth = 0;
    for (Throwable c = e.getCause(); c != null && depth < 5; c = c.getCause(), depth++) {
      b.append("; caused by ").append(c);
    }
    return b.toString();
  }

  private static long millisSince(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }

  @Override
  public String toString() {
    return "VolumeCache[" + driver.name() + ", " + store + ", " + compression + "]";
  }

  /**
   * What {@link #restore(String, String)} returns.
   *
   * @param volume the volume, restored or empty
   * @param hit {@code true} if the volume was filled from the cache entry; {@code false} on a miss
   *     or a failure (the volume is then empty)
   */
  public record Restored(Volume volume, boolean hit) {

    /**
     * Checks the volume.
     *
     * @param volume the volume
     * @param hit whether it was restored
     */
    public Restored {
      Objects.requireNonNull(volume, "volume");
    }
  }
}
