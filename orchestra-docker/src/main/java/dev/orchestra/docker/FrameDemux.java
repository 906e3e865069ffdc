package dev.orchestra.docker;

import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Separates the engine's multiplexed stream of a container without a TTY (the output of an exec, a
 * container's log) as it arrives: each frame is an 8-byte header {@code [stream, 0, 0, 0, size (4
 * bytes, big-endian)]}, then {@code size} bytes of payload, and the payload goes to its stream
 * straight from the {@link AnswerBody}'s buffer, in as many pieces as the connection delivered it
 * in: no frame is gathered, nothing is allocated per frame.
 *
 * <p>What the engine itself reports in the stream ({@link FrameReader#SYSTEM_ERROR}, for example a
 * log it could not read) is gathered (up to 4 KiB) and handed over whole, once its frame ends.
 */
final class FrameDemux {

  /** Where the demultiplexed bytes go. */
  interface Streams {
    /**
     * Takes a piece of a frame's payload.
     *
     * @param stream {@link FrameReader#STDOUT} or {@link FrameReader#STDERR}, or another stream
     *     number the engine sent (never {@link FrameReader#SYSTEM_ERROR})
     * @param bytes the bytes, valid during this call only
     * @return whether to go on reading
     * @throws IOException if the bytes cannot be taken: the read ends with it
     */
    boolean write(int stream, byte[] bytes, int offset, int length) throws IOException;

    /**
     * Takes a message of the engine's in the stream.
     *
     * @return whether to go on reading
     * @throws IOException to end the read with it
     */
    boolean engineMessage(String message) throws IOException;
  }

  private static final int MAX_MESSAGE = 4096;

  private FrameDemux() {}

  /**
   * Reads frames until the body ends, or {@code streams} says to stop.
   *
   * @param what what is being read, for messages
   * @return whether the body was read to its end (else {@code streams} stopped it)
   * @throws IOException if the body fails or ends inside a frame, or {@code streams} fails
   */
  static boolean copy(AnswerBody body, Streams streams, String what) throws IOException {
    byte[] header = new byte[8];
    int headerRead = 0;
    long payloadLeft = 0;
    int stream = 0;
    StringBuilder message = null;
    while (true) {
      int n =
          body.next(
              headerRead < 8 ? 8 - headerRead : (int) Math.min(Integer.MAX_VALUE, payloadLeft));
      if (n < 0) {
        if (headerRead == 0) {
          return true;
        }
        throw new EOFException("the engine ended " + what + " inside a frame");
      }
      byte[] bytes = body.array();
      int offset = body.offset();
      if (headerRead < 8) {
        System.arraycopy(bytes, offset, header, headerRead, n);
        headerRead += n;
        if (headerRead < 8) {
          continue;
        }
        stream = header[0];
        payloadLeft =
            ((header[4] & 0xffL) << 24)
                | ((header[5] & 0xffL) << 16)
                | ((header[6] & 0xffL) << 8)
                | (header[7] & 0xffL);
        message = stream == FrameReader.SYSTEM_ERROR ? new StringBuilder() : null;
      } else {
        payloadLeft -= n;
        if (message == null) {
          if (!streams.write(stream, bytes, offset, n)) {
            return false;
          }
        } else if (message.length() < MAX_MESSAGE) {
          message.append(
              new String(
                  bytes,
                  offset,
                  Math.min(n, MAX_MESSAGE - message.length()),
                  StandardCharsets.UTF_8));
        }
      }
      if (payloadLeft == 0) {
        headerRead = 0;
        if (message != null && !streams.engineMessage(message.toString().strip())) {
          return false;
        }
        message = null;
      }
    }
  }
}
