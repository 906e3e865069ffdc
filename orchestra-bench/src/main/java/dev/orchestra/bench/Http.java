package dev.orchestra.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** The little of HTTP/1.1 that the floor client and the recording proxy need. */
final class Http {

  private Http() {}

  /** A request or response head: the first line and the headers (names lower case). */
  record Head(String firstLine, Map<String, String> headers, byte[] raw) {

    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }

    long contentLength() {
      String value = header("content-length");
      return value == null ? -1 : Long.parseLong(value.strip());
    }

    boolean chunked() {
      String value = header("transfer-encoding");
      return value != null && value.toLowerCase(Locale.ROOT).contains("chunked");
    }

    int status() {
      String[] parts = firstLine.split(" ", 3);
      return Integer.parseInt(parts[1]);
    }
  }

  /** Reads a head up to and including the empty line; {@code null} at end of stream. */
  static Head readHead(InputStream in) throws IOException {
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    String first = null;
    Map<String, String> headers = new LinkedHashMap<>();
    while (true) {
      String line = readLine(in, raw);
      if (line == null) {
        if (raw.size() == 0) {
          return null;
        }
        throw new IOException("the stream ended inside an HTTP head");
      }
      if (first == null) {
        first = line;
      } else if (line.isEmpty()) {
        return new Head(first, headers, raw.toByteArray());
      } else {
        int colon = line.indexOf(':');
        if (colon > 0) {
          headers.put(
              line.substring(0, colon).strip().toLowerCase(Locale.ROOT),
              line.substring(colon + 1).strip());
        }
      }
    }
  }

  /** Reads one CRLF-terminated line (also copied to {@code raw}); {@code null} at end of stream. */
  static String readLine(InputStream in, ByteArrayOutputStream raw) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) >= 0) {
      if (raw != null) {
        raw.write(b);
      }
      if (b == '\n') {
        byte[] bytes = line.toByteArray();
        int len =
            bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, len, StandardCharsets.ISO_8859_1);
      }
      line.write(b);
    }
    return null;
  }

  /**
   * Copies a body of the length the head announces (chunked, a content length, or none) from {@code
   * in} to {@code out}, flushing after every chunk so that streams pass at once.
   */
  static void copyBody(Head head, InputStream in, OutputStream out) throws IOException {
    if (head.chunked()) {
      while (true) {
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        String sizeLine = readLine(in, raw);
        if (sizeLine == null) {
          throw new IOException("the stream ended inside a chunked body");
        }
        out.write(raw.toByteArray());
        int semicolon = sizeLine.indexOf(';');
        long size =
            Long.parseLong(
                (semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).strip(), 16);
        if (size == 0) {
          // Trailers, then the empty line.
          while (true) {
            ByteArrayOutputStream trailer = new ByteArrayOutputStream();
            String line = readLine(in, trailer);
            out.write(trailer.toByteArray());
            if (line == null || line.isEmpty()) {
              break;
            }
          }
          out.flush();
          return;
        }
        copy(in, out, size + 2);
        out.flush();
      }
    }
    long length = head.contentLength();
    if (length > 0) {
      copy(in, out, length);
    }
    out.flush();
  }

  /** Reads a whole body (chunked or with a content length) into memory: small answers only. */
  static byte[] readBody(Head head, InputStream in) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    if (head.chunked()) {
      while (true) {
        String sizeLine = readLine(in, null);
        if (sizeLine == null) {
          throw new IOException("the stream ended inside a chunked body");
        }
        int semicolon = sizeLine.indexOf(';');
        long size =
            Long.parseLong(
                (semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).strip(), 16);
        if (size == 0) {
          String line;
          do {
            line = readLine(in, null);
          } while (line != null && !line.isEmpty());
          return body.toByteArray();
        }
        copy(in, body, size);
        readLine(in, null);
      }
    }
    long length = head.contentLength();
    if (length > 0) {
      copy(in, body, length);
    }
    return body.toByteArray();
  }

  /** Copies exactly {@code n} bytes. */
  static void copy(InputStream in, OutputStream out, long n) throws IOException {
    byte[] buffer = new byte[(int) Math.min(64 * 1024, Math.max(1, n))];
    long left = n;
    while (left > 0) {
      int got = in.read(buffer, 0, (int) Math.min(buffer.length, left));
      if (got < 0) {
        throw new IOException("the stream ended " + left + " bytes before the end of a body");
      }
      out.write(buffer, 0, got);
      left -= got;
    }
  }

  /** Copies until end of stream, flushing after every read. */
  static void copyAll(InputStream in, OutputStream out) throws IOException {
    byte[] buffer = new byte[64 * 1024];
    int n;
    while ((n = in.read(buffer)) >= 0) {
      out.write(buffer, 0, n);
      out.flush();
    }
  }
}
