package dev.orchestra.kubernetes.kubelet;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A container's log as a node keeps it: the container runtime reads the container's output and
 * writes it, one stamped entry per line, to a log the kubelet reads
 * (https://kubernetes.io/docs/concepts/cluster-administration/logging/, the CRI log format: a line
 * longer than 16 KiB, or the rest of the output without a final newline, is an entry of its own).
 * The runtime closes the log when the container's output has ended, before it reports the container
 * exited, so a log read after the exit is whole.
 *
 * <p>The engine's own log cannot serve: Docker 20.10 drops a container's last message when it
 * closes a log written through a queue ({@code mode=non-blocking}: the daemon logs "Error writing
 * log message ... the output file was closed"), and gives a log written directly ten seconds after
 * the exit before it closes it and drops the rest. So {@link PodWorker} attaches to the container
 * before it starts and keeps what it reads here.
 */
final class ContainerLog {

  /** How long a line may grow before it is an entry of its own (the CRI runtime's buffer). */
  private static final int MAX_LINE = 16 * 1024;

  /** The kubelet's stamp before each entry ({@code timestamps=true}): nine digits, UTC. */
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSS'Z'").withZone(ZoneOffset.UTC);

  /** One entry: {@code stream} 1 stdout or 2 stderr, the time the runtime read it, its bytes. */
  record Entry(int stream, Instant time, byte[] bytes) {
    /** Whether the entry is of a stream asked for. */
    boolean of(boolean stdout, boolean stderr) {
      return stream == 1 ? stdout : stderr;
    }

    byte[] stamp() {
      return (STAMP.format(time) + " ").getBytes(StandardCharsets.US_ASCII);
    }
  }

  private final List<Entry> entries = new ArrayList<>();

  /** Each stream's line so far, by stream number (1 and 2). */
  private final ByteArrayOutputStream[] lines = {
    new ByteArrayOutputStream(), new ByteArrayOutputStream(), new ByteArrayOutputStream()
  };

  private boolean ended;

  /** Adds output of {@code stream} (1 or 2), split into entries at each newline. */
  synchronized void write(int stream, byte[] bytes, int offset, int length) {
    if (ended) {
      return;
    }
    Instant now = Instant.now();
    int of = stream == 2 ? 2 : 1;
    ByteArrayOutputStream line = lines[of];
    int start = offset;
    for (int i = offset; i < offset + length; i++) {
      if (bytes[i] == '\n' || line.size() + (i - start) + 1 >= MAX_LINE) {
        line.write(bytes, start, i + 1 - start);
        add(of, now, line);
        start = i + 1;
      }
    }
    line.write(bytes, start, offset + length - start);
  }

  private void add(int stream, Instant time, ByteArrayOutputStream line) {
    entries.add(new Entry(stream, time, line.toByteArray()));
    line.reset();
    notifyAll();
  }

  /** The output ended: the rest of each stream's line becomes an entry and no more come. */
  synchronized void end() {
    if (ended) {
      return;
    }
    Instant now = Instant.now();
    for (int stream = 1; stream <= 2; stream++) {
      if (lines[stream].size() > 0) {
        add(stream, now, lines[stream]);
      }
    }
    ended = true;
    notifyAll();
  }

  synchronized boolean ended() {
    return ended;
  }

  /** Waits at most {@code millis} for the end of the output; whether it ended. */
  synchronized boolean awaitEnd(long millis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    while (!ended) {
      long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      if (left <= 0) {
        return false;
      }
      wait(left);
    }
    return true;
  }

  /** The index of the first of the last {@code tail} entries of the streams asked for. */
  synchronized int tailStart(long tail, boolean stdout, boolean stderr) {
    int i = entries.size();
    for (long n = 0; n < tail && i > 0; ) {
      if (entries.get(--i).of(stdout, stderr)) {
        n++;
      }
    }
    return i;
  }

  /**
   * The entries from index {@code from} on; if there are none yet and the output goes on, waits at
   * most {@code millis} for more. Empty with {@link #ended()} at the end of the log.
   */
  synchronized List<Entry> from(int from, long millis) throws InterruptedException {
    if (entries.size() <= from && !ended && millis > 0) {
      wait(millis);
    }
    return from >= entries.size() ? List.of() : List.copyOf(entries.subList(from, entries.size()));
  }
}
