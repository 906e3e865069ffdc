package dev.orchestra.docker;

import com.github.dockerjava.api.command.ExecCreateCmd;
import com.github.dockerjava.api.command.InspectExecResponse;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import dev.orchestra.ContainerNotFoundException;
import dev.orchestra.OrchestraException;
import dev.orchestra.Task;
import dev.orchestra.spi.Exceptions;
import dev.orchestra.spi.ExecStep;
import dev.orchestra.spi.StepOutput;
import dev.orchestra.spi.TaskPaths;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One step of a {@link DockerSandbox}: an exec in the sandbox's container. Its id is the engine's
 * exec id.
 *
 * <p>Its output is read from the exec's own stream by a thread of its own and recorded in a {@link
 * StepOutput} (the engine keeps no log of an exec). When the stream ends, the process has ended:
 * the exit code comes from inspecting the exec.
 *
 * <p>The engine has no API to signal an exec. To stop a step, the driver runs a second exec, as the
 * step's user, that sends the signal to every process of the container whose environment holds the
 * step's marker {@value #MARKER}: the step and every descendant that kept its environment. This
 * needs a POSIX shell with {@code tr} in the image (busybox, Debian, Alpine all have one). The
 * marker is the only variable a step sees that it was not given.
 */
final class DockerStep extends ExecStep {

  private static final Logger LOG = LoggerFactory.getLogger(DockerStep.class);

  private static final Duration EXIT_CODE_PATIENCE = Duration.ofSeconds(30);
  private static final Duration SIGNAL_PATIENCE = Duration.ofSeconds(10);

  private final DockerSandbox sandbox;
  private final DockerNamespace namespace;
  private final String execId;
  private final String user;

  private DockerStep(
      DockerSandbox sandbox,
      String stepId,
      String execId,
      String marker,
      String user,
      StepOutput output) {
    super(stepId, marker, output, SIGNAL_PATIENCE);
    this.sandbox = sandbox;
    this.namespace = sandbox.namespace();
    this.execId = execId;
    this.user = user;
  }

  /**
   * Creates and starts the exec of a step; returns once it runs.
   *
   * @throws IllegalStateException if the sandbox's container no longer runs
   * @throws OrchestraException if the engine fails
   */
  static DockerStep start(DockerSandbox sandbox, Task step) {
    DockerNamespace namespace = sandbox.namespace();
    DockerContainer main = sandbox.main();
    String what = sandbox.describeStep(step.id());
    String relative = TaskPaths.requireRelativePath("workDir", step.workDir().orElse("."), true);
    String workDir = TaskPaths.resolve(sandbox.taskDir(), "workDir", relative);
    String marker = newMarker();
    List<String> env = new ArrayList<>();
    step.env().forEach((k, v) -> env.add(k + "=" + v));
    env.add(MARKER + "=" + marker);
    Optional<InputStream> stdin = step.stdin();
    StepOutput output = null;
    try {
      ContainerDirectories.ensure(namespace.api(), main.id(), sandbox.taskDir(), relative);
      ExecCreateCmd create =
          namespace
              .api()
              .execCreateCmd(main.id())
              .withCmd(step.command().toArray(String[]::new))
              .withEnv(env)
              .withWorkingDir(workDir)
              .withAttachStdin(stdin.isPresent())
              .withAttachStdout(true)
              .withAttachStderr(true)
              .withTty(false);
      step.user().ifPresent(create::withUser);
      LOG.debug("creating the exec of {}", what);
      String execId = create.exec().getId();
      output = StepOutput.create(namespace.scratch().resolve(execId));
      ExecSession session =
          ExecSession.start(namespace.connection(), execId, stdin.orElse(null), what);
      DockerStep started =
          new DockerStep(sandbox, step.id(), execId, marker, step.user().orElse(null), output);
      Thread reader = new Thread(() -> started.record(session), "orchestra-step " + what);
      reader.setDaemon(true);
      reader.start();
      step.timeout()
          .ifPresent(
              t -> namespace.schedule(() -> started.expire(DockerContainer.TIMEOUT_GRACE), t));
      LOG.info("started {} (exec {})", what, execId.substring(0, Math.min(12, execId.length())));
      return started;
    } catch (NotFoundException | ConflictException e) {
      closeQuietly(stdin, what);
      deleteQuietly(output);
      throw new IllegalStateException(
          "starting "
              + what
              + " failed: the sandbox's container no longer runs; "
              + EngineErrors.answer(e),
          e);
    } catch (IllegalArgumentException e) {
      closeQuietly(stdin, what);
      deleteQuietly(output);
      throw new IllegalArgumentException("workDir of " + what + ": " + e.getMessage(), e);
    } catch (IOException e) {
      closeQuietly(stdin, what);
      deleteQuietly(output);
      Throwable interruption = EngineErrors.interruption(e);
      if (interruption != null) {
        throw Exceptions.launder("starting " + what, interruption);
      }
      throw new OrchestraException(
          "starting " + what + " failed: " + e + " (engine at " + namespace.describeEngine() + ")",
          e);
    } catch (RuntimeException e) {
      closeQuietly(stdin, what);
      deleteQuietly(output);
      throw EngineErrors.failure("starting " + what, e);
    }
  }

  /** The engine's id of the exec. */
  @Override
  public String id() {
    return execId;
  }

  @Override
  public String toString() {
    return "DockerStep[" + stepId() + " in " + sandbox.main().name() + ", exec=" + execId + "]";
  }

  @Override
  protected void schedule(Runnable work, Duration delay) {
    namespace.schedule(work, delay);
  }

  @Override
  protected void forget() {
    sandbox.forget(this);
  }

  // ---- the step's life

  /** On the step's own thread: copies the output, then reads the exit code and records it. */
  private void record(ExecSession session) {
    IOException streamFailure = null;
    try (session) {
      session.copyOutput(output()::write);
    } catch (IOException e) {
      streamFailure = e;
    }
    Integer code;
    RuntimeException failure = null;
    try {
      code = exitCode();
    } catch (RuntimeException e) {
      code = null;
      failure = e;
      if (streamFailure != null) {
        failure.addSuppressed(streamFailure);
      }
    }
    ended(code, failure);
  }

  /** Polls the exec until the engine reports it ended (a moment after its stream ended). */
  private int exitCode() {
    return exitCodeOf(execId, describe());
  }

  private int exitCodeOf(String exec, String what) {
    Pause pause = new Pause("reading the exit code of " + what, EXIT_CODE_PATIENCE);
    while (true) {
      InspectExecResponse inspected;
      try {
        LOG.debug("inspecting exec {} of {}", exec, what);
        inspected = namespace.api().inspectExecCmd(exec).exec();
      } catch (NotFoundException e) {
        throw engineForgot("reading the exit code of", e);
      } catch (RuntimeException e) {
        throw EngineErrors.failure("reading the exit code of " + what, e);
      }
      Long code = inspected.getExitCodeLong();
      if (!Boolean.TRUE.equals(inspected.isRunning()) && code != null) {
        if (code < 0 || code > 255) {
          LOG.warn("the engine reports exit code {} for {}; reading it as 255", code, what);
          return 255;
        }
        return code.intValue();
      }
      if (!pause.again()) {
        throw new OrchestraException(
            "reading the exit code of "
                + what
                + " failed: the engine still reports it running "
                + EXIT_CODE_PATIENCE
                + " after its output ended");
      }
    }
  }

  /** Runs the helper once, as the step's user, through an exec of the engine's. */
  @Override
  protected int signalOnce(String signal, String what) {
    ExecCreateCmd create =
        namespace
            .api()
            .execCreateCmd(sandbox.main().id())
            .withCmd("sh", "-c", SIGNAL_SCRIPT, "orchestra-signal", signal, marker())
            .withAttachStdout(true)
            .withAttachStderr(true)
            .withTty(false);
    if (user != null) {
      create.withUser(user);
    }
    ByteArrayOutputStream said = new ByteArrayOutputStream();
    String helper;
    try {
      LOG.debug("{} through a helper exec", what);
      helper = create.exec().getId();
      try (ExecSession session = ExecSession.start(namespace.connection(), helper, null, what)) {
        session.copyOutput(
            (stderr, bytes, offset, length) -> {
              if (said.size() < 4096) {
                said.write(bytes, offset, length);
              }
            });
      }
    } catch (NotFoundException | ConflictException e) {
      LOG.debug("{}: the sandbox no longer runs: {}", what, EngineErrors.answer(e));
      return -1;
    } catch (IOException e) {
      throw new OrchestraException(what + " failed: " + e, e);
    } catch (RuntimeException e) {
      throw EngineErrors.failure(what, e);
    }
    int code = exitCodeOf(helper, what);
    String text = said.toString(StandardCharsets.UTF_8).strip();
    if (code != 0 || !text.matches("[0-9]+")) {
      throw new OrchestraException(
          what
              + " failed: the helper 'sh -c ...' exited "
              + code
              + (text.isEmpty() ? "" : " saying: " + text)
              + " (stopping a step needs a POSIX shell with tr in the sandbox's image)");
    }
    LOG.debug("{}: signalled {} process(es)", what, text);
    return Integer.parseInt(text);
  }

  private ContainerNotFoundException engineForgot(String action, NotFoundException e) {
    return new ContainerNotFoundException(
        stepId(),
        action
            + " "
            + describe()
            + " failed: the engine no longer knows it; "
            + EngineErrors.answer(e),
        e);
  }

  @Override
  protected String describe() {
    return sandbox.describeStep(stepId());
  }

  private static void closeQuietly(Optional<InputStream> stdin, String what) {
    if (stdin.isEmpty()) {
      return;
    }
    try {
      stdin.get().close();
    } catch (IOException e) {
      LOG.warn("closing the stdin stream of {} failed: {}", what, e.toString());
    }
  }

  private static void deleteQuietly(StepOutput output) {
    if (output != null) {
      output.delete();
    }
  }
}
