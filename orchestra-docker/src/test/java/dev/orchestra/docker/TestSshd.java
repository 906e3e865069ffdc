package dev.orchestra.docker;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A private OpenSSH server for the SSH transport's tests: {@code /usr/sbin/sshd} on a free loopback
 * port, with its own configuration, a generated host key and user key in a temporary directory, and
 * the {@code known_hosts} file a client needs. It runs as the user who runs the tests (root here,
 * an ordinary user such as GitHub's {@code runner} in CI: a non-root sshd logs in its own user
 * only) and logs in that user. {@link #close()} stops it and deletes the directory.
 *
 * <p>Without {@code sshd} the tests are skipped, or fail when Docker tests are required ({@code
 * ORCHESTRA_REQUIRE_DOCKER=true}, as in CI, whose {@code .ci/run} installs {@code openssh-server}).
 */
final class TestSshd implements AutoCloseable {

  static final Path SSHD = Path.of("/usr/sbin/sshd");
  private static final Duration START_TIMEOUT = Duration.ofSeconds(20);

  private final Path dir;
  private final int port;
  private Process process;

  private TestSshd(Path dir, int port, Process process) {
    this.dir = dir;
    this.port = port;
    this.process = process;
  }

  private static TestSshd shared;

  /** The sshd of a whole test class, started at its first use; see {@link #closeShared()}. */
  static synchronized TestSshd shared() {
    if (shared == null) {
      shared = start();
    }
    return shared;
  }

  /** Stops the sshd of {@link #shared()}, if it runs: from a test class's {@code @AfterAll}. */
  static synchronized void closeShared() {
    if (shared != null) {
      shared.close();
      shared = null;
    }
  }

  /** An sshd that forwards Unix sockets, as OpenSSH does by default. */
  static TestSshd start() {
    return start(true);
  }

  /**
   * Starts an sshd and waits until it answers.
   *
   * @param streamLocalForwarding whether it forwards Unix sockets ({@code
   *     AllowStreamLocalForwarding})
   */
  static TestSshd start(boolean streamLocalForwarding) {
    if (!Files.isExecutable(SSHD)) {
      String reason = SSHD + " is missing (apt-get install openssh-server; .ci/run installs it)";
      if (DockerEngineCondition.isRequired()) {
        throw new IllegalStateException(
            "the SSH tests are required (ORCHESTRA_REQUIRE_DOCKER=true) but " + reason);
      }
      Assumptions.abort("SSH tests skipped: " + reason);
    }
    Path dir = null;
    Process process = null;
    try {
      dir = Files.createTempDirectory("orchestra-sshd-");
      keygen(dir.resolve("host_key"));
      keygen(dir.resolve("user_key"));
      keygen(dir.resolve("other_key"));
      Files.copy(dir.resolve("user_key.pub"), dir.resolve("authorized_keys"));
      int port = freePort();
      Files.writeString(
          dir.resolve("known_hosts"),
          "[127.0.0.1]:" + port + " " + publicKey(dir.resolve("host_key")) + "\n");
      Files.writeString(
          dir.resolve("sshd_config"),
          String.join(
              "\n",
              "Port " + port,
              "ListenAddress 127.0.0.1",
              "HostKey " + dir.resolve("host_key"),
              "PidFile none",
              "AuthorizedKeysFile " + dir.resolve("authorized_keys"),
              "StrictModes no",
              "UsePAM no",
              "PasswordAuthentication no",
              "KbdInteractiveAuthentication no",
              "PubkeyAuthentication yes",
              "PermitRootLogin prohibit-password",
              "AllowStreamLocalForwarding " + (streamLocalForwarding ? "yes" : "no"),
              "LogLevel ERROR",
              ""));
      if (isRoot()) {
        // A root sshd needs its privilege separation directory.
        Files.createDirectories(Path.of("/run/sshd"));
      }
      process = launch(dir, port);
      return new TestSshd(dir, port, process);
    } catch (IOException e) {
      stop(process);
      delete(dir);
      throw new UncheckedIOException(e);
    } catch (RuntimeException | Error e) {
      stop(process);
      String log = dir == null ? "" : readQuietly(dir.resolve("sshd.log"));
      delete(dir);
      throw new IllegalStateException("the test sshd did not start: " + log, e);
    }
  }

  private static Process launch(Path dir, int port) throws IOException {
    Process p =
        new ProcessBuilder(SSHD.toString(), "-D", "-e", "-f", dir.resolve("sshd_config").toString())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("sshd.log").toFile()))
            .start();
    await()
        .atMost(START_TIMEOUT)
        .pollInterval(Duration.ofMillis(50))
        .failFast("sshd exited", () -> !p.isAlive())
        .until(() -> answers(port));
    return p;
  }

  /** Starts the server again, on its port, with its keys, after {@link #kill()}. */
  void restart() {
    kill();
    try {
      process = launch(dir, port);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The user that the tests run as, and that the sshd logs in. */
  static String user() {
    return System.getProperty("user.name");
  }

  int port() {
    return port;
  }

  /** {@code ssh://user@127.0.0.1:port}. */
  String host() {
    return hostAt(port);
  }

  /** The address of this server's user on another port (a proxy in front of it). */
  String hostAt(int otherPort) {
    return "ssh://" + user() + "@127.0.0.1:" + otherPort;
  }

  Path knownHosts() {
    return dir.resolve("known_hosts");
  }

  Path userKey() {
    return dir.resolve("user_key");
  }

  /** A key that the server does not accept. */
  Path otherKey() {
    return dir.resolve("other_key");
  }

  /** A {@code known_hosts} line that names this server with a key that is not its own. */
  String wrongKnownHostsLine() {
    return "[127.0.0.1]:" + port + " " + publicKey(otherKey()) + "\n";
  }

  /** Trusts this server's host key on another port too (a proxy in front of it). */
  void trustPort(int otherPort) {
    try {
      Files.writeString(
          knownHosts(),
          "[127.0.0.1]:" + otherPort + " " + publicKey(dir.resolve("host_key")) + "\n",
          java.nio.file.StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A file in this server's directory, deleted with it. */
  Path file(String name) {
    return dir.resolve(name);
  }

  /**
   * The driver parameters that reach the engine through this server: its address, its host key, the
   * user key, and no ~/.ssh/config.
   */
  Map<String, String> params() {
    Map<String, String> params = new HashMap<>();
    params.put(DockerDriverProvider.HOST, host());
    params.put(DockerDriverProvider.KNOWN_HOSTS, knownHosts().toString());
    params.put(DockerDriverProvider.IDENTITY_FILE, userKey().toString());
    params.put(DockerDriverProvider.SSH_CONFIG, dir.resolve("no_ssh_config").toString());
    return params;
  }

  /** Kills the server and every session it runs, as a crash would. */
  void kill() {
    List<ProcessHandle> all = new ArrayList<>(process.descendants().toList());
    all.add(process.toHandle());
    all.forEach(ProcessHandle::destroyForcibly);
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  boolean isAlive() {
    return process.isAlive();
  }

  @Override
  public void close() {
    stop(process);
    delete(dir);
  }

  private static boolean answers(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
      s.setSoTimeout(2000);
      InputStream in = s.getInputStream();
      byte[] banner = in.readNBytes(4);
      return new String(banner, StandardCharsets.US_ASCII).equals("SSH-");
    } catch (IOException e) {
      return false;
    }
  }

  private static void keygen(Path key) throws IOException {
    Process p =
        new ProcessBuilder(
                "ssh-keygen",
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "orchestra-test",
                "-f",
                key.toString())
            .redirectErrorStream(true)
            .start();
    try {
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IOException("ssh-keygen failed: " + out);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  private static String publicKey(Path key) {
    try {
      String[] parts = Files.readString(Path.of(key + ".pub")).strip().split(" ");
      return parts[0] + " " + parts[1];
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static boolean isRoot() {
    return "root".equals(user());
  }

  private static void stop(Process process) {
    if (process == null) {
      return;
    }
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String readQuietly(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  private static void delete(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
