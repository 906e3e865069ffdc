package dev.orchestra.docker;

import com.github.dockerjava.transport.DockerHttpClient;
import dev.orchestra.OrchestraException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One read of a container's log ({@code GET /containers/{id}/logs}, never {@code follow}), with the
 * engine's timestamps ({@code timestamps=1}, for {@link ContainerLogs#follow}) or without them (for
 * {@link ContainerLogs#read}), on a thread of its own, handing each message to a {@link Handler}
 * with its stream (and timestamp). The driver parses the frames itself, into one reused buffer: a
 * log message is one frame, and docker-java's log callback would cut each into pieces of 1 KiB,
 * each a new object. A read without timestamps ({@link #startPlain}) goes on a connection of the
 * driver's own where it can, demultiplexed as an exec's output is ({@link FrameDemux}).
 *
 * <p>Waiting answers {@link Thread#interrupt()} as every {@link StreamCallback} does; {@link
 * #close()} ends the read at once (the connection is dropped).
 */
final class TimestampedLogRead extends StreamCallback<Void> {

  private static final Logger LOG = LoggerFactory.getLogger(TimestampedLogRead.class);

  /** Where a message's text starts: after {@code 2006-01-02T15:04:05.000000000Z} and a space. */
  private static final int FIXED_PREFIX = 31;

  /** The {@code since} of a read of every message, whenever stamped. */
  static final long ANY_TIME = Long.MIN_VALUE;

  /** How far into a message its timestamp may reach. */
  private static final int MAX_PREFIX = 64;

  /** Takes the messages of a read, in the engine's order. */
  interface Handler {
    /**
     * Takes one message.
     *
     * @param stream {@link LogCursor#STDOUT} or {@link LogCursor#STDERR}
     * @param timestamp the engine's timestamp, in nanoseconds since the epoch; 0 for a read without
     *     timestamps
     * @param bytes the message's bytes, valid during this call only
     * @param from where the message's text starts in {@code bytes}
     * @param to where it ends
     * @return whether to go on reading
     */
    boolean message(int stream, long timestamp, byte[] bytes, int from, int to);
  }

  private final Handler handler;
  private final String what;
  private final boolean timestamps;
  private volatile long messages;

  /** The date part of the last fixed-form timestamp, and its epoch day: read's thread only. */
  private final byte[] date = new byte[10];

  private long dateDay;

  private TimestampedLogRead(Handler handler, String what, boolean timestamps) {
    this.handler = handler;
    this.what = what;
    this.timestamps = timestamps;
  }

  /**
   * Starts a read with timestamps; wait for its end with {@link #awaitCompletion(String)}.
   *
   * @param http the transport of the engine's quick calls, which bounds each read of the answer
   * @param containerId the container
   * @param tail how many of the newest messages, or {@link LogCursor#ALL}
   * @param since only the messages stamped after this time, in nanoseconds since the epoch, sent to
   *     the engine to the nanosecond (RFC 3339); {@link #ANY_TIME} for every message
   * @param handler takes the messages, on the read's thread
   * @param what the read, for messages and the thread's name
   */
  static TimestampedLogRead start(
      DockerHttpClient http,
      String containerId,
      int tail,
      long since,
      Handler handler,
      String what) {
    return start(http, containerId, tail, since, true, handler, what);
  }

  /**
   * Starts a read of every message without timestamps (the handler gets 0 for each); wait for its
   * end with {@link #awaitCompletion(String)}.
   *
   * <p>Where the driver reaches the engine on sockets of its own ({@link
   * DockerConnection#hasRawSockets()}: {@code unix://}, {@code tcp://}, {@code ssh://} through its
   * tunnel), the answer is read on one of them, straight from the connection into one buffer, and
   * each message is handed over in the pieces it arrived in ({@link FrameDemux}), so that the
   * handler may get a message in several calls; elsewhere through the transport of the quick calls,
   * a message a call.
   *
   * @param connection the engine
   * @see #start(DockerHttpClient, String, int, long, Handler, String)
   */
  static TimestampedLogRead startPlain(
      DockerConnection connection, String containerId, Handler handler, String what) {
    if (!connection.hasRawSockets()) {
      LOG.debug(
          "reading the log of {} through the HTTP client: no socket of the driver's own reaches"
              + " {}",
          what,
          connection.describe());
      return start(
          connection.apiTransport(), containerId, LogCursor.ALL, ANY_TIME, false, handler, what);
    }
    TimestampedLogRead read = new TimestampedLogRead(handler, what, false);
    String path = path(containerId, LogCursor.ALL, ANY_TIME, false);
    Thread thread =
        new Thread(() -> read.runRaw(connection, path), "orchestra-docker-logs " + what);
    thread.setDaemon(true);
    thread.start();
    return read;
  }

  private static TimestampedLogRead start(
      DockerHttpClient http,
      String containerId,
      int tail,
      long since,
      boolean timestamps,
      Handler handler,
      String what) {
    TimestampedLogRead read = new TimestampedLogRead(handler, what, timestamps);
    String path = path(containerId, tail, since, timestamps);
    DockerHttpClient.Request request =
        DockerHttpClient.Request.builder()
            .method(DockerHttpClient.Request.Method.GET)
            .path(path)
            .build();
    Thread thread = new Thread(() -> read.run(http, request), "orchestra-docker-logs " + what);
    thread.setDaemon(true);
    thread.start();
    return read;
  }

  private static String path(String containerId, int tail, long since, boolean timestamps) {
    String path =
        "/containers/"
            + containerId
            + "/logs?stdout=1&stderr=1"
            + (timestamps ? "&timestamps=1" : "")
            + "&tail="
            + (tail < 0 ? "all" : Integer.toString(tail));
    if (since != ANY_TIME) {
      path +=
          "&since="
              + Instant.ofEpochSecond(
                  Math.floorDiv(since, 1_000_000_000L), Math.floorMod(since, 1_000_000_000L));
    }
    return path;
  }

  /** How many messages the engine sent so far (reads with timestamps). */
  long messages() {
    return messages;
  }

  private void run(DockerHttpClient http, DockerHttpClient.Request request) {
    try (DockerHttpClient.Response response = http.execute(request)) {
      onStart(response);
      InputStream body = response.getBody();
      if (response.getStatusCode() >= 400) {
        throw EngineErrors.refusal(
            response.getStatusCode(), new String(body.readNBytes(4096), StandardCharsets.UTF_8));
      }
      FrameReader frames = new FrameReader(body, what);
      while (!isFinished() && frames.next()) {
        messages++;
        if (!deliver(frames)) {
          break;
        }
      }
      onComplete();
    } catch (IOException | RuntimeException e) {
      onError(e);
    }
  }

  private void runRaw(DockerConnection connection, String path) {
    try (EngineSocket socket = connection.socket()) {
      onStart(socket::close);
      AnswerBody body = socket.get(path, connection.flavour(), "the log of " + what);
      FrameDemux.copy(
          body,
          new FrameDemux.Streams() {
            @Override
            public boolean write(int stream, byte[] bytes, int offset, int length) {
              if (isFinished()) {
                return false;
              }
              return switch (stream) {
                case FrameReader.STDOUT ->
                    handler.message(LogCursor.STDOUT, 0, bytes, offset, offset + length);
                case FrameReader.STDERR ->
                    handler.message(LogCursor.STDERR, 0, bytes, offset, offset + length);
                default -> true;
              };
            }

            @Override
            public boolean engineMessage(String message) {
              throw new OrchestraException(what + " failed: the engine reports: " + message);
            }
          },
          "the log of " + what);
      onComplete();
    } catch (IOException | RuntimeException e) {
      onError(e);
    }
  }

  private boolean deliver(FrameReader frames) throws IOException {
    byte[] bytes = frames.payload();
    int length = frames.length();
    int stream =
        switch (frames.stream()) {
          case FrameReader.STDOUT -> LogCursor.STDOUT;
          case FrameReader.STDERR -> LogCursor.STDERR;
          case FrameReader.SYSTEM_ERROR ->
              throw new OrchestraException(
                  what
                      + " failed: the engine reports: "
                      + new String(bytes, 0, length, StandardCharsets.UTF_8).strip());
          default -> -1;
        };
    if (stream < 0) {
      return true;
    }
    if (!timestamps) {
      return handler.message(stream, 0, bytes, 0, length);
    }
    int space = prefixEnd(bytes, length);
    return handler.message(stream, timestamp(bytes, space), bytes, space + 1, length);
  }

  /** Where the timestamp ends: the space after it. */
  private int prefixEnd(byte[] bytes, int length) throws IOException {
    if (length >= FIXED_PREFIX && bytes[FIXED_PREFIX - 1] == ' ') {
      return FIXED_PREFIX - 1;
    }
    for (int i = 0; i < Math.min(length, MAX_PREFIX); i++) {
      if (bytes[i] == ' ') {
        return i;
      }
    }
    throw new IOException(what + ": a log message without the timestamp it was asked for");
  }

  /**
   * The timestamp of a message: the engine writes {@code 2006-01-02T15:04:05.000000000Z}, which is
   * read here by position (the date converted once per day); any other RFC 3339 form through {@link
   * OffsetDateTime}.
   */
  long timestamp(byte[] b, int end) throws IOException {
    if (end == FIXED_PREFIX - 1
        && b[4] == '-'
        && b[7] == '-'
        && b[10] == 'T'
        && b[13] == ':'
        && b[16] == ':'
        && b[19] == '.'
        && b[29] == 'Z') {
      long hours = digits(b, 11, 2);
      long minutes = digits(b, 14, 2);
      long seconds = digits(b, 17, 2);
      long nanos = digits(b, 20, 9);
      long day = epochDay(b);
      if (hours >= 0 && minutes >= 0 && seconds >= 0 && nanos >= 0 && day != Long.MIN_VALUE) {
        return ((day * 24 + hours) * 60 + minutes) * 60_000_000_000L
            + seconds * 1_000_000_000L
            + nanos;
      }
    }
    String text = new String(b, 0, end, StandardCharsets.US_ASCII);
    try {
      OffsetDateTime t = OffsetDateTime.parse(text);
      return t.toEpochSecond() * 1_000_000_000L + t.get(ChronoField.NANO_OF_SECOND);
    } catch (DateTimeParseException e) {
      throw new IOException("a log message with the timestamp '" + text + "'", e);
    }
  }

  /** The epoch day of the date in {@code b[0 .. 10)}, or Long.MIN_VALUE if it is not one. */
  private long epochDay(byte[] b) {
    if (Arrays.equals(b, 0, 10, date, 0, 10)) {
      return dateDay;
    }
    long year = digits(b, 0, 4);
    long month = digits(b, 5, 2);
    long day = digits(b, 8, 2);
    if (year < 0 || month < 0 || day < 0) {
      return Long.MIN_VALUE;
    }
    try {
      dateDay = LocalDate.of((int) year, (int) month, (int) day).toEpochDay();
    } catch (DateTimeException e) {
      return Long.MIN_VALUE;
    }
    System.arraycopy(b, 0, date, 0, 10);
    return dateDay;
  }

  /** The decimal number in {@code b[from .. from + count)}, or -1 if it is not one. */
  private static long digits(byte[] b, int from, int count) {
    long v = 0;
    for (int i = from; i < from + count; i++) {
      int d = b[i] - '0';
      if (d < 0 || d > 9) {
        return -1;
      }
      v = v * 10 + d;
    }
    return v;
  }
}
