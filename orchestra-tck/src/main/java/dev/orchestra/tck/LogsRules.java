package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;

import dev.orchestra.Container;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Logs: two streams, byte for byte, from the first byte, as often as asked. */
abstract class LogsRules extends DriverRules {

  LogsRules(DriverTck kit) {
    super(kit);
  }

  @Test
  @DisplayName("stdout and stderr arrive on their own streams")
  void streamsKeptApart() {
    Result r = runToEnd(task("both", sh("echo out; echo err >&2")).build());

    assertThat(r.out()).as("stdout").isEqualTo("out\n");
    assertThat(r.err()).as("stderr").isEqualTo("err\n");
  }

  @Test
  @DisplayName("1 MiB on stdout and 1 MiB on stderr arrive byte for byte")
  void megabyteLogsExact() {
    Result r =
        runToEnd(
            task("mebibyte", sh("yes out | head -c 1048576; yes err | head -c 1048576 >&2"))
                .build());

    assertThat(r.exitCode()).as("exit code").isZero();
    assertSameBytes("stdout", r.stdout(), "out\n".repeat(MIB / 4).getBytes(UTF8));
    assertSameBytes("stderr", r.stderr(), "err\n".repeat(MIB / 4).getBytes(UTF8));
  }

  @Test
  @DisplayName("binary output is binary-safe: every byte value arrives unchanged")
  void binarySafe() {
    byte[] bytes = randomBytes(256 * 1024);
    for (int b = 0; b < 256; b++) {
      bytes[b] = (byte) b;
    }
    Result r = runToEnd(task("binary", "cat").stdin(bytes).build());

    assertThat(r.exitCode()).as("exit code").isZero();
    assertSameBytes("stdout", r.stdout(), bytes);
  }

  @Test
  @DisplayName("a partial last line without newline is kept, on both streams")
  void partialLastLineKept() {
    Result r = runToEnd(task("partial", sh("printf 'no newline'; printf 'err tail' >&2")).build());

    assertThat(r.out()).as("stdout").isEqualTo("no newline");
    assertThat(r.err()).as("stderr").isEqualTo("err tail");
  }

  @Test
  @DisplayName("logs can be read again after the task exited, the same bytes each time")
  void logsRepeatable() {
    Container c =
        driver.runContainer(task("repeat", sh("echo one; echo two >&2; printf three")).build());
    awaitDone(c);

    Output first = logsOf(c);
    Output second = logsOf(c);

    assertThat(first.out()).as("stdout").isEqualTo("one\nthree");
    assertThat(first.err()).as("stderr").isEqualTo("two\n");
    assertSameBytes("stdout of the second call", second.stdout(), first.stdout());
    assertSameBytes("stderr of the second call", second.stderr(), first.stderr());
  }

  @Test
  @DisplayName("logs are readable while the task runs, from the first byte")
  void logsWhileRunning() {
    Container c = driver.runContainer(task("talker", sh("echo first; sleep 300")).build());

    awaitAtMost("stdout of a running task to show its first line")
        .untilAsserted(() -> assertThat(logsOf(c).out()).isEqualTo("first\n"));
    assertThat(c.status().isDone()).as("isDone() of a task sleeping 300 s").isFalse();
    assertThat(logsOf(c).out()).as("stdout read a second time").isEqualTo("first\n");
    c.cleanup();
  }
}
