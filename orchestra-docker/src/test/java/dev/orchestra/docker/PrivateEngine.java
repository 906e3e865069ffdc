package dev.orchestra.docker;

import static org.awaitility.Awaitility.await;

import com.github.dockerjava.api.DockerClient;
import dev.orchestra.OrchestraException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Docker engine of the tests' own, which they may stop and start at will: a second {@code
 * dockerd} from the same installation, with its own data root, exec root (and so its own
 * containerd), socket, pid file and network bridge, so that restarting it disturbs neither the
 * shared engine nor the tests that run beside it. (Not {@code --bridge=none}: a daemon started that
 * way deletes the host's {@code docker0}, which the shared engine's containers need.) It reads a
 * configuration file of its own, not the host's {@code /etc/docker/daemon.json}. The image the
 * tests run is copied into it from the shared engine.
 *
 * <p>It needs root, like any {@code dockerd}: tests that do not run as root (GitHub Actions'
 * runner) start it, give it its bridge, signal it and remove its files through password-less {@code
 * sudo -n}; its socket belongs to the tests' group, so that they reach it without root.
 *
 * <p>Everything lives in one temporary directory that {@link #close()} stops and removes; a JVM
 * that dies first stops the daemon from a shutdown hook.
 */
final class PrivateEngine implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(PrivateEngine.class);

  private static final Duration START_PATIENCE = Duration.ofSeconds(60);
  private static final Duration STOP_PATIENCE = Duration.ofSeconds(60);

  /** This JVM's ids, or {@code null} where there is no {@code /proc} (not Linux). */
  private static final Ids IDS = Ids.ofThisProcess();

  /** What runs a command as root: nothing when the tests are root, password-less sudo otherwise. */
  private static final List<String> AS_ROOT =
      IDS != null && IDS.uid() == 0 ? List.of() : List.of("sudo", "-n");

  private static String unavailable;
  private static boolean probed;

  private final Path dir;
  private final Path log;
  private final String bridge;
  private final Thread shutdownHook;
  private Process daemon;
  private boolean liveRestore;
  private DockerConnection client;

  private PrivateEngine(Path dir) {
    this.dir = dir;
    this.log = dir.resolve("dockerd.log");
    this.bridge = "orch" + java.util.UUID.randomUUID().toString().substring(0, 8);
    this.shutdownHook = new Thread(this::kill, "private-docker-engine-shutdown");
  }

  /** Why no private engine can run here, or {@code null} when one can. Probed once per JVM. */
  static synchronized String unavailableReason() {
    if (!probed) {
      unavailable = probeUnavailable();
      probed = true;
    }
    return unavailable;
  }

  private static String probeUnavailable() {
    if (IDS == null) {
      return "a private Docker engine needs Linux (this JVM has no /proc/self/status)";
    }
    if (!AS_ROOT.isEmpty()) {
      String needs =
          "starting a private Docker engine needs root or password-less sudo, and the tests run as "
              + System.getProperty("user.name");
      if (executable("sudo").isEmpty()) {
        return needs + " without sudo";
      }
      try {
        output(asRoot("true"));
      } catch (IOException e) {
        return needs + ": " + e.getMessage();
      }
    }
    if (dockerd().isEmpty()) {
      return "no dockerd on the PATH to start a private Docker engine with";
    }
    if (executable("ip").isEmpty()) {
      return "no ip command (iproute2) to give a private Docker engine a bridge of its own";
    }
    return null;
  }

  /**
   * Starts a private engine and copies {@code image} into it from the shared engine.
   *
   * @throws IllegalStateException if it cannot start; the message quotes its log
   */
  static PrivateEngine start(String image) throws IOException {
    // A short path: a unix socket's path may not exceed 107 bytes.
    Path dir = Files.createTempDirectory(Path.of("/tmp"), "orchestra-engine-");
    PrivateEngine engine = new PrivateEngine(dir);
    Runtime.getRuntime().addShutdownHook(engine.shutdownHook);
    try {
      engine.createBridge();
      engine.startDaemon();
      engine.copyImage(image);
      return engine;
    } catch (IOException | RuntimeException e) {
      engine.close();
      throw e;
    }
  }

  /** The engine's address, for the driver's {@code host} parameter. */
  String host() {
    return "unix://" + dir.resolve("docker.sock");
  }

  /**
   * The interface index of the host's {@code docker0}, or {@code null} if there is none: the same
   * before and after a private engine ran, when that engine left the shared one's bridge alone.
   */
  static String hostBridgeIndex() throws IOException {
    Path index = Path.of("/sys/class/net/docker0/ifindex");
    return Files.exists(index) ? Files.readString(index).strip() : null;
  }

  /** The directory that holds everything of this engine; gone after {@link #close()}. */
  Path directory() {
    return dir;
  }

  /** A client of this engine for looking behind the driver's back; valid while it runs. */
  DockerClient client() {
    return client.api();
  }

  /**
   * Stops the daemon as its operator would (SIGTERM), and waits until it is gone: that of the
   * process this JVM started, {@code dockerd} itself or the {@code sudo} that runs it.
   */
  void stop() {
    if (client != null) {
      client.close();
      client = null;
    }
    if (daemon == null) {
      return;
    }
    LOG.info("stopping the private Docker engine in {}", dir);
    signal("TERM");
    try {
      if (!daemon.waitFor(STOP_PATIENCE.toMillis(), TimeUnit.MILLISECONDS)) {
        LOG.warn("the private Docker engine did not stop within {}; killing it", STOP_PATIENCE);
        signal("KILL");
        daemon.waitFor();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      signal("KILL");
      throw new IllegalStateException("interrupted while stopping the private engine", e);
    }
    daemon = null;
  }

  /** Starts the daemon again on the same data root, after {@link #stop()}. */
  void startAgain() {
    if (daemon != null) {
      throw new IllegalStateException("the private engine runs already");
    }
    startDaemon();
  }

  /** Stops the daemon and starts it again on the same data root. */
  void restart() {
    stop();
    startAgain();
  }

  /**
   * Stops the daemon and starts it again, from now on with or without live restore: with it, the
   * engine leaves its containers running when it stops, and takes them over when it starts.
   */
  void restart(boolean liveRestore) {
    stop();
    this.liveRestore = liveRestore;
    startAgain();
  }

  /** Stops the daemon and removes everything it stored. */
  @Override
  public void close() {
    try {
      stop();
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException shuttingDown) {
        // The hook is about to run anyway.
      }
      removeDirectory();
      removeBridge();
    }
  }

  /** A bridge of its own, on an address range no other interface uses. */
  private void createBridge() throws IOException {
    String ip = executable("ip").orElseThrow().toString();
    String used = output(ip, "-o", "-4", "addr");
    int third = 0;
    while (used.contains(" 10.213." + third + ".")) {
      third++;
    }
    output(asRoot(ip, "link", "add", "name", bridge, "type", "bridge"));
    output(asRoot(ip, "addr", "add", "10.213." + third + ".1/24", "dev", bridge));
    output(asRoot(ip, "link", "set", bridge, "up"));
  }

  private void removeBridge() {
    run(asRoot(executable("ip").orElseThrow().toString(), "link", "del", bridge));
  }

  /** {@code command}, run as root. */
  private static String[] asRoot(String... command) {
    List<String> line = new ArrayList<>(AS_ROOT);
    line.addAll(List.of(command));
    return line.toArray(String[]::new);
  }

  private static String output(String... command) throws IOException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out =
        new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    try {
      if (p.waitFor() != 0) {
        throw new IOException(String.join(" ", command) + " failed: " + out.strip());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted: " + String.join(" ", command));
    }
    return out;
  }

  private void startDaemon() {
    List<String> command = new ArrayList<>(AS_ROOT);
    command.add(dockerd().orElseThrow().toString());
    command.addAll(
        List.of(
            "--config-file",
            config().toString(),
            "--group",
            Long.toString(IDS.gid()),
            "--containerd-namespace",
            bridge,
            "--containerd-plugins-namespace",
            bridge + "-plugins",
            "--data-root",
            dir.resolve("data").toString(),
            "--exec-root",
            dir.resolve("exec").toString(),
            "--pidfile",
            dir.resolve("docker.pid").toString(),
            "--host",
            host(),
            "--bridge=" + bridge,
            "--iptables=false",
            "--ip-masq=false"));
    if (liveRestore) {
      command.add("--live-restore");
    }
    LOG.info("starting a private Docker engine at {}", host());
    try {
      // A pid file a killed daemon left would name a process that may be another's by now.
      Files.deleteIfExists(dir.resolve("docker.pid"));
      daemon =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start dockerd for a private engine in " + dir, e);
    }
    try {
      await()
          .atMost(START_PATIENCE)
          .pollInterval(Duration.ofMillis(100))
          .ignoreException(OrchestraException.class)
          .until(this::answers);
    } catch (ConditionTimeoutException e) {
      throw new IllegalStateException(
          "the private dockerd did not answer within " + START_PATIENCE + ": " + logTail(), e);
    }
  }

  /** Whether the daemon answers; fails at once when it died. */
  private boolean answers() {
    if (!daemon.isAlive()) {
      throw new IllegalStateException(
          "the private dockerd exited with " + daemon.exitValue() + ": " + logTail());
    }
    client = DockerConnection.open(Optional.of(host()));
    return true;
  }

  private void copyImage(String image) throws IOException {
    try (InputStream saved = DockerTesting.engine().saveImageCmd(image).exec()) {
      client.api().loadImageCmd(saved).exec();
    }
    LOG.info("copied image {} into the private Docker engine", image);
  }

  /** An empty daemon configuration, so that the host's {@code daemon.json} does not apply. */
  private Path config() {
    Path config = dir.resolve("daemon.json");
    try {
      if (!Files.exists(config)) {
        Files.writeString(config, "{}\n");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + config, e);
    }
    return config;
  }

  private void kill() {
    if (daemon != null) {
      signal("TERM");
    }
  }

  /**
   * Sends {@code signal} to the daemon: to the process this JVM started when that is {@code
   * dockerd}, else through {@code sudo} to the pid {@code dockerd} wrote (a {@code sudo} relays a
   * SIGTERM to its command, but cannot relay a SIGKILL).
   */
  private void signal(String signal) {
    Process p = daemon;
    String pid = daemonPid();
    if (AS_ROOT.isEmpty() || pid == null) {
      if ("KILL".equals(signal)) {
        p.destroyForcibly();
      } else {
        p.destroy();
      }
    } else {
      run(asRoot("kill", "-s", signal, pid));
    }
  }

  /** The pid {@code dockerd} wrote, or {@code null} before it wrote one. */
  private String daemonPid() {
    try {
      String pid = Files.readString(dir.resolve("docker.pid")).strip();
      return pid.isEmpty() ? null : pid;
    } catch (IOException e) {
      return null;
    }
  }

  private void removeDirectory() {
    try {
      // dockerd leaves its data root bind-mounted on itself (and, after a crash, layers mounted):
      // unmount everything under the directory, deepest first, then remove it.
      List<String> mounts = new ArrayList<>();
      for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
        String[] fields = line.split(" ");
        if (fields.length > 4 && Path.of(unescapeMountPoint(fields[4])).startsWith(dir)) {
          mounts.add(unescapeMountPoint(fields[4]));
        }
      }
      mounts.sort(java.util.Comparator.comparingInt(String::length).reversed());
      for (String mount : mounts) {
        run(asRoot("umount", mount));
      }
      run(asRoot("rm", "-rf", dir.toString()));
    } catch (IOException e) {
      LOG.warn("could not list the mounts under the private engine's directory {}: {}", dir, e);
    }
  }

  /** Runs a clean-up command; a failure is worth a warning, not a failed test. */
  private static void run(String... command) {
    try {
      output(command);
    } catch (IOException e) {
      LOG.warn("{}", e.getMessage());
    }
  }

  /** A mount point as /proc/self/mountinfo writes it: space, tab, newline, backslash escaped. */
  private static String unescapeMountPoint(String field) {
    return field
        .replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\");
  }

  private String logTail() {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /** The real user and group ids of this JVM. */
  private record Ids(long uid, long gid) {

    /** From {@code /proc/self/status}; {@code null} where it cannot be read. */
    static Ids ofThisProcess() {
      try {
        long uid = -1;
        long gid = -1;
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
          if (line.startsWith("Uid:")) {
            uid = Long.parseLong(line.split("\\s+")[1]);
          } else if (line.startsWith("Gid:")) {
            gid = Long.parseLong(line.split("\\s+")[1]);
          }
        }
        return new Ids(uid, gid);
      } catch (IOException e) {
        LOG.debug("cannot read this process's user and group ids: {}", e.toString());
        return null;
      }
    }
  }

  private static Optional<Path> dockerd() {
    return executable("dockerd");
  }

  private static Optional<Path> executable(String name) {
    String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
    for (String entry : path.split(java.io.File.pathSeparator)) {
      Path candidate = Path.of(entry, name);
      if (Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    for (String dir : List.of("/usr/sbin", "/usr/bin", "/sbin", "/bin")) {
      if (Files.isExecutable(Path.of(dir, name))) {
        return Optional.of(Path.of(dir, name));
      }
    }
    return Optional.empty();
  }
}
