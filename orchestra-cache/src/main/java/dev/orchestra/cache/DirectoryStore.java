package dev.orchestra.cache;

import dev.orchestra.spi.Exceptions;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link CacheStore} in a local directory (a disk of the CI server, a shared mount): one file per
 * entry, named by its key. An entry is written to a hidden temporary file in the same directory and
 * renamed onto its key atomically, so a reader sees the old entry or the new one, never half of
 * one, also across processes. The directory is created on first use.
 *
 * <p>Temporary files start with {@code .tmp-} (keys cannot start with a dot); a crash of the JVM
 * while writing may leave one behind, which is safe to delete when no save is running.
 */
public final class DirectoryStore implements CacheStore {

  private static final Logger LOG = LoggerFactory.getLogger(DirectoryStore.class);

  private final Path directory;

  /**
   * Creates a store in a directory.
   *
   * @param directory the directory of the entries, created (with its parents) on first write
   */
  public DirectoryStore(Path directory) {
    this.directory = Objects.requireNonNull(directory, "directory").toAbsolutePath();
  }

  /**
   * The directory of the entries.
   *
   * @return an absolute path
   */
  public Path directory() {
    return directory;
  }

  @Override
  public Optional<InputStream> get(String key) {
    Path file = directory.resolve(CacheStore.checkKey(key));
    try {
      return Optional.of(Files.newInputStream(file));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("reading cache entry " + file + " failed: " + e, e);
    }
  }

  @Override
  public void put(String key, EntryWriter writer) {
    Path file = directory.resolve(CacheStore.checkKey(key));
    Path temp = null;
    try {
      Files.createDirectories(directory);
      temp = Files.createTempFile(directory, ".tmp-" + key + "-", "");
      try (var out = new BufferedOutputStream(Files.newOutputStream(temp), 1 << 16)) {
        writer.writeTo(out);
      }
      if (Thread.currentThread().isInterrupted()) {
        throw new InterruptedException();
      }
      try {
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
      }
      temp = null;
    } catch (IOException e) {
      if (Exceptions.isInterruption(e)) {
        throw Exceptions.launder("writing cache entry " + file, e);
      }
      throw new UncheckedIOException("writing cache entry " + file + " failed: " + e, e);
    } catch (InterruptedException e) {
      throw Exceptions.launder("writing cache entry " + file, e);
    } finally {
      if (temp != null) {
        deleteQuietly(temp);
      }
    }
  }

  @Override
  public void delete(String key) {
    Path file = directory.resolve(CacheStore.checkKey(key));
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      throw new UncheckedIOException("deleting cache entry " + file + " failed: " + e, e);
    }
  }

  private static void deleteQuietly(Path temp) {
    try {
      Files.deleteIfExists(temp);
    } catch (IOException e) {
      LOG.warn("could not delete the temporary cache file {}: {}", temp, e.toString());
    }
  }

  @Override
  public String toString() {
    return "DirectoryStore[" + directory + "]";
  }
}
