package dev.orchestra.docker;

import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongUnaryOperator;

/**
 * Checks, without keeping them, the bytes a task wrote as numbered lines of a fixed width ({@code
 * printf "%0999d\n"} for 1000 bytes): each number of the stream's sequence once, in order. Notes
 * the first anomalies (a number other than the one expected, a line that is not a number) and goes
 * on after each from the number it found, so that a report tells how far a jump went.
 */
final class NumberedLines extends OutputStream {

  private static final int NOTED = 20;

  private final String name;
  private final int width;
  private final LongUnaryOperator next;
  private final byte[] line;
  private int fill;
  private long expected;
  private long first = -1;
  private volatile long last = -1;
  private volatile long lines;
  private long anomalies;
  private final List<String> noted = new ArrayList<>();

  /**
   * @param name the stream, for reports
   * @param width the bytes of a line, its newline included
   * @param first the number the stream starts with, or -1 to accept any start (a log whose oldest
   *     lines were dropped)
   * @param next the number after a number, in this stream's sequence
   */
  NumberedLines(String name, int width, long first, LongUnaryOperator next) {
    this.name = name;
    this.width = width;
    this.line = new byte[width];
    this.expected = first;
    this.next = next;
  }

  @Override
  public void write(int b) {
    line[fill++] = (byte) b;
    if (fill == width) {
      fill = 0;
      check();
    }
  }

  @Override
  public void write(byte[] b, int off, int len) {
    for (int i = off; i < off + len; i++) {
      write(b[i]);
    }
  }

  private void check() {
    long n = 0;
    boolean number = line[width - 1] == '\n';
    for (int i = 0; i < width - 1 && number; i++) {
      int d = line[i] - '0';
      number = d >= 0 && d <= 9 && n <= (Long.MAX_VALUE - d) / 10;
      n = n * 10 + d;
    }
    lines++;
    if (!number) {
      note(
          "line "
              + lines
              + " is not a number: '"
              + new String(line, 0, Math.min(width, 40))
              + "...'");
      return;
    }
    if (first < 0) {
      first = n;
      if (expected < 0) {
        expected = n;
      }
    }
    if (n != expected) {
      note(
          "line "
              + lines
              + " (byte "
              + (lines - 1) * width
              + "): "
              + n
              + " came after "
              + last
              + " ("
              + (n > expected ? "missing from " + expected : "again")
              + ")");
    }
    last = n;
    expected = next.applyAsLong(n);
  }

  private void note(String anomaly) {
    anomalies++;
    if (noted.size() < NOTED) {
      noted.add(anomaly);
    }
  }

  /** The numbers of the first and the last line, and how many lines came. */
  long first() {
    return first;
  }

  long last() {
    return last;
  }

  long lines() {
    return lines;
  }

  /** Anomalies, and a trailing partial line. */
  long anomalies() {
    return anomalies + (fill == 0 ? 0 : 1);
  }

  /** What came, for an assertion's message. */
  String report() {
    return name
        + ": "
        + lines
        + " lines ("
        + (lines * width + fill)
        + " bytes), numbers "
        + first
        + " to "
        + last
        + ", "
        + anomalies()
        + " anomalies"
        + (noted.isEmpty() ? "" : ": " + String.join("; ", noted))
        + (fill == 0 ? "" : "; a partial last line of " + fill + " bytes");
  }
}
