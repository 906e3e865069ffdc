package dev.orchestra.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.orchestra.Orchestra;
import dev.orchestra.OrchestraException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
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
  void noExceptionOfOpeningShowsTheValueOfASecretParameter() {
    List<ThrowingCallable> opens =
        List.of(
            () -> Orchestra.open("docker://ns?token=hunter2 x"),
            () -> Orchestra.open("docker://ns?registry-password=hunter2&x=%zz"),
            () -> Orchestra.open("docker://ns?token=hunter2&host=tcp://127.0.0.1:1"),
            () -> Orchestra.open("docker", "ns", Map.of("api-key", "hunter2", "pull", "bad")));
    for (ThrowingCallable open : opens) {
      Throwable e = catchThrowable(open);
      assertThat(e).isInstanceOf(IllegalArgumentException.class);
      StringWriter shown = new StringWriter();
      e.printStackTrace(new PrintWriter(shown));
      assertThat(shown.toString()).doesNotContain("hunter2");
    }
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
