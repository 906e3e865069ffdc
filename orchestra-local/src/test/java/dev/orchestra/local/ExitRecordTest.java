package dev.orchestra.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.orchestra.ExitReason;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The record of a task's end on disk: what is written reads back exactly. */
class ExitRecordTest {

  @TempDir Path root;

  @ParameterizedTest
  @ValueSource(
      strings = {
        "plain",
        " leading space",
        "trailing space ",
        "key=value:colon#hash!bang",
        "back\\slash",
        "non-ASCII é ü 任务",
        "emoji \uD83D\uDE80",
        "lone \uD800 surrogate",
        "\\u0041 not an escape"
      })
  void anOddTaskIdReadsBackExactly(String taskId) throws IOException {
    new ExitRecord(taskId, 42, 7, ExitReason.EXITED).write(root);

    ExitRecord read = ExitRecord.read(root);

    assertThat(read).isEqualTo(new ExitRecord(taskId, 42, 7, ExitReason.EXITED));
    assertThat(Files.readString(root.resolve(ExitRecord.FILE), StandardCharsets.ISO_8859_1))
        .as("the record is ASCII")
        .matches("\\p{ASCII}*");
    assertThat(root.resolve(ExitRecord.FILE + ".tmp")).doesNotExist();
  }

  @Test
  void aRecordThatPropertiesStoreWroteReadsToo() throws IOException {
    Properties values = new Properties();
    values.setProperty("format", "1");
    values.setProperty("task", "a = b: é");
    values.setProperty("pid", "12");
    values.setProperty("exitCode", "137");
    values.setProperty("reason", "TIMED_OUT");
    try (Writer out =
        Files.newBufferedWriter(root.resolve(ExitRecord.FILE), StandardCharsets.UTF_8)) {
      values.store(out, "how a task of the orchestra local driver ended");
    }

    assertThat(ExitRecord.read(root))
        .isEqualTo(new ExitRecord("a = b: é", 12, 137, ExitReason.TIMED_OUT));
  }

  @Test
  void aLaterRecordReplacesAnEarlierOne() throws IOException {
    new ExitRecord("t", 1, 0, ExitReason.EXITED).write(root);
    new ExitRecord("t", 2, 143, ExitReason.STOPPED).write(root);

    assertThat(ExitRecord.read(root)).isEqualTo(new ExitRecord("t", 2, 143, ExitReason.STOPPED));
  }
}
