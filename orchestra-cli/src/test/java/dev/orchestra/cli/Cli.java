package dev.orchestra.cli;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Runs the {@code orchestra} command in this JVM with captured streams. */
final class Cli {

  private Cli() {}

  /** What one run left: its exit code and everything it wrote. */
  record Result(int exitCode, byte[] outBytes, byte[] errBytes) {
    String out() {
      return new String(outBytes, StandardCharsets.UTF_8);
    }

    String err() {
      return new String(errBytes, StandardCharsets.UTF_8);
    }
  }

  /** Runs with a terminal-like standard input: nothing is forwarded. */
  static Result run(String... args) {
    return run(new ByteArrayInputStream(new byte[0]), false, args);
  }

  /** Runs with the given bytes piped to its standard input. */
  static Result runWithInput(byte[] input, String... args) {
    return run(new ByteArrayInputStream(input), true, args);
  }

  static Result run(InputStream in, boolean piped, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = new Main(new Stdio(in, piped, out, err), false).run(args);
    return new Result(code, out.toByteArray(), err.toByteArray());
  }

  /**
   * {@code run --param root=ROOT} followed by the given arguments: every task of the tests lives in
   * a directory of the test's own.
   */
  static String[] runOnLocal(Path root, String... args) {
    List<String> all = new ArrayList<>(List.of("run", "--param", "root=" + root));
    all.addAll(Arrays.asList(args));
    return all.toArray(String[]::new);
  }
}
