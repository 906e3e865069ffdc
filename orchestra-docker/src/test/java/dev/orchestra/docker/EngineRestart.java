package dev.orchestra.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectVolumeResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Restarts the build's Docker engine when it is hung, with the command that {@code
 * ORCHESTRA_RESTART_HUNG_ENGINE} names ({@code .ci/run} sets it to {@code scripts/docker-up.sh},
 * run as root: it restarts an engine that answers but does not run containers). Unset, the build
 * never restarts the engine, and a hung one fails every later test ({@link DockerEngineCondition}).
 *
 * <p>After the command, if the daemon's pid changed (the command leaves a healthy engine running as
 * it is), it removes every container and volume of an Orchestra namespace: no test starts during a
 * restart ({@link DockerEngineCondition.HealthGate} holds them), so all of it belongs to tests
 * caught in the hang or the restart. They fail, and run again in namespaces of their own ({@link
 * EngineTroubleRetries}); what they left would otherwise fail the build's leftover check ({@link
 * LeftoverCheck}), which is there for leaks of the driver, not of a dead engine.
 */
final class EngineRestart implements DockerEngineCondition.Restart {

  private static final Logger LOG = LoggerFactory.getLogger(EngineRestart.class);

  /** The variable that names the restart command, run with {@code sh -c}. */
  static final String VARIABLE = "ORCHESTRA_RESTART_HUNG_ENGINE";

  /** The most the command may take: the script waits up to a minute for each of its steps. */
  static final Duration BOUND = Duration.ofMinutes(5);

  private final String command;
  private final Supplier<String> daemonPid;

  /**
   * @param command the restart command, run with {@code sh -c}
   * @param daemonPid reads the daemon's pid, or {@code null} when it cannot: compared before and
   *     after the command, to tell whether it restarted the engine
   */
  EngineRestart(String command, Supplier<String> daemonPid) {
    this.command = command;
    this.daemonPid = daemonPid;
  }

  /** The restart that {@link #VARIABLE} names, if it is set and not blank. */
  static Optional<DockerEngineCondition.Restart> fromEnvironment() {
    String command = System.getenv(VARIABLE);
    return command == null || command.isBlank()
        ? Optional.empty()
        : Optional.of(new EngineRestart(command, EngineRestart::daemonPid));
  }

  @Override
  public String run() {
    String before = daemonPid.get();
    String failed = runCommand();
    if (failed != null) {
      return failed;
    }
    String after = daemonPid.get();
    if (before != null && before.equals(after)) {
      // The command found the engine healthy again (it was slow, not hung): the tests' containers
      // still run, and are theirs to remove.
      LOG.warn("the Docker engine was not restarted (dockerd is still pid {})", before);
      return null;
    }
    try {
      removeWhatTheHangLeft();
    } catch (RuntimeException e) {
      return "removing what the tests left before the restart failed: " + EngineErrors.answer(e);
    }
    return null;
  }

  /**
   * The pid in the daemon's pid file ({@code DOCKER_PIDFILE}, else {@code /var/run/docker.pid}, as
   * {@code scripts/docker-up.sh} reads it), or {@code null} when it cannot be read: then a restart
   * is assumed.
   */
  static String daemonPid() {
    Path file = Path.of(System.getenv().getOrDefault("DOCKER_PIDFILE", "/var/run/docker.pid"));
    try {
      return Files.readString(file, StandardCharsets.US_ASCII).strip();
    } catch (IOException | SecurityException e) {
      return null;
    }
  }

  /** Runs the command, bounded; its output goes to the test log. */
  private String runCommand() {
    Path output = null;
    try {
      output = Files.createTempFile("orchestra-engine-restart-", ".log");
      Process process =
          new ProcessBuilder("sh", "-c", command)
              .redirectErrorStream(true)
              .redirectOutput(output.toFile())
              .start();
      boolean ended = Uninterruptibly.await(process.onExit(), BOUND);
      if (!ended) {
        process.destroyForcibly();
      }
      String printed = Files.readString(output, StandardCharsets.UTF_8).strip();
      LOG.warn("{} ({}) printed:\n{}", command, VARIABLE, printed);
      if (!ended) {
        return "'" + command + "' did not end within " + BOUND;
      }
      return process.exitValue() == 0
          ? null
          : "'" + command + "' exited with " + process.exitValue();
    } catch (IOException e) {
      return "'" + command + "' could not run: " + e;
    } finally {
      if (output != null) {
        try {
          Files.deleteIfExists(output);
        } catch (IOException ignored) {
          // a temporary file; the system's cleanup takes it
        }
      }
    }
  }

  /** Removes every container and volume of an Orchestra namespace. */
  private static void removeWhatTheHangLeft() {
    List<String> removed = new ArrayList<>();
    try (DockerConnection connection = DockerConnection.open(Optional.empty())) {
      DockerClient docker = connection.api();
      for (var c : LeftoverCheck.namespaceContainers(docker)) {
        try {
          docker.removeContainerCmd(c.getId()).withForce(true).withRemoveVolumes(true).exec();
        } catch (NotFoundException gone) {
          // removed meanwhile
        }
        removed.add("container " + String.join(",", c.getNames()));
      }
      for (InspectVolumeResponse v : LeftoverCheck.namespaceVolumes(docker)) {
        try {
          docker.removeVolumeCmd(v.getName()).exec();
        } catch (NotFoundException gone) {
          // removed meanwhile
        }
        removed.add("volume " + v.getName());
      }
    }
    LOG.warn(
        "removed {} container(s) and volume(s) that tests running in the hang left: {}",
        removed.size(),
        removed);
  }
}
