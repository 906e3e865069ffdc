package dev.orchestra.docker;

/**
 * How far a follow has delivered each stream of a container's log, and which messages of a fresh
 * read of the log are new: the arithmetic that makes {@link ContainerLogs#follow} exact.
 *
 * <p>The engine stamps every log message with the time its copier read it, to the nanosecond, and
 * keeps the stamp with the message: every read of the log shows the same message with the same
 * timestamp. Within one stream the stamps never decrease (the copier reads in order); only the
 * pieces of one line longer than the engine's 16 KiB buffer share one stamp (a <em>run</em>). So a
 * stream's position is the last delivered stamp and how many of the messages carrying it were
 * delivered; across the two streams the log's order is the engine's, not the stamps'.
 *
 * <p>A read of the log's tail (its last N messages) can be used only if it reaches back to what was
 * delivered: its first messages must be recognisably old. A {@link Pass} classifies each message of
 * one read, in the log's order, and answers {@link Verdict#UNSURE} as soon as it cannot tell, when
 * the read started after a message that is still new, or inside a run whose start it has not seen:
 * the read is then abandoned and a longer tail read instead. Delivering exactly what a pass calls
 * {@link Verdict#NEW} keeps each stream's delivered bytes a prefix of the stream, whichever way a
 * pass ends.
 *
 * <p>Not thread-safe: one follow, one thread at a time.
 */
final class LogCursor {

  static final int STDOUT = 0;
  static final int STDERR = 1;

  /**
   * The longest run (pieces of one long line) that reads of the tail still reach back into: 16
   * pieces, 256 KiB. A longer line in progress is delivered once it has ended, or the task has.
   */
  static final long LONG_RUN = 16;

  /** A read of every message the engine keeps, for the {@code tail} of a read. */
  static final int ALL = -1;

  /** The fewest messages a read of the log's tail asks for. */
  static final int MIN_TAIL = 256;

  private static final long NONE = Long.MIN_VALUE;

  /** Per stream: the timestamp (epoch nanoseconds) of the last delivered message, or NONE. */
  private final long[] last = {NONE, NONE};

  /** Per stream: how many delivered messages carry that timestamp. */
  private final long[] atLast = new long[2];

  /** How many messages were delivered in all. */
  private long delivered;

  /** What a pass makes of one message. */
  enum Verdict {
    /** Delivered before: skip it. */
    OLD,
    /** Not delivered yet: deliver it now (the cursor has moved past it). */
    NEW,
    /** Cannot tell from this read: abandon it and read further back. */
    UNSURE
  }

  /** Whether anything was delivered yet, on either stream. */
  boolean started() {
    return last[STDOUT] != NONE || last[STDERR] != NONE;
  }

  /** How many messages were delivered in all. */
  long delivered() {
    return delivered;
  }

  /**
   * The newer of the two streams' last delivered timestamps, or {@link Long#MIN_VALUE} before
   * anything was delivered. Where the engine stamps both streams from one clock in the log's order
   * (Podman's conmon; not Docker, whose copiers stamp each stream on its own), every message after
   * the delivered ones is stamped no earlier than it. A read of every message stamped at or after
   * it then holds everything not delivered yet and, on the stream it belongs to, the whole run at
   * the cursor (the other stream's new messages are stamped after that stream's cursor), so a
   * {@link #pass(boolean)} of it may count as whole.
   */
  long newestLast() {
    return Math.max(last[STDOUT], last[STDERR]);
  }

  /**
   * Whether some stream's last delivered message lies deep in a run that is too long to re-read.
   */
  boolean inLongRun() {
    return atLast[STDOUT] > LONG_RUN || atLast[STDERR] > LONG_RUN;
  }

  /** How many delivered messages the longer of the two current runs holds. */
  long longestRun() {
    return Math.max(atLast[STDOUT], atLast[STDERR]);
  }

  /**
   * Whether the newest message of the log, as a probe read it, merely continues a long run in
   * progress: then nothing can be delivered cheaply until that line or the task ends.
   */
  boolean continuesLongRun(int stream, long timestamp) {
    return atLast[stream] > LONG_RUN && timestamp == last[stream];
  }

  /**
   * How many of the newest messages the next read asks for: enough to reach back to the last
   * delivered one if the task wrote about {@code expected} messages since the last read began, and
   * into the runs the cursor stands in. A read that asks for too few costs the engine little (it
   * finds the start of the tail from the end of its files, and the read is abandoned at its first
   * message); one that asks for too many makes it send every message again. Everything while the
   * log is small: a whole read is always sure, where a read that starts with the very message
   * delivered last cannot tell it from a later one with the same timestamp.
   */
  int nextTail(long expected) {
    long want = MIN_TAIL + expected + expected / 4 + 2 * longestRun();
    if ((want >= delivered && delivered <= 4 * MIN_TAIL) || want > Integer.MAX_VALUE / 2) {
      return ALL;
    }
    return (int) want;
  }

  /** The tail of the next read after one of {@code tail} messages did not reach back far enough. */
  static int further(int tail) {
    return tail == ALL || tail > Integer.MAX_VALUE / 2 ? ALL : tail * 2;
  }

  /**
   * Starts classifying one read of the log.
   *
   * @param whole whether the read holds everything the engine keeps of the log, from its oldest
   *     message: then nothing is unsure
   */
  Pass pass(boolean whole) {
    return new Pass(whole);
  }

  /** One read of the log, classified message by message in the order the engine sent them. */
  final class Pass {

    private final boolean whole;

    /**
     * Whether this read showed an old message: it then holds everything after what was delivered.
     */
    private boolean anchored;

    /** Per stream: whether this read showed the start of the run at the stream's cursor. */
    private final boolean[] runStart = new boolean[2];

    /** Per stream: how many messages of that run this read showed. */
    private final long[] runSeen = new long[2];

    private final boolean[] deliveredHere = new boolean[2];
    private long fresh;
    private boolean gap;
    private boolean backwards;
    private boolean unsure;

    private Pass(boolean whole) {
      this.whole = whole;
    }

    /**
     * Classifies the next message of the read.
     *
     * @param stream {@link #STDOUT} or {@link #STDERR}
     * @param timestamp the engine's timestamp of the message, in epoch nanoseconds
     */
    Verdict classify(int stream, long timestamp) {
      long l = last[stream];
      if (l != NONE && timestamp < l) {
        backwards |= deliveredHere[stream];
        anchored = true;
        runStart[stream] = true;
        runSeen[stream] = 0;
        return Verdict.OLD;
      }
      if (l != NONE && timestamp == l) {
        if (!runStart[stream]) {
          if (!whole) {
            return abandon();
          }
          runStart[stream] = true;
          runSeen[stream] = 0;
        }
        runSeen[stream]++;
        if (runSeen[stream] <= atLast[stream]) {
          anchored = true;
          return Verdict.OLD;
        }
        atLast[stream] = runSeen[stream];
        return delivered(stream);
      }
      if (!anchored) {
        if (!whole) {
          return abandon();
        }
        gap |= l != NONE && !deliveredHere[stream];
      }
      last[stream] = timestamp;
      atLast[stream] = 1;
      runStart[stream] = true;
      runSeen[stream] = 1;
      return delivered(stream);
    }

    private Verdict abandon() {
      unsure = true;
      return Verdict.UNSURE;
    }

    private Verdict delivered(int stream) {
      deliveredHere[stream] = true;
      fresh++;
      delivered++;
      return Verdict.NEW;
    }

    /** Whether this read was abandoned: it did not reach back to what was delivered. */
    boolean unsure() {
      return unsure;
    }

    /** How many messages this read delivered. */
    long fresh() {
      return fresh;
    }

    /**
     * Whether the engine no longer held what followed the last delivered message: the log rotated
     * it away before it was read (a whole read found none of the delivered messages).
     */
    boolean gap() {
      return gap;
    }

    /** Whether a stream's timestamps decreased within this read: the engine's clock went back. */
    boolean backwards() {
      return backwards;
    }
  }
}
