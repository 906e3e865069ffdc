package dev.orchestra.local;

import static dev.orchestra.local.LocalTesting.awaitDone;
import static dev.orchestra.local.LocalTesting.open;
import static org.assertj.core.api.Assertions.assertThat;

import dev.orchestra.Container;
import dev.orchestra.Driver;
import dev.orchestra.Task;
import java.io.OutputStream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A task's output never passes through the heap. The module's tests run with a heap smaller than
 * the output (see the surefire argLine), so buffering it would fail with OutOfMemoryError.
 */
class LargeOutputTest {

  private static final long SIZE = 256L * 1024 * 1024;

  @TempDir Path root;

  @Test
  void outputLargerThanTheHeapGoesToDiskAndLogsStreamItExactly() {
    assertThat(Runtime.getRuntime().maxMemory())
        .as("this test needs a heap smaller than the output it checks")
        .isLessThan(SIZE);
    try (Driver driver = open(root, "large")) {
      Container c =
          driver.runContainer(
              Task.builder()
                  .id("large")
                  .command("sh", "-c", "head -c " + SIZE + " /dev/zero; head -c 1000 /dev/zero >&2")
                  .build());
      assertThat(awaitDone(c).exitCode()).isZero();

      ZeroCounter out = new ZeroCounter();
      ZeroCounter err = new ZeroCounter();
      c.logs(out, err);

      assertThat(out.count).isEqualTo(SIZE);
      assertThat(out.nonZero).isZero();
      assertThat(err.count).isEqualTo(1000);
    }
  }

  /** Counts bytes, and the ones that are not zero, without keeping them. */
  private static final class ZeroCounter extends OutputStream {
    long count;
    long nonZero;

    @Override
    public void write(int b) {
      count++;
      if (b != 0) {
        nonZero++;
      }
    }

    @Override
    public void write(byte[] b, int off, int len) {
      count += len;
      for (int i = off; i < off + len; i++) {
        if (b[i] != 0) {
          nonZero++;
        }
      }
    }
  }
}
