package dev.orchestra.spi;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Writes a tar stream entry by entry, in constant memory: POSIX ustar headers, with a PAX extended
 * header for what ustar cannot hold (names and link targets longer than 100 bytes or not ASCII,
 * sizes of 8 GiB and more, which also get a base-256 size field for readers that ignore PAX).
 *
 * <p>{@link #finish()} writes the end-of-archive marker; the stream is never closed. Copying an
 * entry's content answers {@link Thread#interrupt()} with an {@link
 * java.io.InterruptedIOException}.
 *
 * <p>Not thread-safe.
 */
public final class TarWriter {

  private static final long MAX_OCTAL_11 = 077777777777L;
  private static final long MAX_OCTAL_7 = 07777777L;
  private static final int COPY_BUFFER = 64 * 1024;

  private final OutputStream out;
  private final byte[] buffer = new byte[COPY_BUFFER];

  /**
   * Writes an archive to a stream.
   *
   * @param out where the archive goes; not closed by the writer
   */
  public TarWriter(OutputStream out) {
    this.out = Objects.requireNonNull(out, "out");
  }

  /**
   * Writes one entry: its header and, for a file, {@link TarEntry#size()} bytes of content. A
   * directory's name gets its trailing {@code /}.
   *
   * @param entry the entry
   * @param content the file's content (read up to {@code entry.size()} bytes, not closed); ignored
   *     for other types
   * @return {@code false} if the content ended early and was padded with zeros to the size the
   *     header announced (a file that shrank while it was copied), {@code true} otherwise
   * @throws IOException if writing fails
   */
  public boolean add(TarEntry entry, InputStream content) throws IOException {
    writeHeader(entry);
    if (entry.type() != TarEntry.Type.FILE) {
      return true;
    }
    long left = entry.size();
    boolean complete = true;
    while (left > 0) {
      TarReader.checkInterrupt();
      int n = complete ? content.read(buffer, 0, (int) Math.min(buffer.length, left)) : -1;
      if (n < 0) {
        complete = false;
        n = (int) Math.min(buffer.length, left);
        java.util.Arrays.fill(buffer, 0, n, (byte) 0);
      }
      out.write(buffer, 0, n);
      left -= n;
    }
    pad(entry.size());
    return complete;
  }

  /**
   * Writes an entry's header (with its PAX extended header when needed), not its content.
   *
   * @param entry the entry
   * @throws IOException if writing fails
   */
  void writeHeader(TarEntry entry) throws IOException {
    String name = entry.name();
    if (entry.type() == TarEntry.Type.DIRECTORY && !name.endsWith("/")) {
      name = name + "/";
    }
    byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
    byte[] linkBytes = entry.linkTarget().getBytes(StandardCharsets.UTF_8);
    StringBuilder pax = new StringBuilder();
    if (nameBytes.length > 100 || !isAscii(name)) {
      paxRecord(pax, "path", name);
    }
    if (linkBytes.length > 100 || !isAscii(entry.linkTarget())) {
      paxRecord(pax, "linkpath", entry.linkTarget());
    }
    if (entry.size() > MAX_OCTAL_11) {
      paxRecord(pax, "size", Long.toString(entry.size()));
    }
    if (entry.uid() > MAX_OCTAL_7 || entry.uid() < 0) {
      paxRecord(pax, "uid", Long.toString(entry.uid()));
    }
    if (entry.gid() > MAX_OCTAL_7 || entry.gid() < 0) {
      paxRecord(pax, "gid", Long.toString(entry.gid()));
    }
    if (entry.mtimeSeconds() > MAX_OCTAL_11 || entry.mtimeSeconds() < 0) {
      paxRecord(pax, "mtime", Long.toString(entry.mtimeSeconds()));
    }
    if (pax.length() > 0) {
      byte[] data = pax.toString().getBytes(StandardCharsets.UTF_8);
      out.write(
          header(
              "././@PaxHeader".getBytes(StandardCharsets.US_ASCII),
              'x',
              0644,
              data.length,
              0,
              new byte[0],
              0,
              0));
      out.write(data);
      pad(data.length);
    }
    out.write(
        header(
            nameBytes,
            typeflag(entry.type()),
            entry.mode(),
            entry.type() == TarEntry.Type.FILE ? entry.size() : 0,
            entry.mtimeSeconds(),
            linkBytes,
            entry.uid(),
            entry.gid()));
  }

  /**
   * Writes the end-of-archive marker (two zero blocks) and flushes; the stream stays open.
   *
   * @throws IOException if writing fails
   */
  public void finish() throws IOException {
    out.write(new byte[2 * TarReader.BLOCK]);
    out.flush();
  }

  void pad(long size) throws IOException {
    int padding = (int) ((TarReader.BLOCK - size % TarReader.BLOCK) % TarReader.BLOCK);
    if (padding > 0) {
      out.write(new byte[padding]);
    }
  }

  private static char typeflag(TarEntry.Type type) {
    return switch (type) {
      case FILE -> '0';
      case HARDLINK -> '1';
      case SYMLINK -> '2';
      case CHARACTER_DEVICE -> '3';
      case BLOCK_DEVICE -> '4';
      case DIRECTORY -> '5';
      case FIFO -> '6';
      case OTHER -> throw new IllegalArgumentException("cannot write a tar entry of type OTHER");
    };
  }

  private static byte[] header(
      byte[] name,
      char typeflag,
      int mode,
      long size,
      long mtime,
      byte[] link,
      long uid,
      long gid) {
    byte[] h = new byte[TarReader.BLOCK];
    System.arraycopy(name, 0, h, 0, Math.min(name.length, 100));
    octal(h, 100, 8, mode & 07777);
    octal(h, 108, 8, uid >= 0 && uid <= MAX_OCTAL_7 ? uid : 0);
    octal(h, 116, 8, gid >= 0 && gid <= MAX_OCTAL_7 ? gid : 0);
    if (size <= MAX_OCTAL_11) {
      octal(h, 124, 12, size);
    } else {
      h[124] = (byte) 0x80;
      for (int i = 0; i < 8; i++) {
        h[135 - i] = (byte) (size >>> (8 * i));
      }
    }
    octal(h, 136, 12, mtime >= 0 && mtime <= MAX_OCTAL_11 ? mtime : 0);
    h[156] = (byte) typeflag;
    System.arraycopy(link, 0, h, 157, Math.min(link.length, 100));
    System.arraycopy("ustar\00000".getBytes(StandardCharsets.US_ASCII), 0, h, 257, 8);
    for (int i = 148; i < 156; i++) {
      h[i] = ' ';
    }
    long sum = 0;
    for (byte b : h) {
      sum += b & 0xff;
    }
    octal(h, 148, 7, sum);
    return h;
  }

  /** Writes {@code len - 1} zero-padded octal digits and a NUL. */
  private static void octal(byte[] h, int off, int len, long value) {
    String digits = Long.toOctalString(value);
    int width = len - 1;
    for (int i = 0; i < width; i++) {
      int d = i - (width - digits.length());
      h[off + i] = (byte) (d < 0 ? '0' : digits.charAt(d));
    }
    h[off + width] = 0;
  }

  private static void paxRecord(StringBuilder pax, String key, String value) {
    int body =
        key.getBytes(StandardCharsets.UTF_8).length
            + value.getBytes(StandardCharsets.UTF_8).length
            + 3;
    int length = body + Integer.toString(body).length();
    if (Integer.toString(length).length() != Integer.toString(body).length()) {
      length++;
    }
    pax.append(length).append(' ').append(key).append('=').append(value).append('\n');
  }

  private static boolean isAscii(String s) {
    return s.chars().allMatch(c -> c < 0x80);
  }
}
