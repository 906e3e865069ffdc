package dev.orchestra.docker;

import com.github.dockerjava.api.exception.NotFoundException;
import dev.orchestra.ContainerNotFoundException;
import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.spi.Exceptions;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The log of one task's container ({@link DockerContainer}): {@link #read} for {@code logs()},
 * {@link #follow} for {@code follow()}, both through {@link TimestampedLogRead} on the driver's own
 * connections.
 */
final class ContainerLogs {

  private static final Logger LOG = LoggerFactory.getLogger(ContainerLogs.class);

  /** The first pause of a follow after a read that found nothing new; doubled up to QUIET_POLL. */
  private static final Duration FIRST_POLL = Duration.ofMillis(5);

  /** The longest pause of a follow between two reads of a quiet task's log. */
  private static final Duration QUIET_POLL = Duration.ofMillis(250);

  /** How long a follow waits for an engine that went away in the middle of its stream. */
  private static final Duration ENGINE_RETURN = Duration.ofSeconds(60);

  private final DockerNamespace namespace;
  private final DockerContainer container;

  /** Whether the engine has written all of the ended task's log ({@link #awaitWholeLog}). */
  private volatile boolean wholeLog;

  ContainerLogs(DockerNamespace namespace, DockerContainer container) {
    this.namespace = namespace;
    this.container = container;
  }

  /** {@link dev.orchestra.Container#logs}: everything the task wrote so far, once. */
  void read(OutputStream stdout, OutputStream stderr) {
    if (stdout == null || stderr == null) {
      throw new IllegalArgumentException("stdout and stderr must not be null");
    }
    String action = "reading the logs of";
    container.requireDriverOpen(action);
    String what = action + " container " + container.name() + " of " + container.describe();
    if (container.isDone()) {
      awaitWholeLog(what);
    }
    LOG.debug("{} container {} of {}", action, container.name(), container.describe());
    OutputStream[] targets = {stdout, stderr};
    IOException[] writeFailure = new IOException[1];
    // A read of what was written is a quick call: each read of its answer is bounded by the
    // request timeout. The handler may get a message in pieces (TimestampedLogRead.startPlain).
    TimestampedLogRead read =
        TimestampedLogRead.startPlain(
            namespace.connection(),
            container.id(),
            (stream, timestamp, bytes, from, to) -> {
              try {
                targets[stream].write(bytes, from, to - from);
                return true;
              } catch (IOException e) {
                writeFailure[0] = e;
                return false;
              }
            },
            "container " + container.name());
    try {
      read.awaitCompletion(what);
    } catch (RuntimeException e) {
      throw readFailure(action, what, e);
    }
    try {
      if (writeFailure[0] != null) {
        throw writeFailure[0];
      }
      stdout.flush();
      stderr.flush();
    } catch (IOException e) {
      throw writeFailed(e);
    }
  }

  /** The caller's stream refused the log's bytes. */
  private OrchestraException writeFailed(IOException e) {
    return new OrchestraException(
        "writing the logs of container "
            + container.name()
            + " of "
            + container.describe()
            + " failed: "
            + e,
        e);
  }

  /**
   * Reads the log again and again while the task runs, each time its newest messages with the
   * engine's timestamps, and delivers the ones not delivered yet ({@link LogCursor} tells which):
   * every byte once, in order, also across the log file rotations that make the engine's own {@code
   * follow=true} stream repeat and skip whole files (Docker 20.10), and across a restart of the
   * engine. A read that does not reach back to what was delivered is abandoned at its first message
   * and made again further back. A quiet task's log is read again after a pause that grows from 5
   * to 250 ms; the end of the task (its die event) ends the pause. Once the status is final, one
   * last read delivers the rest: the engine records the end only after it has logged the task's
   * output.
   */
  void follow(OutputStream stdout, OutputStream stderr) {
    if (stdout == null || stderr == null) {
      throw new IllegalArgumentException("stdout and stderr must not be null");
    }
    String what =
        "following the logs of container " + container.name() + " of " + container.describe();
    container.requireDriverOpen("following the logs of");
    LogCursor cursor = new LogCursor();
    boolean exactTails = namespace.connection().flavour().exactLogTails();
    // Where reads are not exact: the previous read, whose last message was held back.
    HeldLast[] lastRead = {null};
    OutputStream[] targets = {stdout, stderr};
    int tail = LogCursor.ALL;
    Duration pause = FIRST_POLL;
    Pause engineAway = null;
    long reads = 0;
    long retries = 0;
    long[] received = {0};
    // The task's pace: messages per nanosecond, from the last two reads that reached back.
    long lastStart = System.nanoTime();
    double pace = 0;
    LOG.debug("{}: reading its log until it ends", what);
    while (true) {
      boolean ended = container.isDone();
      if (ended) {
        awaitWholeLog(what);
      }
      LogCursor.Pass pass = null;
      long start = System.nanoTime();
      try {
        if (!exactTails) {
          // Every message from the last delivered one's second on (LogCursor.newestLast): the
          // engine filters by its exact time, so one nanosecond before the whole-second stamp
          // takes that whole second. The read's last message may be incomplete while the task
          // runs (EngineFlavour.exactLogTails).
          long newest = cursor.newestLast();
          long since = newest == Long.MIN_VALUE ? TimestampedLogRead.ANY_TIME : newest - 1;
          reads++;
          pass =
              readTail(
                  cursor, LogCursor.ALL, since, ended ? null : lastRead, targets, received, what);
        } else if (ended || !cursor.inLongRun() || !onlyLongLineGrows(cursor, what)) {
          reads++;
          pass = readTail(cursor, tail, TimestampedLogRead.ANY_TIME, null, targets, received, what);
        }
      } catch (OrchestraException e) {
        if (e instanceof OrchestraInterruptedException
            || e instanceof ContainerNotFoundException
            || !EngineErrors.isTransportFailure(e)
            || EngineErrors.isTimeout(e)) {
          // A timeout is an engine that stopped answering, not one that went away: no waiting.
          throw e;
        }
        // The engine went away (it restarts, say): wait for it, then go on from the cursor.
        LOG.debug("{}: the engine does not answer: {}", what, e.toString());
        if (engineAway == null) {
          engineAway = new Pause(what, ENGINE_RETURN);
        }
        if (!engineAway.again()) {
          throw new OrchestraException(
              what
                  + " failed: the engine did not come back within "
                  + ENGINE_RETURN
                  + ": "
                  + e.getMessage(),
              e);
        }
        continue;
      }
      engineAway = null;
      if (pass != null && pass.unsure()) {
        retries++;
        tail = LogCursor.further(tail);
        continue;
      }
      if (ended) {
        LOG.debug(
            "{}: done after {} reads ({} of them further back) of {} messages, {} delivered",
            what,
            reads,
            retries,
            received[0],
            cursor.delivered());
        return;
      }
      long fresh = pass == null ? 0 : pass.fresh();
      pace = fresh / (double) Math.max(1, start - lastStart);
      lastStart = start;
      if (fresh == 0) {
        awaitEnd(pause, what);
        pause =
            pause.multipliedBy(2).compareTo(QUIET_POLL) > 0 ? QUIET_POLL : pause.multipliedBy(2);
      } else {
        pause = FIRST_POLL;
      }
      tail = cursor.nextTail((long) (pace * (System.nanoTime() - lastStart)));
    }
  }

  /**
   * One read of the log's newest {@code tail} messages stamped after {@code since}: delivers the
   * new ones, abandons the read at the first one it cannot place. With {@code holdLast} (the
   * previous such read, in a one-element array), the read's last message is delivered only if it is
   * known to be whole ({@link HeldLast#release}); otherwise the next read shows it again.
   */
  private LogCursor.Pass readTail(
      LogCursor cursor,
      int tail,
      long since,
      HeldLast[] holdLast,
      OutputStream[] targets,
      long[] received,
      String what) {
    container.requireDriverOpen("following the logs of");
    LogCursor.Pass pass = cursor.pass(tail == LogCursor.ALL);
    IOException[] writeFailure = new IOException[1];
    TimestampedLogRead.Handler deliver =
        (stream, timestamp, bytes, from, to) -> {
          LogCursor.Verdict verdict = pass.classify(stream, timestamp);
          if (verdict != LogCursor.Verdict.NEW) {
            return verdict == LogCursor.Verdict.OLD;
          }
          try {
            targets[stream].write(bytes, from, to - from);
            targets[stream].flush();
            return true;
          } catch (IOException e) {
            writeFailure[0] = e;
            return false;
          }
        };
    LOG.trace("{}: reading the newest {} messages", what, tail);
    HeldLast held = holdLast == null ? null : new HeldLast(deliver, since);
    TimestampedLogRead.Handler handler = held == null ? deliver : held;
    TimestampedLogRead read =
        TimestampedLogRead.start(
            namespace.connection().apiTransport(),
            container.id(),
            tail,
            since,
            handler,
            "container " + container.name());
    try {
      read.awaitCompletion(what);
    } catch (RuntimeException e) {
      throw readFailure("following the logs of", what, e);
    } finally {
      received[0] += read.messages();
    }
    if (held != null) {
      held.release(holdLast[0]);
      holdLast[0] = held;
    }
    if (writeFailure[0] != null) {
      throw writeFailed(writeFailure[0]);
    }
    if (pass.gap()) {
      LOG.warn(
          "{}: the engine no longer holds what the task wrote after the last bytes delivered (its"
              + " log rotated them away before they were read); going on after the gap",
          what);
    }
    if (pass.backwards()) {
      LOG.warn(
          "{}: the engine's timestamps went backwards within one stream (its clock was set"
              + " back): bytes written meanwhile may be missing; logs() has them",
          what);
    }
    return pass;
  }

  /**
   * Reads the newest message only: whether it continues a line that is too long to find again in
   * every read (then nothing is read further until that line or the task ends).
   */
  private boolean onlyLongLineGrows(LogCursor cursor, String what) {
    long[] newest = {-1, 0};
    TimestampedLogRead read =
        TimestampedLogRead.start(
            namespace.connection().apiTransport(),
            container.id(),
            1,
            TimestampedLogRead.ANY_TIME,
            (stream, timestamp, bytes, from, to) -> {
              newest[0] = stream;
              newest[1] = timestamp;
              return true;
            },
            "container " + container.name());
    try {
      read.awaitCompletion(what);
    } catch (RuntimeException e) {
      throw readFailure("following the logs of", what, e);
    }
    return newest[0] >= 0 && cursor.continuesLongRun((int) newest[0], newest[1]);
  }

  /**
   * Once the task has ended, waits until the engine has written all of its log, where the engine
   * reports the end first ({@link EngineFlavour#logLagsExit()}): Podman's answer to {@code POST
   * /containers/{id}/wait} comes once conmon, which copies the task's output into the log, has
   * exited. Bounded by the request timeout; at most once per container and instance.
   */
  private void awaitWholeLog(String what) {
    if (wholeLog || !namespace.connection().flavour().logLagsExit()) {
      return;
    }
    Duration patience = namespace.connection().requestTimeout();
    try {
      LOG.debug("{}: waiting until the engine has written the whole log", what);
      namespace
          .connection()
          .streams()
          .waitContainerCmd(container.id())
          .start()
          .awaitStatusCode(patience.toMillis(), TimeUnit.MILLISECONDS);
      wholeLog = true;
    } catch (NotFoundException e) {
      throw container.notFound("reading the logs of", e);
    } catch (RuntimeException e) {
      throw readFailure("reading the logs of", what, e);
    }
  }

  /** Waits up to {@code pause} for the end of the task. */
  private void awaitEnd(Duration pause, String what) {
    if (container.isDone()) {
      return;
    }
    try {
      container.onExit().get(pause.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException | ExecutionException e) {
      // Still running, or gone (removed, driver closed): the next read tells which.
      LOG.trace("{}: {}", what, e.toString());
    } catch (InterruptedException e) {
      throw Exceptions.launder(what, e);
    }
  }

  /** What a failed log read throws: a container that is gone, or removed under it, is not found. */
  private RuntimeException readFailure(String action, String what, RuntimeException e) {
    if (e instanceof NotFoundException notFound) {
      return container.notFound(action, notFound);
    }
    RuntimeException failure = EngineErrors.failure(what, e);
    if (container.isRemoving() && !(failure instanceof OrchestraInterruptedException)) {
      return container.notFound(action, null);
    }
    return failure;
  }

  /**
   * Hands each message of a read on once the next one came, and the read's last one only if it is
   * known to be whole ({@link #release}): the same message ended the previous read from the same
   * time and of the same length, so the log did not grow since and the record was complete.
   */
  private static final class HeldLast implements TimestampedLogRead.Handler {

    private final TimestampedLogRead.Handler next;
    private final long since;
    private byte[] held = new byte[0];
    private int heldLength;
    private int heldStream = -1;
    private long heldTimestamp;
    private long count;

    HeldLast(TimestampedLogRead.Handler next, long since) {
      this.next = next;
      this.since = since;
    }

    @Override
    public boolean message(int stream, long timestamp, byte[] bytes, int from, int to) {
      boolean goOn = heldStream < 0 || next.message(heldStream, heldTimestamp, held, 0, heldLength);
      if (held.length < to - from) {
        held = new byte[to - from];
      }
      System.arraycopy(bytes, from, held, 0, to - from);
      heldLength = to - from;
      heldStream = stream;
      heldTimestamp = timestamp;
      count++;
      return goOn;
    }

    /**
     * Hands the read's last message on if {@code previous} read, from the same time, ended with it
     * at the same length.
     */
    void release(HeldLast previous) {
      if (heldStream >= 0
          && previous != null
          && previous.since == since
          && previous.count == count
          && previous.heldStream == heldStream
          && previous.heldTimestamp == heldTimestamp
          && Arrays.equals(previous.held, 0, previous.heldLength, held, 0, heldLength)) {
        next.message(heldStream, heldTimestamp, held, 0, heldLength);
      }
    }
  }
}
