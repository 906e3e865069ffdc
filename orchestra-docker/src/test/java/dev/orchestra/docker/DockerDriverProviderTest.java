package dev.orchestra.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.orchestra.Orchestra;
import dev.orchestra.OrchestraException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.DisplayName;
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
        .hasMessageContaining(
            "known: engine, host, identityFile, identityPassphrase, knownHosts, pull,"
                + " requestTimeout, sshConfig, strictHostKeyChecking, volumeHelperImage");
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
  void badRequestTimeoutIsRefusedBeforeConnectingNamingTheValue() {
    for (String bad : new String[] {"soon", "0", "-PT1S", "PT0.0001S", "PT25H", "30s"}) {
      assertThatThrownBy(
              () ->
                  Orchestra.open(
                      "docker", "ns", Map.of("requestTimeout", bad, "host", "tcp://127.0.0.1:1")))
          .as("requestTimeout=%s", bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("'requestTimeout'")
          .hasMessageContaining("'" + bad + "'");
    }
  }

  @Test
  void requestTimeoutTakesIsoDurationsAndSeconds() {
    // Accepted values get as far as connecting, which is refused at once.
    for (String good : new String[] {"PT30S", "PT0.5S", "45", "2.5", "PT24H"}) {
      assertThatThrownBy(
              () ->
                  Orchestra.open(
                      "docker", "ns", Map.of("requestTimeout", good, "host", "tcp://127.0.0.1:1")))
          .as("requestTimeout=%s", good)
          .isInstanceOf(OrchestraException.class)
          .hasMessageContaining("Connection refused");
    }
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

  @Test
  @DisplayName(
      "a unix:// engine that accepts connections and never answers fails opening the driver"
          + " within three request timeouts, naming the engine")
  void unansweredUnixSocket() throws Exception {
    Path dir = Files.createTempDirectory(Path.of("/tmp"), "orchestra-stall-");
    Path socket = dir.resolve("docker.sock");
    List<SocketChannel> accepted = new CopyOnWriteArrayList<>();
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(socket));
      Thread acceptor =
          new Thread(
              () -> {
                try {
                  while (true) {
                    accepted.add(server.accept());
                  }
                } catch (IOException closed) {
                  // the test is over
                }
              },
              "never-answering engine");
      acceptor.setDaemon(true);
      acceptor.start();
      String host = "unix://" + socket;
      Duration timeout = Duration.ofSeconds(2);
      Throwable thrown =
          assertTimeoutPreemptively(
              timeout.multipliedBy(3),
              () ->
                  catchThrowable(
                      () ->
                          Orchestra.open(
                              "docker",
                              "stall",
                              Map.of(
                                  DockerDriverProvider.HOST,
                                  host,
                                  DockerDriverProvider.REQUEST_TIMEOUT,
                                  timeout.toString()))));
      assertThat(thrown)
          .isInstanceOf(OrchestraException.class)
          .hasMessageContaining(host)
          .hasMessageContaining("did not answer within " + timeout);
    } finally {
      for (SocketChannel c : accepted) {
        c.close();
      }
      Files.deleteIfExists(socket);
      Files.deleteIfExists(dir);
    }
  }
}
