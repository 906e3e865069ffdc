package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Standard input: all the bytes, then end of file. */
abstract class StdinRules extends DriverRules {

  StdinRules(DriverTck kit) {
    super(kit);
  }

  @Test
  @DisplayName("the given bytes arrive, then end of file: cat echoes them and exits 0")
  void bytesThenEndOfFile() {
    Result r = runToEnd(task("cat", "cat").stdin("hello\nworld").build());

    assertThat(r.exitCode()).as("exit code of cat").isZero();
    assertThat(r.out()).as("stdout of cat").isEqualTo("hello\nworld");
  }

  @Test
  @DisplayName("4 MiB of random bytes from an InputStream arrive exactly")
  void megabytesExact() {
    byte[] bytes = randomBytes(4 * MIB);
    Result r = runToEnd(task("cat", "cat").stdin(new ByteArrayInputStream(bytes)).build());

    assertThat(r.exitCode()).as("exit code of cat").isZero();
    assertSameBytes("stdout of cat", r.stdout(), bytes);
  }

  @Test
  @DisplayName("stdin(String) is delivered as UTF-8")
  void stringIsUtf8() {
    String text = "grüße ✓ 日本\n";
    Result r = runToEnd(task("cat", "cat").stdin(text).build());

    assertSameBytes("stdout of cat", r.stdout(), text.getBytes(UTF8));
  }

  @Test
  @DisplayName("a task without stdin reads end of file at once: cat exits 0 with no output")
  void noStdinIsEndOfFile() {
    Result r = runToEnd(task("cat", "cat").build());

    assertThat(r.exitCode()).as("exit code of cat").isZero();
    assertThat(r.out()).as("stdout of cat").isEmpty();
  }
}
