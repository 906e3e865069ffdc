package dev.orchestra.docker;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Reads the engine's multiplexed stream of a container without a TTY, whole frames at a time: an
 * 8-byte header {@code [stream, 0, 0, 0, size (4 bytes, big-endian)]}, then {@code size} bytes of
 * payload. The engine writes one frame per write of the process (attach, exec) or per log message
 * (logs), so a log message's boundaries are the frame's. For the reads that need whole messages (a
 * follow's, with timestamps); {@link FrameDemux} passes the payload on in the pieces it arrives in,
 * for the reads that do not (an exec's output, {@code logs()}).
 *
 * <p>The payload buffer is reused: it holds the current frame until the next {@link #next()}.
 */
final class FrameReader {

  static final int STDIN = 0;
  static final int STDOUT = 1;
  static final int STDERR = 2;

  /** What the engine itself reports in the stream, for example a log it could not read. */
  static final int SYSTEM_ERROR = 3;

  /** The largest frame accepted; the engine's log messages are at most 1 MB. */
  private static final int MAX_FRAME = 16 << 20;

  private final InputStream in;
  private final String what;
  private final byte[] header = new byte[8];
  private byte[] payload = new byte[16 * 1024 + 64];
  private int stream;
  private int length;

  /**
   * @param in the stream, positioned at a frame header
   * @param what what is being read, for messages
   */
  FrameReader(InputStream in, String what) {
    this.in = in;
    this.what = what;
  }

  /**
   * Reads the next frame.
   *
   * @return false once the stream ended cleanly, between two frames
   * @throws IOException if the stream fails or ends inside a frame, or a frame is too large
   */
  boolean next() throws IOException {
    int n = in.readNBytes(header, 0, header.length);
    if (n == 0) {
      return false;
    }
    if (n < header.length) {
      throw new EOFException("the engine ended " + what + " inside a frame header");
    }
    long size =
        ((header[4] & 0xffL) << 24)
            | ((header[5] & 0xffL) << 16)
            | ((header[6] & 0xffL) << 8)
            | (header[7] & 0xffL);
    if (size > MAX_FRAME) {
      throw new IOException(
          "the engine sent a frame of " + size + " bytes in " + what + ", more than expected");
    }
    if (size > payload.length) {
      payload = Arrays.copyOf(payload, (int) size);
    }
    stream = header[0];
    length = (int) size;
    if (in.readNBytes(payload, 0, length) < length) {
      throw new EOFException("the engine ended " + what + " inside a frame");
    }
    return true;
  }

  /** The current frame's stream: {@link #STDOUT}, {@link #STDERR}, {@link #SYSTEM_ERROR}... */
  int stream() {
    return stream;
  }

  /** The current frame's payload, in {@code payload()[0 .. length())}. */
  byte[] payload() {
    return payload;
  }

  /** The current frame's payload length. */
  int length() {
    return length;
  }
}
