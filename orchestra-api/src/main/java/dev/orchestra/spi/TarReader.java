package dev.orchestra.spi;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * Reads a tar stream entry by entry, in constant memory: POSIX ustar, PAX extended headers ({@code
 * path}, {@code linkpath}, {@code size}, {@code mtime}, {@code uid}, {@code gid}), GNU long names
 * and links ({@code L}, {@code K}) and base-256 numbers (sizes of 8 GiB and more).
 *
 * <p>The stream is read up to the end-of-archive marker (two zero blocks; one followed by the end
 * of the stream is accepted) and never closed. A block whose checksum is wrong is refused with an
 * {@link IllegalArgumentException}: the stream is not a tar archive. Every read answers {@link
 * Thread#interrupt()} with an {@link InterruptedIOException}.
 *
 * <p>Not thread-safe.
 */
public final class TarReader {

  static final int BLOCK = 512;

  /** The most a PAX header or a GNU long name may hold: they are read into memory. */
  static final int MAX_HEADER_DATA = 1 << 20;

  private final InputStream in;
  private final byte[] block = new byte[BLOCK];
  private final String topDirectory;
  private long remaining;
  private long padding;
  private boolean ended;

  /**
   * Reads the archive on a stream.
   *
   * @param in the tar stream; not closed by the reader
   */
  public TarReader(InputStream in) {
    this(in, null);
  }

  private TarReader(InputStream in, String topDirectory) {
    this.in = Objects.requireNonNull(in, "in");
    this.topDirectory = topDirectory;
  }

  /**
   * Reads an archive whose entries all live in one top directory, as the contents of that
   * directory: the entry of the directory itself is skipped and its name is removed from the others
   * (the Docker engine's archive API wraps a directory that way). The form Podman's
   * Docker-compatible API writes is read too: the directory as {@code /}, its contents as {@code
   * /name}.
   *
   * @param in the tar stream; not closed by the reader
   * @param directory the top directory's name, without slashes
   * @return the reader
   */
  public static TarReader withinDirectory(InputStream in, String directory) {
    if (directory.isEmpty() || directory.contains("/")) {
      throw new IllegalArgumentException("not a single directory name: '" + directory + "'");
    }
    return new TarReader(in, directory);
  }

  /**
   * Moves to the next entry, skipping what is left of the current one's content.
   *
   * @return the entry, or empty at the end of the archive
   * @throws IllegalArgumentException if the stream is not a tar archive
   * @throws IOException if reading fails or the stream ends before the end-of-archive marker
   */
  public Optional<TarEntry> next() throws IOException {
    while (true) {
      Optional<TarEntry> entry = nextRaw();
      if (entry.isEmpty() || topDirectory == null) {
        return entry;
      }
      String name = entry.get().name();
      String stripped = stripTop(name);
      if (stripped == null) {
        throw new IllegalArgumentException(
            "tar entry '"
                + name
                + "' is outside the expected top directory '"
                + topDirectory
                + "'");
      }
      if (!stripped.isEmpty()) {
        return Optional.of(entry.get().withName(stripped));
      }
    }
  }

  private String stripTop(String name) {
    if (name.startsWith("/")) {
      return name.substring(1); // Podman's form: "/" for the directory, "/name" inside it
    }
    String n = name.startsWith("./") ? name.substring(2) : name;
    if (n.equals(topDirectory) || n.equals(topDirectory + "/")) {
      return "";
    }
    return n.startsWith(topDirectory + "/") ? n.substring(topDirectory.length() + 1) : null;
  }

  private Optional<TarEntry> nextRaw() throws IOException {
    if (ended) {
      return Optional.empty();
    }
    skip(remaining + padding);
    remaining = 0;
    padding = 0;
    String longName = null;
    String longLink = null;
    Pax pax = new Pax();
    while (true) {
      if (!readBlock(block, true)) {
        throw new EOFException("tar stream ended without its end-of-archive marker");
      }
      if (isZero(block)) {
        ended = true;
        readBlock(new byte[BLOCK], false);
        return Optional.empty();
      }
      checkChecksum(block);
      char typeflag = (char) block[156];
      long size = number(block, 124, 12, "size");
      switch (typeflag) {
        case 'x' -> pax.parse(readData(size));
        case 'g' -> readData(size); // global PAX headers: nothing in them matters here
        case 'L' -> longName = cString(readData(size));
        case 'K' -> longLink = cString(readData(size));
        default -> {
          return Optional.of(entry(typeflag, size, longName, longLink, pax));
        }
      }
    }
  }

  private TarEntry entry(char typeflag, long headerSize, String longName, String longLink, Pax pax)
      throws IOException {
    boolean ustar = Arrays.equals(block, 257, 263, USTAR_MAGIC, 0, 6);
    String name = string(block, 0, 100);
    if (ustar && block[345] != 0) {
      name = string(block, 345, 155) + "/" + name;
    }
    name = pax.path != null ? pax.path : longName != null ? longName : name;
    String link =
        pax.linkpath != null ? pax.linkpath : longLink != null ? longLink : string(block, 157, 100);
    long size = pax.size >= 0 ? pax.size : headerSize;
    TarEntry.Type type =
        switch (typeflag) {
          case '0', '7' -> TarEntry.Type.FILE;
          case '\0' -> name.endsWith("/") ? TarEntry.Type.DIRECTORY : TarEntry.Type.FILE;
          case '1' -> TarEntry.Type.HARDLINK;
          case '2' -> TarEntry.Type.SYMLINK;
          case '3' -> TarEntry.Type.CHARACTER_DEVICE;
          case '4' -> TarEntry.Type.BLOCK_DEVICE;
          case '5' -> TarEntry.Type.DIRECTORY;
          case '6' -> TarEntry.Type.FIFO;
          default -> TarEntry.Type.OTHER;
        };
    boolean hasContent = type == TarEntry.Type.FILE || type == TarEntry.Type.OTHER;
    remaining = size; // what follows the header in the stream, whatever the type
    padding = (BLOCK - remaining % BLOCK) % BLOCK;
    return new TarEntry(
        name,
        type,
        (int) number(block, 100, 8, "mode"),
        hasContent ? size : 0,
        pax.mtime != null ? pax.mtime : number(block, 136, 12, "mtime"),
        type == TarEntry.Type.SYMLINK || type == TarEntry.Type.HARDLINK ? link : "",
        pax.uid >= 0 ? pax.uid : number(block, 108, 8, "uid"),
        pax.gid >= 0 ? pax.gid : number(block, 116, 8, "gid"));
  }

  /**
   * The current entry's content: exactly {@link TarEntry#size()} bytes, then end of stream. Closing
   * it does nothing; what is not read is skipped by the next {@link #next()}.
   *
   * @return the content
   */
  public InputStream content() {
    return new BulkInputStream() {
      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        if (remaining == 0) {
          return -1;
        }
        checkInterrupt();
        int n = in.read(b, off, (int) Math.min(len, remaining));
        if (n < 0) {
          throw new EOFException("tar stream ended inside an entry's content");
        }
        remaining -= n;
        return n;
      }
    };
  }

  private byte[] readData(long size) throws IOException {
    if (size > MAX_HEADER_DATA) {
      throw new IllegalArgumentException(
          "tar extended header of " + size + " bytes is larger than " + MAX_HEADER_DATA);
    }
    byte[] data = new byte[(int) size];
    if (readFully(data, data.length) < data.length) {
      throw new EOFException("tar stream ended inside an extended header");
    }
    skip((BLOCK - size % BLOCK) % BLOCK);
    return data;
  }

  private boolean readBlock(byte[] b, boolean required) throws IOException {
    int n = readFully(b, BLOCK);
    if (n == BLOCK) {
      return true;
    }
    if (n > 0 && required) {
      throw new EOFException("tar stream ended inside a header block");
    }
    return false;
  }

  private int readFully(byte[] b, int len) throws IOException {
    int total = 0;
    while (total < len) {
      checkInterrupt();
      int n = in.read(b, total, len - total);
      if (n < 0) {
        break;
      }
      total += n;
    }
    return total;
  }

  private void skip(long n) throws IOException {
    byte[] buffer = new byte[(int) Math.min(n, 8192)];
    while (n > 0) {
      checkInterrupt();
      int r = in.read(buffer, 0, (int) Math.min(n, buffer.length));
      if (r < 0) {
        throw new EOFException("tar stream ended inside an entry's content");
      }
      n -= r;
    }
  }

  static void checkInterrupt() throws InterruptedIOException {
    if (Thread.currentThread().isInterrupted()) {
      throw new InterruptedIOException("tar stream: the thread was interrupted");
    }
  }

  private static final byte[] USTAR_MAGIC = "ustar\0".getBytes(StandardCharsets.US_ASCII);

  private static boolean isZero(byte[] b) {
    for (byte x : b) {
      if (x != 0) {
        return false;
      }
    }
    return true;
  }

  private static void checkChecksum(byte[] b) {
    long unsigned = 0;
    long signed = 0;
    for (int i = 0; i < BLOCK; i++) {
      int v = (i >= 148 && i < 156) ? ' ' : b[i];
      unsigned += v & 0xff;
      signed += (i >= 148 && i < 156) ? ' ' : v;
    }
    long stored;
    try {
      stored = number(b, 148, 8, "checksum");
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a tar archive (unreadable header checksum)", e);
    }
    if (stored != unsigned && stored != signed) {
      throw new IllegalArgumentException(
          "not a tar archive (header checksum " + stored + ", computed " + unsigned + ")");
    }
  }

  /** Reads an octal field, or a base-256 one (first byte's high bit set) for large values. */
  static long number(byte[] b, int off, int len, String field) {
    if ((b[off] & 0x80) != 0) {
      if ((b[off] & 0x40) != 0 || len > 9 && b[off + 1] != 0) {
        throw new IllegalArgumentException(
            "tar header field " + field + " is negative or too large");
      }
      long value = b[off] & 0x3f;
      for (int i = 1; i < len; i++) {
        if ((value >>> 55) != 0) {
          throw new IllegalArgumentException("tar header field " + field + " is too large");
        }
        value = (value << 8) | (b[off + i] & 0xff);
      }
      return value;
    }
    long value = 0;
    int i = off;
    int end = off + len;
    while (i < end && (b[i] == ' ' || b[i] == 0)) {
      i++;
    }
    for (; i < end && b[i] != ' ' && b[i] != 0; i++) {
      if (b[i] < '0' || b[i] > '7') {
        throw new IllegalArgumentException(
            "not a tar archive (header field " + field + " is not an octal number)");
      }
      value = (value << 3) | (b[i] - '0');
    }
    return value;
  }

  private static String string(byte[] b, int off, int len) {
    int end = off;
    while (end < off + len && b[end] != 0) {
      end++;
    }
    return new String(b, off, end - off, StandardCharsets.UTF_8);
  }

  private static String cString(byte[] data) {
    return string(data, 0, data.length);
  }

  /** What PAX extended headers say about the next entry. */
  private static final class Pax {
    String path;
    String linkpath;
    long size = -1;
    Long mtime;
    long uid = -1;
    long gid = -1;

    void parse(byte[] data) {
      int pos = 0;
      while (pos < data.length) {
        int space = pos;
        while (space < data.length && data[space] != ' ') {
          space++;
        }
        int length;
        try {
          length = Integer.parseInt(new String(data, pos, space - pos, StandardCharsets.US_ASCII));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("malformed PAX extended header record", e);
        }
        int end = pos + length;
        if (length <= 0 || space >= data.length || end > data.length || data[end - 1] != '\n') {
          throw new IllegalArgumentException("malformed PAX extended header record");
        }
        String record = new String(data, space + 1, end - space - 2, StandardCharsets.UTF_8);
        int eq = record.indexOf('=');
        if (eq < 0) {
          throw new IllegalArgumentException("malformed PAX extended header record");
        }
        apply(record.substring(0, eq), record.substring(eq + 1));
        pos = end;
      }
    }

    private void apply(String key, String value) {
      try {
        switch (key) {
          case "path" -> path = value;
          case "linkpath" -> linkpath = value;
          case "size" -> size = Long.parseLong(value);
          case "uid" -> uid = Long.parseLong(value);
          case "gid" -> gid = Long.parseLong(value);
          case "mtime" -> {
            int dot = value.indexOf('.');
            mtime = Long.parseLong(dot < 0 ? value : value.substring(0, dot));
          }
          default -> {
            // other keys (atime, ctime, charset, vendor keys) carry nothing an extraction uses
          }
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "PAX extended header " + key + "=" + value + " is not a number", e);
      }
      if (size < -1) {
        throw new IllegalArgumentException("PAX extended header size=" + value + " is negative");
      }
    }
  }
}
