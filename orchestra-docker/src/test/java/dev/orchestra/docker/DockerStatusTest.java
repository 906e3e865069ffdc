package dev.orchestra.docker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.command.InspectContainerResponse.ContainerState;
import dev.orchestra.ContainerStatus;
import dev.orchestra.ExitReason;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@link EngineStates#statusOf}: the engine's state as a status, without an engine. */
class DockerStatusTest {

  private static final Duration TWO_SECONDS = Duration.ofSeconds(2);

  @Test
  void aTaskThatBeatItsTimeoutReadsExitedEvenWhenTheTimerFiredAsItEnded() {
    ContainerState quick = exited(3, "2026-12-02T16:40:00.100Z", "2026-12-02T16:40:00.350Z");

    assertThat(EngineStates.statusOf(quick, ExitReason.TIMED_OUT, TWO_SECONDS, false))
        .isEqualTo(ContainerStatus.exited(3));
    assertThat(EngineStates.statusOf(quick, null, TWO_SECONDS, false))
        .isEqualTo(ContainerStatus.exited(3));
  }

  @Test
  void aTaskEndedByItsTimeoutReadsTimedOut() {
    ContainerState termed = exited(143, "2026-12-02T16:40:00.100Z", "2026-12-02T16:40:02.150Z");
    ContainerState trapped = exited(3, "2026-12-02T16:40:00.100Z", "2026-12-02T16:40:02.150Z");
    // Killed at once by a timer that fired early by the engine's clock: the signal's code tells.
    ContainerState early = exited(137, "2026-12-02T16:40:00.100Z", "2026-12-02T16:40:01.900Z");

    assertThat(EngineStates.statusOf(termed, ExitReason.TIMED_OUT, TWO_SECONDS, false))
        .isEqualTo(ContainerStatus.done(143, ExitReason.TIMED_OUT));
    assertThat(EngineStates.statusOf(trapped, ExitReason.TIMED_OUT, TWO_SECONDS, false))
        .isEqualTo(ContainerStatus.done(3, ExitReason.TIMED_OUT));
    assertThat(EngineStates.statusOf(early, ExitReason.TIMED_OUT, TWO_SECONDS, false))
        .isEqualTo(ContainerStatus.done(137, ExitReason.TIMED_OUT));
    // Another instance of the driver, which did not enforce the timeout, sees it from the state.
    assertThat(EngineStates.statusOf(termed, null, TWO_SECONDS, false))
        .isEqualTo(ContainerStatus.done(143, ExitReason.TIMED_OUT));
  }

  @Test
  void withoutTheEnginesTimesARequestedTimeoutStands() {
    ContainerState unknown = exited(3, null, null);

    assertThat(EngineStates.statusOf(unknown, ExitReason.TIMED_OUT, TWO_SECONDS, false))
        .isEqualTo(ContainerStatus.done(3, ExitReason.TIMED_OUT));
    assertThat(EngineStates.statusOf(unknown, ExitReason.STOPPED, null, false))
        .isEqualTo(ContainerStatus.done(3, ExitReason.STOPPED));
  }

  private static ContainerState exited(int code, String startedAt, String finishedAt) {
    try {
      return new ObjectMapper()
          .readValue(
              "{\"State\":{\"Status\":\"exited\",\"ExitCode\":"
                  + code
                  + (startedAt == null ? "" : ",\"StartedAt\":\"" + startedAt + "\"")
                  + (finishedAt == null ? "" : ",\"FinishedAt\":\"" + finishedAt + "\"")
                  + "}}",
              InspectContainerResponse.class)
          .getState();
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new AssertionError(e);
    }
  }
}
