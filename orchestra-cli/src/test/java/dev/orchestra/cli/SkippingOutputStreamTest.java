package dev.orchestra.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class SkippingOutputStreamTest {

  private boolean targetClosed;
  private final ByteArrayOutputStream target =
      new ByteArrayOutputStream() {
        @Override
        public void close() {
          targetClosed = true;
        }
      };
  private final SkippingOutputStream skipping = new SkippingOutputStream(target);

  @Test
  void aLogReadAgainFromItsStartReachesTheTargetOnce() throws IOException {
    pass("hel");
    pass("hello wo");
    pass("hello world\n");
    pass("hello world\n");

    assertThat(target.toString(UTF_8)).isEqualTo("hello world\n");
    assertThat(skipping.forwarded()).isEqualTo(12);
  }

  @Test
  void splitsAWriteThatStraddlesWhatWasForwarded() throws IOException {
    pass("abc");
    skipping.rewind();
    skipping.write("ab".getBytes(UTF_8));
    skipping.write("cdef".getBytes(UTF_8), 0, 4);
    skipping.write('g');

    assertThat(target.toString(UTF_8)).isEqualTo("abcdefg");
  }

  @Test
  void honoursTheOffsetOfAWrite() throws IOException {
    pass("ab");
    skipping.rewind();
    byte[] buffer = "xxabcdxx".getBytes(UTF_8);
    skipping.write(buffer, 2, 4);

    assertThat(target.toString(UTF_8)).isEqualTo("abcd");
  }

  @Test
  void forwardsEveryByteValue() throws IOException {
    byte[] all = new byte[256];
    for (int i = 0; i < all.length; i++) {
      all[i] = (byte) i;
    }
    skipping.rewind();
    skipping.write(all, 0, 100);
    skipping.rewind();
    for (byte b : all) {
      skipping.write(b);
    }

    assertThat(target.toByteArray()).isEqualTo(all);
  }

  @Test
  void closeLeavesTheTargetOpen() throws IOException {
    pass("written");
    skipping.close();

    assertThat(targetClosed).isFalse();
    assertThat(target.toString(UTF_8)).isEqualTo("written");
  }

  private void pass(String logSoFar) throws IOException {
    skipping.rewind();
    skipping.write(logSoFar.getBytes(UTF_8));
    skipping.flush();
  }
}
