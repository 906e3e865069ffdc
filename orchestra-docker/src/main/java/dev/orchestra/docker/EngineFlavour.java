package dev.orchestra.docker;

import com.github.dockerjava.api.model.LogConfig;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The engines the driver speaks to through the Docker API, and everything it does differently on
 * each: the one place for those differences (described in {@code docs/drivers/docker.md}, section
 * "Podman"). The engine is detected once per driver from the headers of its {@code GET /_ping}
 * ({@link #ofPing}), unless the {@code engine} parameter names it ({@link #parse(String)}).
 */
enum EngineFlavour {

  /** Docker's engine (dockerd), and any other engine that does not name itself Podman. */
  DOCKER(
      // The local log driver keeps the newest max-file files of max-size bytes (10^8: Docker's
      // "m" is decimal), the one being written included: 1.0 to 1.1 GB of the engine's framing,
      // which costs each line about 27 bytes more than its own (see docs/drivers/docker.md).
      // Uncompressed, because the engine (20.10) decompresses every rotated file for each read of
      // a log, and a follow reads the log's tail again and again.
      new LogConfig(
          LogConfig.LoggingType.LOCAL,
          Map.of("max-size", "100m", "max-file", "11", "compress", "false")),
      List.of("die", "oom", "destroy")),

  /**
   * Podman's Docker-compatible service ({@code podman system service}). It has no {@code local} log
   * driver; {@code json-file} is its {@code k8s-file}, one file per container with each line's
   * stream and time, without options: its {@code max-size} does not rotate but empties the file.
   * Its event filter knows its own action names ({@code died}, not {@code die}, which it reports),
   * so the events are picked by label and type only, and by action here. Its reads of a running
   * container's log are not exact ({@link #exactLogTails()}).
   */
  PODMAN(new LogConfig(LogConfig.LoggingType.JSON_FILE, Map.of()), List.of()) {
    @Override
    boolean exactLogTails() {
      return false;
    }

    @Override
    boolean logLagsExit() {
      return true;
    }

    @Override
    boolean exitEventsLag() {
      return true;
    }

    @Override
    boolean closedAttachKeepsInput() {
      return false;
    }
  };

  /** The value of the {@code engine} parameter that detects the engine: the default. */
  static final String AUTO = "auto";

  /**
   * Podman's answer to a request that Docker refuses with 409, by the error's innermost cause; and
   * to the create of a volume that a concurrent create made meanwhile, which Docker answers with
   * the volume (the driver then reads it, see {@link DockerVolumes}).
   */
  private static final Pattern PODMAN_CONFLICT_CAUSE =
      Pattern.compile(
          "\"cause\"\\s*:\\s*\"(that name is already in use|container state improper"
              + "|volume already exists)\"");

  /**
   * Podman's answer to a request for a container or volume that is gone, where Docker answers 404:
   * an inspect of a container while the engine removes it answers 500 "container ... does not exist
   * in database: no such container".
   */
  private static final Pattern PODMAN_NOT_FOUND_CAUSE =
      Pattern.compile("\"cause\"\\s*:\\s*\"no such (container|volume)\"");

  /** Podman's answer to a read that met a process as it exited ({@link #passes}). */
  private static final Pattern PODMAN_PASSING_CAUSE =
      Pattern.compile("\"cause\"\\s*:\\s*\"no such process\"");

  private final LogConfig logConfig;
  private final List<String> eventFilter;

  EngineFlavour(LogConfig logConfig, List<String> eventFilter) {
    this.logConfig = logConfig;
    this.eventFilter = eventFilter;
  }

  /**
   * The engine that answered {@code GET /_ping} with these headers: Podman's service names itself
   * in {@code Libpod-Api-Version} and in {@code Server} ({@code Libpod/4.3.1 (linux)}); every other
   * engine is taken for Docker. The ping is the cheapest call of the API; Podman's {@code GET
   * /version} reads its whole runtime (about a second when idle, more than ten under load).
   *
   * @param headers the answer's headers, names in any case
   */
  static EngineFlavour ofPing(Map<String, List<String>> headers) {
    for (Map.Entry<String, List<String>> header : headers.entrySet()) {
      String name = header.getKey().toLowerCase(Locale.ROOT);
      if (name.startsWith("libpod-")) {
        return PODMAN;
      }
      if (name.equals("server")) {
        for (String value : header.getValue()) {
          if (namesPodman(value) || value.toLowerCase(Locale.ROOT).startsWith("libpod/")) {
            return PODMAN;
          }
        }
      }
    }
    return DOCKER;
  }

  private static boolean namesPodman(String name) {
    return name != null && name.toLowerCase(Locale.ROOT).contains("podman");
  }

  /**
   * The {@code engine} parameter: {@code docker} or {@code podman}, or empty for {@value #AUTO}.
   *
   * @throws IllegalArgumentException naming the value and the accepted ones
   */
  static Optional<EngineFlavour> parse(String value) {
    String v = value.strip().toLowerCase(Locale.ROOT);
    if (v.equals(AUTO)) {
      return Optional.empty();
    }
    for (EngineFlavour f : values()) {
      if (f.parameterValue().equals(v)) {
        return Optional.of(f);
      }
    }
    throw new IllegalArgumentException(
        "parameter '"
            + DockerDriverProvider.ENGINE
            + "' of driver '"
            + DockerDriverProvider.NAME
            + "' must be auto, docker or podman, was '"
            + value
            + "'");
  }

  /** The name of this engine as the {@code engine} parameter spells it. */
  String parameterValue() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** How every task's container logs. */
  LogConfig logConfig() {
    return logConfig;
  }

  /**
   * The actions the event stream asks the engine for, or none to receive every event of the
   * namespace's containers and pick by {@link #exitAction(String)}.
   */
  List<String> eventFilter() {
    return eventFilter;
  }

  /**
   * What an event's action means for a watched container, as {@code die}, {@code oom} or {@code
   * destroy}, or {@code null} for the actions the driver ignores. Podman reports a removal as
   * {@code remove} where Docker says {@code destroy}.
   */
  static String exitAction(String action) {
    if (action == null) {
      return null;
    }
    return switch (action) {
      case "die", "oom", "destroy" -> action;
      case "remove" -> "destroy";
      default -> null;
    };
  }

  /**
   * The HTTP status Docker gives where this engine answered {@code status} with {@code body}:
   * Podman answers 500 where Docker answers 409 for a name already in use and for a request that
   * the container's state forbids (the kill of a container that no longer runs, the removal of a
   * running one without force), and 500 where Docker answers 404 for a container or volume that is
   * gone (an inspect while the engine removes the container). Recognised by the error's innermost
   * cause, which Podman's answer carries as a field of its own; every other answer keeps its
   * status.
   */
  int dockerStatus(int status, String body) {
    if (this == PODMAN && status == 500 && body != null) {
      if (PODMAN_CONFLICT_CAUSE.matcher(body).find()) {
        return 409;
      }
      if (PODMAN_NOT_FOUND_CAUSE.matcher(body).find()) {
        return 404;
      }
    }
    return status;
  }

  /**
   * Whether this engine's answer to a read is a failure that passes, so that the same read sent
   * again a moment later may be answered: Podman answers the inspect of a container whose process
   * is exiting at that moment with 500 {@code "cause": "no such process"} ("open /proc/PID/cgroup:
   * no such process"), where Docker answers with the container.
   */
  boolean passes(int status, String body) {
    return this == PODMAN
        && status == 500
        && body != null
        && PODMAN_PASSING_CAUSE.matcher(body).find();
  }

  /**
   * Whether reads of a running container's log are exact, as the follow's reads of the log's tail
   * need ({@link LogCursor}): each message stamped to the nanosecond, the newest N messages exactly
   * those, the newest one whole. Docker's are. Podman's (4.3) are not: it stamps messages in whole
   * seconds; it reads the log file while its writer (conmon) writes it, so that the last message of
   * a read may be a record cut short, or two records run together; and a read of the newest N
   * messages takes them, then reads on from the end of the file as it is a moment later, missing
   * what was written in between. There a follow reads every message from the second of the last one
   * delivered on (its {@code since}, which Podman compares to the nanosecond, is read in one step),
   * and leaves the last message of a read for the next read while the task runs.
   */
  boolean exactLogTails() {
    return true;
  }

  /**
   * Whether the engine's events may reach a subscriber well after what they report. Docker's do
   * not. Podman's (4.3) service writes them to its event log and reads that back for its {@code GET
   * /events} stream; with the {@code file} event logger (its default where journald does not run)
   * the log is polled every 250 ms, so a {@code died} event comes 0 to 250 ms after the exit, which
   * {@code podman run} learns of at once through its attach. {@link ExitEvents#started} makes up
   * for it.
   */
  boolean exitEventsLag() {
    return false;
  }

  /**
   * Whether the engine reports a task's end before it has written all of the task's output into its
   * log. Docker does not. Podman (4.3) does: its {@code die} event and its inspect report the end
   * as soon as the process is gone, while conmon still copies the last output into the log (a log
   * read then lacked most of a task's last 200 KB); its {@code POST /containers/{id}/wait} answers
   * once conmon has exited.
   */
  boolean logLagsExit() {
    return false;
  }

  /**
   * Whether an attach that the driver ends by closing its connection right after the last byte of a
   * task's stdin, over a local socket, still hands every byte to the task ({@link StdinFeeder}).
   * Docker's does. Podman's (4.3) does not always: a task reading 1 MiB so delivered while other
   * calls came and went lost its last 26 to 100 KiB. There stdin goes through a socket of the
   * driver's own, half-closed after the last byte ({@link SocketStdinFeeder}).
   */
  boolean closedAttachKeepsInput() {
    return true;
  }

  /** Whether {@link #dockerStatus} may change an answer of this status: then its body is needed. */
  boolean mayTranslate(int status) {
    return this == PODMAN && status == 500;
  }
}
