package dev.orchestra.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.orchestra.Orchestra;
import dev.orchestra.OrchestraException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Opening the driver: registration, parameters, and an engine that does not answer. */
class DockerDriverProviderTest {

  @Test
  void isRegisteredAsDocker() {
    assertThat(Orchestra.drivers()).contains("docker");
    assertThat(new DockerDriverProvider().name()).isEqualTo("docker");
  }

  @Test
  void unknownParameterIsRefusedWithTheKnownOnes() {
    assertThatThrownBy(() -> Orchestra.open("docker", "ns", Map.of("hots", "tcp://x:1")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'hots'")
        .hasMessageContaining("host, pull");
  }

  @Test
  void badPullPolicyIsRefusedBeforeConnecting() {
    assertThatThrownBy(
            () ->
                Orchestra.open(
                    "docker", "ns", Map.of("pull", "sometimes", "host", "tcp://127.0.0.1:1")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'sometimes'")
        .hasMessageContaining("missing, always or never");
  }

  @Test
  void hostThatIsNoDockerAddressIsRefused() {
    assertThatThrownBy(() -> Orchestra.open("docker", "ns", Map.of("host", "bogus://x")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'bogus://x'");
    assertThatThrownBy(() -> Orchestra.open("docker", "ns", Map.of("host", " ")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'host'");
  }

  @Test
  void unreachableEngineFailsQuicklySayingWhereItLooked() {
    // A guard against hanging, not a timing assertion: a refused connection fails in milliseconds.
    assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () ->
            assertThatThrownBy(
                    () -> Orchestra.open("docker", "ns", Map.of("host", "tcp://127.0.0.1:1")))
                .isInstanceOf(OrchestraException.class)
                .hasMessageContaining("cannot reach the Docker engine at tcp://127.0.0.1:1")
                .hasMessageContaining("'host' parameter")
                .hasMessageContaining("Connection refused"));
  }
}
