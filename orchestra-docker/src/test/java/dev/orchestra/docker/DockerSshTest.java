package dev.orchestra.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.OrchestraException;
import dev.orchestra.Task;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The SSH transport's own behaviour against a real {@code sshd} ({@link TestSshd}) and the real
 * engine: what the kits cannot see (host keys, the login, the fallback, a server that dies).
 */
@RequiresDocker
class DockerSshTest {

  private static TestSshd sshd;

  @BeforeAll
  static void startSshd() {
    sshd = TestSshd.start();
  }

  @AfterAll
  static void stopSshd() {
    if (sshd != null) {
      sshd.close();
    }
  }

  @Test
  void runsATaskWithStdinThroughTheTunnel() {
    try (Driver driver = DockerTesting.open(DockerTesting.namespace("ssh"), sshd.params())) {
      assertCatRoundTrip(driver);
    }
  }

  @Test
  void refusesAnUnknownHostKey() throws Exception {
    Path empty = sshd.file("empty_known_hosts");
    Files.writeString(empty, "");
    Map<String, String> params = new HashMap<>(sshd.params());
    params.put(DockerDriverProvider.KNOWN_HOSTS, empty.toString());
    assertThatThrownBy(() -> DockerTesting.open(DockerTesting.namespace("ssh"), params).close())
        .isInstanceOf(OrchestraException.class)
        .hasMessageContaining("[127.0.0.1]:" + sshd.port())
        .hasMessageContaining("is not in " + empty)
        .hasMessageContaining("SHA256:")
        .hasMessageContaining("strictHostKeyChecking=no");
  }

  @Test
  void refusesAChangedHostKey() throws Exception {
    Path wrong = sshd.file("wrong_known_hosts");
    Files.writeString(wrong, sshd.wrongKnownHostsLine());
    Map<String, String> params = new HashMap<>(sshd.params());
    params.put(DockerDriverProvider.KNOWN_HOSTS, wrong.toString());
    assertThatThrownBy(() -> DockerTesting.open(DockerTesting.namespace("ssh"), params).close())
        .isInstanceOf(OrchestraException.class)
        .hasMessageContaining("[127.0.0.1]:" + sshd.port())
        .hasMessageContaining("host key changed")
        .hasMessageContaining("SHA256:");
  }

  @Test
  void acceptsAnUnknownHostKeyOnlyWhenAskedTo() throws Exception {
    Path empty = sshd.file("empty_known_hosts_2");
    Files.writeString(empty, "");
    Map<String, String> params = new HashMap<>(sshd.params());
    params.put(DockerDriverProvider.KNOWN_HOSTS, empty.toString());
    params.put(DockerDriverProvider.STRICT_HOST_KEY_CHECKING, "no");
    try (Driver driver = DockerTesting.open(DockerTesting.namespace("ssh"), params)) {
      assertCatRoundTrip(driver);
    }
    assertThat(Files.readString(empty)).as("the user's known_hosts is left as it was").isEmpty();
  }

  @Test
  void aKeyTheServerRefusesGivesAClearAuthenticationError() {
    Map<String, String> params = new HashMap<>(sshd.params());
    params.put(DockerDriverProvider.IDENTITY_FILE, sshd.otherKey().toString());
    assertThatThrownBy(() -> DockerTesting.open(DockerTesting.namespace("ssh"), params).close())
        .isInstanceOf(OrchestraException.class)
        .hasMessageContaining("SSH login of user '" + TestSshd.user() + "'")
        .hasMessageContaining(sshd.otherKey().toString());
  }

  @Test
  void thePassphraseIsNeverShown() {
    Map<String, String> params = new HashMap<>(sshd.params());
    params.put(DockerDriverProvider.IDENTITY_FILE, sshd.otherKey().toString());
    params.put(DockerDriverProvider.IDENTITY_PASSPHRASE, "sesame-4711");
    assertThatThrownBy(() -> DockerTesting.open(DockerTesting.namespace("ssh"), params).close())
        .isInstanceOf(OrchestraException.class)
        .satisfies(e -> assertThat(fullText(e)).doesNotContain("sesame-4711"));
  }

  @Test
  void fallsBackToDialStdioWhenTheServerRefusesSocketForwarding() {
    try (TestSshd refusing = TestSshd.start(false);
        Driver driver = DockerTesting.open(DockerTesting.namespace("ssh"), refusing.params())) {
      assertCatRoundTrip(driver);
    }
  }

  @Test
  void aServerKilledMidRunGivesErrorsNotHangsAndTheDriverReconnects() {
    try (TestSshd own = TestSshd.start();
        Driver driver = DockerTesting.open(DockerTesting.namespace("ssh"), own.params())) {
      Container sleeper =
          driver.runContainer(
              Task.builder()
                  .id("sleeper")
                  .image(DockerTesting.IMAGE)
                  .command("sleep", "600")
                  .build());
      own.kill();
      long start = System.nanoTime();
      assertThatThrownBy(sleeper::status)
          .isInstanceOf(OrchestraException.class)
          .hasMessageContaining(own.host());
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .as("the error comes at once, not after a timeout")
          .isLessThan(DockerConnection.CONNECT_TIMEOUT);

      own.restart();
      assertThat(sleeper.status().isDone()).as("the driver connected again").isFalse();
    }
  }

  @Test
  void aPortThatAcceptsButNeverAnswersTimesOut() throws Exception {
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Map<String, String> params = new HashMap<>(sshd.params());
      params.put(DockerDriverProvider.HOST, sshd.hostAt(silent.getLocalPort()));
      long start = System.nanoTime();
      assertThatThrownBy(() -> DockerTesting.open(DockerTesting.namespace("ssh"), params).close())
          .isInstanceOf(OrchestraException.class)
          .hasMessageContaining("[127.0.0.1]:" + silent.getLocalPort());
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .isLessThan(DockerConnection.CONNECT_TIMEOUT.multipliedBy(2));
    }
  }

  @Test
  void theLocalSocketIsPrivateAndGoneOnClose() throws Exception {
    Map<String, String> p = sshd.params();
    SshTarget.Params ssh =
        new SshTarget.Params(
            Optional.of(p.get(DockerDriverProvider.KNOWN_HOSTS)),
            Optional.empty(),
            Optional.of(p.get(DockerDriverProvider.IDENTITY_FILE)),
            Optional.empty(),
            Optional.of(p.get(DockerDriverProvider.SSH_CONFIG)));
    Path socket;
    try (DockerConnection connection =
        DockerConnection.open(
            Optional.of(sshd.host()),
            DockerConnection.DEFAULT_REQUEST_TIMEOUT,
            ssh,
            Optional.empty())) {
      socket = Path.of(connection.endpoint().getPath());
      assertThat(Files.getPosixFilePermissions(socket.getParent()))
          .isEqualTo(PosixFilePermissions.fromString("rwx------"));
      assertThat(connection.describe()).startsWith(sshd.host());
    }
    assertThat(socket.getParent()).doesNotExist();
  }

  private static void assertCatRoundTrip(Driver driver) {
    Container c =
        driver.runContainer(
            Task.builder()
                .id("cat")
                .image(DockerTesting.IMAGE)
                .command("sh", "-c", "cat; echo err >&2; exit 3")
                .stdin("through ssh\n")
                .build());
    ContainerStatus status = c.await(DockerTesting.TASK_TIMEOUT);
    assertThat(status.exitCode()).isEqualTo(3);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    c.logs(out, err);
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("through ssh\n");
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("err\n");
  }

  private static String fullText(Throwable t) {
    StringBuilder text = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      text.append(c).append('\n');
      for (Throwable s : c.getSuppressed()) {
        text.append(s).append('\n');
      }
    }
    return text.toString();
  }
}
