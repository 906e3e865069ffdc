package dev.orchestra.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.dockerjava.api.model.LogConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What the driver does differently on Podman, decided without an engine. */
class EngineFlavourTest {

  /** The headers of Podman 4.3.1's answer to {@code GET /_ping}, as its service gave them. */
  private static final Map<String, List<String>> PODMAN_PING =
      Map.of(
          "Api-Version", List.of("1.41"),
          "Docker-Experimental", List.of("true"),
          "Libpod-Api-Version", List.of("4.3.1"),
          "Libpod-Buildah-Version", List.of("1.28.2"),
          "Server", List.of("Libpod/4.3.1 (linux)"));

  /** The headers of Docker 20.10's answer to {@code GET /_ping}. */
  private static final Map<String, List<String>> DOCKER_PING =
      Map.of(
          "Api-Version", List.of("1.41"),
          "Docker-Experimental", List.of("false"),
          "Ostype", List.of("linux"),
          "Server", List.of("Docker/20.10.24+dfsg1 (linux)"));

  /** Podman's answer to a create whose name is taken. */
  private static final String NAME_IN_USE =
      "{\"cause\":\"that name is already in use\",\"message\":\"container create: creating"
          + " container storage: the container name \\\"x\\\" is already in use by c287. You have"
          + " to remove that container to be able to reuse that name: that name is already in"
          + " use\",\"response\":500}";

  /** Podman's answer to the kill of an exited container. */
  private static final String KILL_EXITED =
      "{\"cause\":\"container state improper\",\"message\":\"can only kill running containers."
          + " c287 is in state exited: container state improper\",\"response\":500}";

  /** Podman's answer to the create of a volume that a concurrent create made meanwhile. */
  private static final String VOLUME_MADE_MEANWHILE =
      "{\"cause\":\"volume already exists\",\"message\":\"adding volume to state: name"
          + " tck-idmnyk1zna-state_f40f93ad2f7926f7 is in use: volume already exists\","
          + "\"response\":500}";

  /** Podman's answer to the inspect of a container it is removing. */
  private static final String GONE_DURING_REMOVAL =
      "{\"cause\":\"no such container\",\"message\":\"container 8acb does not exist in"
          + " database: no such container\",\"response\":500}";

  @Test
  void detectsPodmanByItsPingsHeadersInAnyCaseAndDockerOtherwise() {
    assertThat(EngineFlavour.ofPing(PODMAN_PING)).isEqualTo(EngineFlavour.PODMAN);
    assertThat(EngineFlavour.ofPing(Map.of("libpod-api-version", List.of("4.3.1"))))
        .isEqualTo(EngineFlavour.PODMAN);
    assertThat(EngineFlavour.ofPing(Map.of("server", List.of("Libpod/5.0.0 (linux)"))))
        .isEqualTo(EngineFlavour.PODMAN);
    assertThat(EngineFlavour.ofPing(DOCKER_PING)).isEqualTo(EngineFlavour.DOCKER);
    assertThat(EngineFlavour.ofPing(Map.of())).isEqualTo(EngineFlavour.DOCKER);
  }

  @Test
  void podmansConflictsReadAsDockers409ByTheirCauseOnly() {
    assertThat(EngineFlavour.PODMAN.dockerStatus(500, NAME_IN_USE)).isEqualTo(409);
    assertThat(EngineFlavour.PODMAN.dockerStatus(500, KILL_EXITED)).isEqualTo(409);
    assertThat(EngineFlavour.PODMAN.dockerStatus(500, VOLUME_MADE_MEANWHILE)).isEqualTo(409);
    // The same words in the message, with another cause, are not a conflict.
    assertThat(
            EngineFlavour.PODMAN.dockerStatus(
                500, "{\"cause\":\"io error\",\"message\":\"container state improper\"}"))
        .isEqualTo(500);
    assertThat(EngineFlavour.PODMAN.dockerStatus(404, NAME_IN_USE)).isEqualTo(404);
    assertThat(EngineFlavour.DOCKER.dockerStatus(500, NAME_IN_USE)).isEqualTo(500);
    assertThat(EngineFlavour.DOCKER.mayTranslate(500)).isFalse();
    assertThat(EngineFlavour.PODMAN.mayTranslate(500)).isTrue();
    assertThat(EngineFlavour.PODMAN.mayTranslate(409)).isFalse();
  }

  @Test
  void podmansReadOfAProcessAsItExitsIsAFailureThatPasses() {
    String exiting =
        "{\"cause\":\"no such process\",\"message\":\"open /proc/21139/cgroup: no such"
            + " process\",\"response\":500}";
    assertThat(EngineFlavour.PODMAN.passes(500, exiting)).isTrue();
    assertThat(EngineFlavour.PODMAN.passes(500, NAME_IN_USE)).isFalse();
    assertThat(EngineFlavour.PODMAN.passes(404, exiting)).isFalse();
    assertThat(EngineFlavour.DOCKER.passes(500, exiting)).isFalse();
  }

  @Test
  void podmansContainerGoneDuringRemovalReadsAsDockers404ByItsCause() {
    assertThat(EngineFlavour.PODMAN.dockerStatus(500, GONE_DURING_REMOVAL)).isEqualTo(404);
    assertThat(
            EngineFlavour.PODMAN.dockerStatus(
                500, "{\"cause\":\"no such volume\",\"message\":\"x\",\"response\":500}"))
        .isEqualTo(404);
    assertThat(
            EngineFlavour.PODMAN.dockerStatus(
                500, "{\"cause\":\"io error\",\"message\":\"no such container\"}"))
        .isEqualTo(500);
    assertThat(EngineFlavour.DOCKER.dockerStatus(500, GONE_DURING_REMOVAL)).isEqualTo(500);
  }

  @Test
  void podmanGetsEveryEventOfTheNamespaceAndTheDriverPicksItsOwn() {
    assertThat(EngineFlavour.DOCKER.eventFilter()).containsExactly("die", "oom", "destroy");
    assertThat(EngineFlavour.PODMAN.eventFilter()).isEmpty();
    assertThat(EngineFlavour.exitAction("die")).isEqualTo("die");
    assertThat(EngineFlavour.exitAction("oom")).isEqualTo("oom");
    assertThat(EngineFlavour.exitAction("destroy")).isEqualTo("destroy");
    assertThat(EngineFlavour.exitAction("remove")).isEqualTo("destroy");
    assertThat(EngineFlavour.exitAction("cleanup")).isNull();
    assertThat(EngineFlavour.exitAction(null)).isNull();
  }

  @Test
  void podmanLogsToItsJsonFileWithoutOptionsAndItsTailsAreNotExact() {
    assertThat(EngineFlavour.DOCKER.logConfig().getType()).isEqualTo(LogConfig.LoggingType.LOCAL);
    assertThat(EngineFlavour.PODMAN.logConfig().getType())
        .isEqualTo(LogConfig.LoggingType.JSON_FILE);
    assertThat(EngineFlavour.PODMAN.logConfig().getConfig()).isEmpty();
    assertThat(EngineFlavour.DOCKER.exactLogTails()).isTrue();
    assertThat(EngineFlavour.PODMAN.exactLogTails()).isFalse();
  }

  @Test
  void theEngineParameterNamesOneOrAsksForDetection() {
    assertThat(EngineFlavour.parse("auto")).isEmpty();
    assertThat(EngineFlavour.parse(" Podman ")).isEqualTo(Optional.of(EngineFlavour.PODMAN));
    assertThat(EngineFlavour.parse("docker")).isEqualTo(Optional.of(EngineFlavour.DOCKER));
    assertThatThrownBy(() -> EngineFlavour.parse("containerd"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'engine'")
        .hasMessageContaining("containerd");
  }

  @Test
  void onlyPodmansExitEventsLagSoOnlyThereIsAStartedTasksStatusReadEarly() {
    assertThat(EngineFlavour.PODMAN.exitEventsLag()).isTrue();
    assertThat(EngineFlavour.DOCKER.exitEventsLag()).isFalse();
    assertThat(ExitEvents.EARLY_READS)
        .as("the early reads fall before the end of Podman's 250 ms poll of its event log")
        .isSorted()
        .allSatisfy(d -> assertThat(d).isPositive().isLessThan(Duration.ofMillis(250)));
  }
}
