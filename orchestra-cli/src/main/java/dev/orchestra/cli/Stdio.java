package dev.orchestra.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The standard streams a command works with: the process's own when run from a terminal, captured
 * ones when run in-process.
 *
 * @param in the standard input
 * @param inPiped whether the standard input is a pipe or a file (forwarded to the task) rather than
 *     a terminal (not forwarded: a task would otherwise wait for the keyboard)
 * @param out the standard output: the task's output goes here, byte for byte
 * @param err the standard error: the task's errors and the command's own messages go here
 */
record Stdio(InputStream in, boolean inPiped, OutputStream out, OutputStream err) {

  /** Where Linux shows what file descriptor 0 is. */
  private static final Path STDIN_LINK = Path.of("/proc/self/fd/0");

  /**
   * The process's own streams.
   *
   * @return the standard streams of this process
   */
  static Stdio system() {
    return new Stdio(System.in, !stdinIsTerminal(), System.out, System.err);
  }

  /**
   * Whether this process reads its standard input from a terminal. On Linux the answer comes from
   * what file descriptor 0 points at; elsewhere from whether the JVM sees a console (which needs
   * standard output to be a terminal as well, so a piped output there also counts as piped input).
   */
  private static boolean stdinIsTerminal() {
    if (Files.isSymbolicLink(STDIN_LINK)) {
      try {
        String target = Files.readSymbolicLink(STDIN_LINK).toString();
        return target.startsWith("/dev/pts/")
            || target.startsWith("/dev/tty")
            || target.equals("/dev/console");
      } catch (IOException e) {
        return System.console() != null;
      }
    }
    return System.console() != null;
  }
}
