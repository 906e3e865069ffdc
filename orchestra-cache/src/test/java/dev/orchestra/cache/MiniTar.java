package dev.orchestra.cache;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A test-only ustar writer and reader of directories and regular files, just enough for the test
 * driver's volumes (the real drivers have their own): streams, names up to 100 bytes.
 */
final class MiniTar {

  private MiniTar() {}

  /** Writes the tree under {@code root} (not root itself), parents before children. */
  static void write(Path root, OutputStream out) throws IOException {
    List<Path> paths = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(root)) {
      walk.filter(p -> !p.equals(root)).sorted().forEach(paths::add);
    }
    for (Path p : paths) {
      String name = root.relativize(p).toString().replace('\\', '/');
      if (Files.isDirectory(p)) {
        out.write(header(name + "/", '5', 0));
      } else {
        long size = Files.size(p);
        out.write(header(name, '0', size));
        try (InputStream in = Files.newInputStream(p)) {
          in.transferTo(out);
        }
        pad(out, size);
      }
    }
    end(out);
  }

  /** The header of one entry. */
  static byte[] header(String name, char type, long size) {
    byte[] h = new byte[512];
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    if (n.length > 100) {
      throw new IllegalArgumentException("MiniTar: name too long: " + name);
    }
    System.arraycopy(n, 0, h, 0, n.length);
    octal(h, 100, 8, type == '5' ? 0755 : 0644);
    octal(h, 108, 8, 0);
    octal(h, 116, 8, 0);
    octal(h, 124, 12, size);
    octal(h, 136, 12, 0);
    h[156] = (byte) type;
    System.arraycopy("ustar\00000".getBytes(StandardCharsets.US_ASCII), 0, h, 257, 8);
    for (int i = 148; i < 156; i++) {
      h[i] = ' ';
    }
    long sum = 0;
    for (byte b : h) {
      sum += b & 0xff;
    }
    octal(h, 148, 8, sum);
    return h;
  }

  static void pad(OutputStream out, long size) throws IOException {
    int rest = (int) (size % 512);
    if (rest != 0) {
      out.write(new byte[512 - rest]);
    }
  }

  static void end(OutputStream out) throws IOException {
    out.write(new byte[1024]);
  }

  /** Extracts into {@code root}; stops at the first zero block (the end-of-archive marker). */
  static void extract(InputStream in, Path root) throws IOException {
    byte[] h = new byte[512];
    byte[] buffer = new byte[1 << 16];
    while (true) {
      readFully(in, h, 512);
      if (isZero(h)) {
        return;
      }
      checkSum(h);
      String name = cString(h, 0, 100);
      long size = parseOctal(h, 124, 12);
      Path target = root.resolve(name).normalize();
      if (!target.startsWith(root) || name.startsWith("/")) {
        throw new IllegalArgumentException("tar entry leaves the volume: " + name);
      }
      if (h[156] == '5') {
        Files.createDirectories(target);
        continue;
      }
      Files.createDirectories(target.getParent());
      try (OutputStream out = Files.newOutputStream(target)) {
        long left = size;
        while (left > 0) {
          int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
          if (n < 0) {
            throw new EOFException("tar entry " + name + " is truncated");
          }
          out.write(buffer, 0, n);
          left -= n;
        }
      }
      int rest = (int) (size % 512);
      if (rest != 0) {
        readFully(in, new byte[512 - rest], 512 - rest);
      }
    }
  }

  static void readFully(InputStream in, byte[] b, int len) throws IOException {
    int off = 0;
    while (off < len) {
      int n = in.read(b, off, len - off);
      if (n < 0) {
        throw new EOFException("tar stream ends inside a block");
      }
      off += n;
    }
  }

  static void checkSum(byte[] h) {
    long expected = parseOctal(h, 148, 8);
    long sum = 0;
    for (int i = 0; i < 512; i++) {
      sum += (i >= 148 && i < 156) ? ' ' : h[i] & 0xff;
    }
    if (sum != expected) {
      throw new IllegalArgumentException("not a tar archive: header checksum mismatch");
    }
  }

  static long parseOctal(byte[] h, int off, int len) {
    String s = cString(h, off, len).trim();
    return s.isEmpty() ? 0 : Long.parseLong(s, 8);
  }

  private static boolean isZero(byte[] h) {
    for (byte b : h) {
      if (b != 0) {
        return false;
      }
    }
    return true;
  }

  private static String cString(byte[] h, int off, int len) {
    int end = off;
    while (end < off + len && h[end] != 0) {
      end++;
    }
    return new String(h, off, end - off, StandardCharsets.UTF_8);
  }

  private static void octal(byte[] h, int off, int len, long value) {
    String s = String.format("%0" + (len - 1) + "o", value);
    byte[] b = s.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(b, 0, h, off, b.length);
    h[off + len - 1] = 0;
  }
}
