package dev.orchestra.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The demultiplexer of the engine's frames over an answer's body ({@link FrameDemux}, {@link
 * AnswerBody}), fed from memory in reads of every size, so that chunk lines and frame headers fall
 * across reads and across the buffer's end.
 */
class FrameDemuxTest {

  @Test
  void separatesTheStreamsByteExactOverChunksOfAnySplit() throws IOException {
    Random random = new Random(16);
    ByteArrayOutputStream frames = new ByteArrayOutputStream();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    for (int i = 0; i < 200; i++) {
      byte[] payload = new byte[random.nextInt(i % 10 == 0 ? 40_000 : 300)];
      random.nextBytes(payload);
      int stream = random.nextInt(4) == 0 ? 2 : 1;
      frames.write(frame(stream, payload));
      (stream == 1 ? out : err).write(payload);
    }
    frames.write(frame(1, new byte[0]));
    byte[] chunked = chunk(frames.toByteArray(), random);
    for (int maxRead : new int[] {1, 3, 7, 100, 65_536, 1 << 20}) {
      Collected got = new Collected();

      boolean whole =
          FrameDemux.copy(
              AnswerBody.chunked(source(chunked, maxRead, random), new byte[256 * 1024], 0, 0, "t"),
              got,
              "test");

      assertThat(whole).isTrue();
      assertThat(got.out.toByteArray())
          .as("stdout, reads of %d", maxRead)
          .isEqualTo(out.toByteArray());
      assertThat(got.err.toByteArray())
          .as("stderr, reads of %d", maxRead)
          .isEqualTo(err.toByteArray());
    }
  }

  @Test
  void readsAnUpgradedStreamToItsEndAndASizedBodyToItsLength() throws IOException {
    byte[] frames = concat(frame(1, bytes("out\n")), frame(2, bytes("err")));
    Collected upgraded = new Collected();
    FrameDemux.copy(AnswerBody.untilEnd(source(frames, 5, new Random(1)), "t"), upgraded, "test");
    assertThat(upgraded.out.toString(StandardCharsets.UTF_8)).isEqualTo("out\n");
    assertThat(upgraded.err.toString(StandardCharsets.UTF_8)).isEqualTo("err");

    byte[] withMore = concat(frames, bytes("next answer"));
    Collected sized = new Collected();
    FrameDemux.copy(
        AnswerBody.sized(
            source(withMore, 4, new Random(2)), new byte[64], 0, 0, frames.length, "t"),
        sized,
        "test");
    assertThat(sized.err.toString(StandardCharsets.UTF_8)).isEqualTo("err");
  }

  @Test
  void anAnswerCutInsideAFrameOrBeforeItsLastChunkFails() {
    byte[] frames = concat(frame(1, bytes("whole")), frame(1, bytes("cut short")));
    byte[] cutFrame = Arrays.copyOf(frames, frames.length - 3);
    assertThatThrownBy(
            () ->
                FrameDemux.copy(
                    AnswerBody.untilEnd(source(cutFrame, 64, new Random(3)), "t"),
                    new Collected(),
                    "the log"))
        .isInstanceOf(EOFException.class)
        .hasMessageContaining("inside a frame");

    byte[] chunked = chunk(frames, new Random(4));
    // Without the last chunk: the engine went away between two frames.
    byte[] noEnd = Arrays.copyOf(chunked, chunked.length - "0\r\nTrailer: t\r\n\r\n".length());
    assertThatThrownBy(
            () ->
                FrameDemux.copy(
                    AnswerBody.chunked(
                        source(noEnd, 64, new Random(5)), new byte[128], 0, 0, "the log"),
                    new Collected(),
                    "the log"))
        .isInstanceOf(EOFException.class)
        .hasMessageContaining("before the end of its answer");
  }

  @Test
  void theEnginesOwnMessageArrivesWholeAndAStopEndsTheRead() throws IOException {
    byte[] frames =
        concat(frame(1, bytes("a")), frame(3, bytes("log unreadable\n")), frame(1, bytes("b")));
    Collected got = new Collected();
    FrameDemux.copy(AnswerBody.untilEnd(source(frames, 2, new Random(6)), "t"), got, "test");
    assertThat(got.messages).containsExactly("log unreadable");
    assertThat(got.out.toString(StandardCharsets.UTF_8)).isEqualTo("ab");

    Collected stopping = new Collected();
    stopping.stopAfter = 1;
    boolean whole =
        FrameDemux.copy(
            AnswerBody.untilEnd(source(frames, 64, new Random(7)), "t"), stopping, "test");
    assertThat(whole).isFalse();
    assertThat(stopping.out.toString(StandardCharsets.UTF_8)).isEqualTo("a");
  }

  private static final class Collected implements FrameDemux.Streams {
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();
    final List<String> messages = new ArrayList<>();
    int stopAfter = Integer.MAX_VALUE;
    int writes;

    @Override
    public boolean write(int stream, byte[] bytes, int offset, int length) {
      (stream == 1 ? out : err).write(bytes, offset, length);
      return ++writes < stopAfter;
    }

    @Override
    public boolean engineMessage(String message) {
      messages.add(message);
      return true;
    }
  }

  /** Reads of 1 to {@code maxRead} bytes at a time. */
  private static AnswerBody.Source source(byte[] data, int maxRead, Random random) {
    int[] at = {0};
    return (b, off, len) -> {
      if (at[0] == data.length) {
        return -1;
      }
      int n = Math.min(Math.min(len, data.length - at[0]), 1 + random.nextInt(maxRead));
      System.arraycopy(data, at[0], b, off, n);
      at[0] += n;
      return n;
    };
  }

  private static byte[] frame(int stream, byte[] payload) {
    byte[] f = new byte[8 + payload.length];
    f[0] = (byte) stream;
    f[4] = (byte) (payload.length >>> 24);
    f[5] = (byte) (payload.length >>> 16);
    f[6] = (byte) (payload.length >>> 8);
    f[7] = (byte) payload.length;
    System.arraycopy(payload, 0, f, 8, payload.length);
    return f;
  }

  /** HTTP/1.1 chunks of random sizes, some with an extension, then the last chunk and a trailer. */
  private static byte[] chunk(byte[] body, Random random) {
    ByteArrayOutputStream c = new ByteArrayOutputStream();
    int at = 0;
    while (at < body.length) {
      int n = Math.min(body.length - at, 1 + random.nextInt(20_000));
      c.writeBytes(bytes(Integer.toHexString(n) + (random.nextBoolean() ? ";x=y" : "") + "\r\n"));
      c.write(body, at, n);
      c.writeBytes(bytes("\r\n"));
      at += n;
    }
    c.writeBytes(bytes("0\r\nTrailer: t\r\n\r\n"));
    return c.toByteArray();
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream c = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      c.writeBytes(p);
    }
    return c.toByteArray();
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
