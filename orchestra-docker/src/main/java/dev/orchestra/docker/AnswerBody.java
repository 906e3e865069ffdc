package dev.orchestra.docker;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The bytes of an answer's body as slices of one reused buffer, read straight from the connection
 * into it: the chunked framing of HTTP/1.1 is skipped in place, never copied out. What the reader
 * does with a slice (demultiplex it, see {@link FrameDemux}) it does in the buffer too, so that
 * each byte is copied once from the connection and once into its destination.
 *
 * <p>Three framings: {@link #chunked}, {@link #sized} (a {@code Content-Length}) and {@link
 * #untilEnd} (the rest of the connection: an upgraded stream). A body that ends early is an error,
 * except for {@link #untilEnd}, which has no length to miss.
 *
 * <p>Not thread-safe.
 */
final class AnswerBody {

  /** Fills part of the buffer, as {@link java.io.InputStream#read(byte[], int, int)}. */
  @FunctionalInterface
  interface Source {
    int read(byte[] b, int off, int len) throws IOException;
  }

  /** The default size of the buffer: a few of the engine's log messages (16 KiB each). */
  static final int BUFFER = 128 * 1024;

  /** The longest chunk-size line or trailer accepted. */
  private static final int MAX_LINE = 4096;

  private static final long UNTIL_END = -1;

  private final Source source;
  private final boolean chunked;
  private final String what;
  private final byte[] buffer;
  private int pos;
  private int limit;

  /**
   * Bytes left in the current chunk, or of a sized body; {@link #UNTIL_END} for an upgraded one.
   */
  private long left;

  /** Whether the current chunk is followed by its CRLF, not yet read. */
  private boolean chunkOpen;

  private boolean ended;
  private int sliceOffset;

  private AnswerBody(
      Source source, byte[] buffer, int pos, int limit, boolean chunked, long left, String what) {
    this.source = source;
    this.buffer = buffer;
    this.pos = pos;
    this.limit = limit;
    this.chunked = chunked;
    this.left = left;
    this.what = what;
  }

  /**
   * A body in HTTP/1.1 chunks.
   *
   * @param buffer the buffer, which already holds {@code buffer[pos .. limit)} of the body
   */
  static AnswerBody chunked(Source source, byte[] buffer, int pos, int limit, String what) {
    return new AnswerBody(source, buffer, pos, limit, true, 0, what);
  }

  /** A body of {@code length} bytes, {@code buffer[pos .. limit)} of them already read. */
  static AnswerBody sized(
      Source source, byte[] buffer, int pos, int limit, long length, String what) {
    return new AnswerBody(source, buffer, pos, limit, false, length, what);
  }

  /** Everything the connection still delivers, {@code buffer[pos .. limit)} of it already read. */
  static AnswerBody until(Source source, byte[] buffer, int pos, int limit, String what) {
    return new AnswerBody(source, buffer, pos, limit, false, UNTIL_END, what);
  }

  /** Everything the connection still delivers (an upgraded stream), read into a new buffer. */
  static AnswerBody untilEnd(Source source, String what) {
    return until(source, new byte[BUFFER], 0, 0, what);
  }

  /** Reads the body to its end or to {@code max} bytes, whichever comes first: a refusal's text. */
  byte[] readAtMost(int max) throws IOException {
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    int n;
    while (text.size() < max && (n = next(max - text.size())) > 0) {
      text.write(array(), offset(), n);
    }
    return text.toByteArray();
  }

  /**
   * Takes the next slice of the body: {@code array()[offset() .. offset() + length)}, valid until
   * the next call.
   *
   * @param max the most bytes wanted
   * @return its length, at least 1; -1 once the body has ended
   * @throws IOException if the connection fails, or ends before the body does
   */
  int next(int max) throws IOException {
    if (ended) {
      return -1;
    }
    if (chunked && left == 0 && !startChunk()) {
      ended = true;
      return -1;
    }
    if (left == 0) {
      ended = true;
      return -1;
    }
    if (pos == limit && !fill()) {
      if (left == UNTIL_END) {
        ended = true;
        return -1;
      }
      throw new EOFException("the engine ended " + what + " before the end of its answer");
    }
    int n = Math.min(max, limit - pos);
    if (left != UNTIL_END) {
      n = (int) Math.min(n, left);
      left -= n;
    }
    sliceOffset = pos;
    pos += n;
    return n;
  }

  /** The buffer the slices are in. */
  byte[] array() {
    return buffer;
  }

  /** Where the last slice starts in {@link #array()}. */
  int offset() {
    return sliceOffset;
  }

  /** Reads the next chunk's size line; false at the last chunk, whose trailers are read too. */
  private boolean startChunk() throws IOException {
    if (chunkOpen) {
      if (!line().isEmpty()) {
        throw new IOException("the engine's chunked answer to " + what + " is malformed");
      }
      chunkOpen = false;
    }
    String size = line();
    int semicolon = size.indexOf(';');
    try {
      left = Long.parseLong((semicolon < 0 ? size : size.substring(0, semicolon)).strip(), 16);
    } catch (NumberFormatException e) {
      throw new IOException("the engine's chunked answer to " + what + " is malformed", e);
    }
    if (left < 0) {
      throw new IOException("the engine's chunked answer to " + what + " is malformed");
    }
    if (left > 0) {
      chunkOpen = true;
      return true;
    }
    while (!line().isEmpty()) {
      // a trailer, ignored
    }
    return false;
  }

  /** One CRLF-terminated line of the chunked framing, without its end. */
  private String line() throws IOException {
    int scanned = pos;
    while (true) {
      for (int i = scanned; i < limit; i++) {
        if (buffer[i] == '\n') {
          int end = i > pos && buffer[i - 1] == '\r' ? i - 1 : i;
          String text = new String(buffer, pos, end - pos, StandardCharsets.ISO_8859_1);
          pos = i + 1;
          return text;
        }
      }
      scanned = limit;
      if (limit - pos > MAX_LINE) {
        throw new IOException("the engine's chunked answer to " + what + " is malformed");
      }
      int kept = scanned - pos;
      if (!fill()) {
        throw new EOFException("the engine ended " + what + " before the end of its answer");
      }
      scanned = pos + kept;
    }
  }

  /**
   * Reads more into the buffer, after what it holds (moved to its start when the end is reached).
   *
   * @return false at the end of the connection
   */
  private boolean fill() throws IOException {
    if (pos == limit) {
      pos = 0;
      limit = 0;
    } else if (limit == buffer.length) {
      System.arraycopy(buffer, pos, buffer, 0, limit - pos);
      limit -= pos;
      pos = 0;
    }
    int n;
    do {
      n = source.read(buffer, limit, buffer.length - limit);
    } while (n == 0);
    if (n < 0) {
      return false;
    }
    limit += n;
    return true;
  }
}
