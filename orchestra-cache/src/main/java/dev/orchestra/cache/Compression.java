package dev.orchestra.cache;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.zip.Deflater;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * How a {@link VolumeCache} compresses the tar stream of a volume. The entry's name in the store
 * ends with the format's extension, so entries of different compressions never mix: changing it
 * makes the next restore a miss, not an error.
 */
public enum Compression {
  /** gzip at its fastest level (1), with the JDK alone. Extension {@code .tar.gz}. */
  GZIP(".tar.gz"),
  /**
   * zstd at level 3, several times faster than gzip for a better ratio. Needs {@code
   * com.github.luben:zstd-jni} on the class path (or module {@code com.github.luben.zstd_jni}),
   * which {@code orchestra-cache} declares as optional: add it to your build to choose this.
   * Extension {@code .tar.zst}.
   */
  ZSTD(".tar.zst"),
  /** No compression, for data that is compressed already. Extension {@code .tar}. */
  NONE(".tar");

  private final String extension;

  Compression(String extension) {
    this.extension = extension;
  }

  /**
   * The suffix of the entry names of this format, for example {@code .tar.gz}.
   *
   * @return the suffix, starting with a dot
   */
  public String extension() {
    return extension;
  }

  /**
   * Whether this format can be used in this JVM: always for {@link #GZIP} and {@link #NONE}; for
   * {@link #ZSTD} when zstd-jni is present and its native library loads on this platform.
   *
   * @return {@code true} if {@link VolumeCache} accepts it here
   */
  public boolean isAvailable() {
    return this != ZSTD || ZstdAvailability.PROBLEM == null;
  }

  /** Throws the clear error of a format that is not available here. */
  void requireAvailable() {
    if (!isAvailable()) {
      throw new IllegalStateException(
          "Compression.ZSTD needs com.github.luben:zstd-jni on the class path (or module path),"
              + " an optional dependency of orchestra-cache: "
              + ZstdAvailability.PROBLEM);
    }
  }

  /** Wraps a stream; closing the result finishes the format and closes {@code out}. */
  OutputStream compress(OutputStream out) throws IOException {
    return switch (this) {
      case GZIP -> new FastGzipOutputStream(out);
      case ZSTD -> ZstdStreams.compress(out);
      case NONE -> out;
    };
  }

  InputStream decompress(InputStream in) throws IOException {
    return switch (this) {
      case GZIP -> new GZIPInputStream(in, 1 << 16);
      case ZSTD -> ZstdStreams.decompress(in);
      case NONE -> in;
    };
  }

  /** gzip at level 1: a cache's saves should cost the build little time. */
  private static final class FastGzipOutputStream extends GZIPOutputStream {
    FastGzipOutputStream(OutputStream out) throws IOException {
      super(out, 1 << 16);
      def.setLevel(Deflater.BEST_SPEED);
    }
  }

  /** Probed once: whether zstd-jni's classes and native library load. */
  private static final class ZstdAvailability {
    static final String PROBLEM = probe();

    private static String probe() {
      try {
        Class.forName(
            "com.github.luben.zstd.ZstdOutputStream", false, Compression.class.getClassLoader());
        ZstdStreams.loadNative();
        return null;
      } catch (ClassNotFoundException | LinkageError e) {
        return e.toString();
      }
    }
  }
}
