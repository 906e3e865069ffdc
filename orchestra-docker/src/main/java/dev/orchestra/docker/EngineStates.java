package dev.orchestra.docker;

import com.github.dockerjava.api.command.InspectContainerResponse;
import dev.orchestra.ContainerStatus;
import dev.orchestra.ExitReason;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A container's state, as the engine reports it, read as a task's status. */
final class EngineStates {

  private static final Logger LOG = LoggerFactory.getLogger(EngineStates.class);

  private EngineStates() {}

  /**
   * Maps the engine's state: {@code exited} and {@code dead} are done with the engine's exit code,
   * as is a container whose start failed ({@code created} with an error); everything else runs.
   *
   * <p>The reason, first match: {@link ExitReason#OOM_KILLED} when the engine reports {@code
   * OOMKilled}, or {@code oomReported} (its oom event came), and the exit code is not 0 (a child
   * killed for memory while the task succeeded reads EXITED); {@code requested} when this driver
   * instance asked the task to end, except a timeout the task beat: it exited by itself with a code
   * other than 143 and 137 after a run the engine measured shorter than the timeout (the timer
   * fired as the task ended, on an engine slow to show the end); {@link ExitReason#TIMED_OUT} when
   * the task had a {@code timeout}, ran at least that long and exited 143 or 137 (SIGTERM,
   * SIGKILL): so does another instance of the driver see the timeout that one enforced; otherwise
   * derived from the exit code, as {@link ContainerStatus#exited(int)}.
   */
  static ContainerStatus statusOf(
      InspectContainerResponse.ContainerState state,
      ExitReason requested,
      Duration timeout,
      boolean oomReported) {
    if (state == null) {
      return ContainerStatus.running();
    }
    String status = state.getStatus();
    boolean failedStart =
        "created".equals(status) && state.getError() != null && !state.getError().isBlank();
    if (!"exited".equals(status) && !"dead".equals(status) && !failedStart) {
      return ContainerStatus.running();
    }
    Long engineCode = state.getExitCodeLong();
    int code;
    if (engineCode == null || engineCode < 0 || engineCode > 255) {
      LOG.warn(
          "the engine reports exit code {} for a {} container; reading it as 255",
          engineCode,
          status);
      code = 255;
    } else {
      code = engineCode.intValue();
    }
    if ((oomReported || Boolean.TRUE.equals(state.getOOMKilled())) && code != 0) {
      return ContainerStatus.done(code, ExitReason.OOM_KILLED);
    }
    boolean signalled = code == 143 || code == 137;
    Optional<Duration> ran = ran(state);
    if (requested == ExitReason.TIMED_OUT
        && !signalled
        && ran.filter(r -> r.compareTo(timeout) < 0).isPresent()) {
      return ContainerStatus.exited(code);
    }
    if (requested != null) {
      return ContainerStatus.done(code, requested);
    }
    if (timeout != null && signalled && ran.filter(r -> r.compareTo(timeout) >= 0).isPresent()) {
      return ContainerStatus.done(code, ExitReason.TIMED_OUT);
    }
    return ContainerStatus.exited(code);
  }

  /**
   * How long the engine says the container ran, from its start and finish times; empty if unknown.
   */
  private static Optional<Duration> ran(InspectContainerResponse.ContainerState state) {
    try {
      Instant started = Instant.parse(state.getStartedAt());
      Instant finished = Instant.parse(state.getFinishedAt());
      return Optional.of(Duration.between(started, finished));
    } catch (DateTimeParseException | NullPointerException e) {
      LOG.debug("cannot tell how long a container ran: {}", e.toString());
      return Optional.empty();
    }
  }
}
