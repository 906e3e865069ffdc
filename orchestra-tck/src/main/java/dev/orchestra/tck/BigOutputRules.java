package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Big output and both streams at full speed: streamed, byte-exact. */
abstract class BigOutputRules extends ReliabilityRules {

  BigOutputRules(ReliabilityTck kit) {
    super(kit);
  }

  @Test
  @DisplayName("a task's huge stdout comes through logs() byte for byte with a small heap")
  void hugeLogsStreamed() {
    long maxHeapMib = Runtime.getRuntime().maxMemory() / (1024 * 1024);
    Assumptions.assumeTrue(
        maxHeapMib <= ReliabilityTck.SMALL_HEAP_MIB,
        () ->
            "the heap may grow to "
                + maxHeapMib
                + " MiB: run with -Xmx"
                + ReliabilityTck.SMALL_HEAP_MIB
                + "m or less to prove the output is streamed");
    long size = kit.bigOutputBytes();
    String line = "orchestra big output 0123456789 abcdefghijklmnopqrstuvwxyz ".repeat(270) + "\n";
    Driver driver = open(newNamespace());
    Container c =
        driver.runContainer(
            task("big", sh("yes \"$LINE\" | head -c " + size))
                .env("LINE", line.substring(0, line.length() - 1))
                .build());
    ContainerStatus s =
        await("the task writing " + size + " bytes to end")
            .atMost(testTimeout())
            .pollInterval(Duration.ofMillis(500))
            .until(c::status, ContainerStatus::isDone);
    assertThat(s.exitCode()).as("exit code").isZero();
    PatternStream out = new PatternStream(line.getBytes(StandardCharsets.UTF_8));
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    c.logs(out, err);
    assertThat(out.mismatch())
        .as("first byte of stdout that differs from the pattern")
        .isEqualTo(-1);
    assertThat(out.count()).as("bytes of stdout").isEqualTo(size);
    assertThat(err.size()).as("bytes of stderr").isZero();
  }

  @Test
  @DisplayName(
      "stdout and stderr written interleaved at full speed each arrive byte for byte, in order")
  void interleavedStreamsExact() {
    Driver driver = open(newNamespace());
    int lines = 5_000;
    Container alternating =
        driver.runContainer(
            task(
                    "alternating",
                    sh(
                        "i=0; while [ $i -lt "
                            + lines
                            + " ]; do echo \"out $i\"; echo \"err $i\" >&2;"
                            + " i=$((i+1)); done"))
                .build());
    long each = 8L * 1024 * 1024;
    String outLine = "stdout-stream-ABCDEFGHIJ";
    String errLine = "stderr-stream-0123456789-klmnop";
    Container racing =
        driver.runContainer(
            task(
                    "racing",
                    sh(
                        "yes "
                            + outLine
                            + " | head -c "
                            + each
                            + " & yes "
                            + errLine
                            + " | head -c "
                            + each
                            + " >&2 & wait"))
                .build());
    assertThat(awaitDone(alternating).exitCode()).as("exit code of the alternating task").isZero();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    alternating.logs(out, err);
    StringBuilder expectedOut = new StringBuilder();
    StringBuilder expectedErr = new StringBuilder();
    for (int i = 0; i < lines; i++) {
      expectedOut.append("out ").append(i).append('\n');
      expectedErr.append("err ").append(i).append('\n');
    }
    assertThat(out.toString(StandardCharsets.UTF_8))
        .as("stdout of the alternating task")
        .isEqualTo(expectedOut.toString());
    assertThat(err.toString(StandardCharsets.UTF_8))
        .as("stderr of the alternating task")
        .isEqualTo(expectedErr.toString());

    assertThat(awaitDone(racing).exitCode()).as("exit code of the racing task").isZero();
    PatternStream o = new PatternStream((outLine + "\n").getBytes(StandardCharsets.UTF_8));
    PatternStream e = new PatternStream((errLine + "\n").getBytes(StandardCharsets.UTF_8));
    racing.logs(o, e);
    assertThat(o.mismatch()).as("first byte of stdout not of the stdout pattern").isEqualTo(-1);
    assertThat(e.mismatch()).as("first byte of stderr not of the stderr pattern").isEqualTo(-1);
    assertThat(o.count()).as("bytes of stdout").isEqualTo(each);
    assertThat(e.count()).as("bytes of stderr").isEqualTo(each);
  }
}
