package dev.orchestra.docker;

import com.github.dockerjava.api.command.ExecCreateCmd;
import com.github.dockerjava.api.command.InspectExecResponse;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import dev.orchestra.Container;
import dev.orchestra.ContainerNotFoundException;
import dev.orchestra.ContainerStatus;
import dev.orchestra.ExitReason;
import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.Task;
import dev.orchestra.spi.Durations;
import dev.orchestra.spi.Exceptions;
import dev.orchestra.spi.StepOutput;
import dev.orchestra.spi.TaskPaths;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
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
final class DockerStep implements Container {

  private static final Logger LOG = LoggerFactory.getLogger(DockerStep.class);

  /** The variable that marks every process of a step, with a random value per step. */
  static final String MARKER = "ORCHESTRA_STEP_MARKER";

  /**
   * Sends signal {@code $1} to every process whose environment holds {@code MARKER=$2}, then prints
   * how many it signalled. Reads each environment as a line of space-separated variables. The
   * processes are listed first; those whose parent is not marked (the step's own process) are
   * signalled before the others, so that a step that handles the signal sees it before its children
   * end: a shell waiting for a background child would otherwise see the child end and exit before
   * its own signal arrived.
   */
  private static final String SIGNAL_SCRIPT =
      "s=$1; m=$2; n=0; first=; rest=;"
          + " marked() { case \" $(tr '\\000' ' ' 2>/dev/null < \"/proc/$1/environ\") \" in"
          + " *\" "
          + MARKER
          + "=$m \"*) return 0;; esac; return 1; };"
          + " for d in /proc/[0-9]*; do p=${d#/proc/}; marked \"$p\" || continue;"
          + " st=$(cat \"$d/stat\" 2>/dev/null); set -- ${st##*) };"
          + " if marked \"$2\"; then rest=\"$rest $p\"; else first=\"$first $p\"; fi; done;"
          + " for p in $first $rest; do kill -s \"$s\" \"$p\" 2>/dev/null && n=$((n+1)); done;"
          + " echo \"$n\"";

  private static final Duration AFTER_KILL = Duration.ofSeconds(30);
  private static final Duration EXIT_CODE_PATIENCE = Duration.ofSeconds(30);
  private static final Duration SIGNAL_PATIENCE = Duration.ofSeconds(10);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final DockerSandbox sandbox;
  private final DockerNamespace namespace;
  private final String stepId;
  private final String execId;
  private final String marker;
  private final String user;
  private final StepOutput output;
  private final CompletableFuture<ContainerStatus> exit = new CompletableFuture<>();
  private final AtomicReference<ExitReason> requested = new AtomicReference<>();
  private volatile ContainerStatus done;
  private volatile boolean sandboxGone;
  private volatile boolean discarded;

  private DockerStep(
      DockerSandbox sandbox,
      String stepId,
      String execId,
      String marker,
      String user,
      StepOutput output) {
    this.sandbox = sandbox;
    this.namespace = sandbox.namespace();
    this.stepId = stepId;
    this.execId = execId;
    this.marker = marker;
    this.user = user;
    this.output = output;
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
    String marker = HexFormat.of().formatHex(randomBytes());
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
      step.timeout().ifPresent(t -> namespace.schedule(started::expire, t));
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

  String stepId() {
    return stepId;
  }

  @Override
  public ContainerStatus status() {
    ContainerStatus d = done;
    if (d != null) {
      return d;
    }
    if (discarded) {
      throw notFound("reading the status of");
    }
    return ContainerStatus.running();
  }

  @Override
  public void logs(OutputStream stdout, OutputStream stderr) {
    if (stdout == null || stderr == null) {
      throw new IllegalArgumentException("stdout and stderr must not be null");
    }
    if (discarded) {
      throw notFound("reading the logs of");
    }
    try {
      output.copyTo(stdout, stderr);
    } catch (IOException e) {
      throw ioFailure("reading the logs of", e);
    }
  }

  @Override
  public void follow(OutputStream stdout, OutputStream stderr) {
    if (stdout == null || stderr == null) {
      throw new IllegalArgumentException("stdout and stderr must not be null");
    }
    if (discarded) {
      throw notFound("following the logs of");
    }
    try {
      output.follow(stdout, stderr, "following the logs of " + describe());
    } catch (IOException e) {
      throw ioFailure("following the logs of", e);
    }
    if (exit.isCompletedExceptionally()) {
      try {
        exit.join();
      } catch (java.util.concurrent.CompletionException e) {
        throw Exceptions.launder("following the logs of " + describe(), e);
      }
    }
  }

  /** Completed by the thread that reads the step's output, once the exit code is known. */
  @Override
  public CompletableFuture<ContainerStatus> onExit() {
    return exit.copy();
  }

  @Override
  public ContainerStatus stop(Duration grace) {
    if (grace == null || grace.isNegative()) {
      throw new IllegalArgumentException("grace must be zero or positive, was " + grace);
    }
    ContainerStatus d = done;
    if (d != null) {
      return d;
    }
    if (discarded) {
      throw notFound("stopping");
    }
    String what = "stopping " + describe();
    requested.compareAndSet(null, ExitReason.STOPPED);
    LOG.info("stopping {} (grace {})", describe(), grace);
    try {
      if (!grace.isZero()) {
        signal("TERM");
        try {
          return exit.get(Durations.saturatedNanos(grace), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
          LOG.info("{} still runs after a grace of {}: killing it", describe(), grace);
        }
      }
      signal("KILL");
      return exit.get(AFTER_KILL.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      throw new OrchestraException(
          what + " failed: it still runs " + AFTER_KILL + " after SIGKILL");
    } catch (InterruptedException e) {
      killAfterInterrupt();
      throw Exceptions.launder(what, e);
    } catch (OrchestraInterruptedException e) {
      // Interrupted during an engine call: the step was asked to stop, so it ends all the same.
      killAfterInterrupt();
      throw e;
    } catch (ExecutionException e) {
      throw Exceptions.launder(what, e);
    }
  }

  /** Kills the step after the stopping thread was interrupted; the flag is cleared meanwhile. */
  private void killAfterInterrupt() {
    boolean interrupted = Thread.interrupted();
    try {
      signal("KILL");
    } catch (RuntimeException e) {
      LOG.warn("killing {} after an interrupted stop failed: {}", describe(), e.getMessage());
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Kills the step if it still runs, waits for its end, deletes its output and forgets it. */
  @Override
  public void cleanup() {
    if (discarded) {
      return;
    }
    if (done == null && !sandboxGone) {
      try {
        stop(Duration.ZERO);
      } catch (OrchestraInterruptedException e) {
        throw e;
      } catch (RuntimeException e) {
        LOG.warn(
            "could not kill {}; it runs on until its sandbox is removed: {}",
            describe(),
            e.getMessage());
      }
    }
    discard();
    sandbox.forget(this);
    LOG.info("removed {}", describe());
  }

  @Override
  public String toString() {
    return "DockerStep[" + stepId + " in " + sandbox.main().name() + ", exec=" + execId + "]";
  }

  // ---- used by the sandbox

  /** The sandbox is being removed: a step that ends now was stopped by it. */
  void sandboxRemoving() {
    sandboxGone = true;
    requested.compareAndSet(null, ExitReason.STOPPED);
  }

  /** Deletes the recorded output; the step is forgotten. */
  void discard() {
    discarded = true;
    output.delete();
  }

  // ---- the step's life

  /** On the step's own thread: copies the output, then reads the exit code and records it. */
  private void record(ExecSession session) {
    IOException streamFailure = null;
    try (session) {
      session.copyOutput(output::write);
    } catch (IOException e) {
      streamFailure = e;
    }
    output.closeWriting();
    ContainerStatus status;
    RuntimeException failure = null;
    try {
      status = ContainerStatus.done(exitCode(), reason());
    } catch (RuntimeException e) {
      status = null;
      failure = e;
    }
    if (status == null && (sandboxGone || requested.get() != null)) {
      // The exec went with its container, or could not be asked after a kill.
      status = ContainerStatus.done(137, reason());
    }
    if (status != null) {
      done = status;
      LOG.debug("{} ended {}", describe(), status);
      exit.complete(status);
    } else {
      if (streamFailure != null) {
        failure.addSuppressed(streamFailure);
      }
      LOG.warn("{} ended, but its exit code is unknown: {}", describe(), failure.getMessage());
      exit.completeExceptionally(failure);
    }
    output.finish();
  }

  private ExitReason reason() {
    ExitReason r = requested.get();
    return r == null ? ExitReason.EXITED : r;
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
        throw notFound("reading the exit code of", e);
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

  /** The step ran out of time: SIGTERM now, SIGKILL after the grace; never blocks for it. */
  private void expire() {
    if (done != null || discarded || sandboxGone) {
      return;
    }
    if (!requested.compareAndSet(null, ExitReason.TIMED_OUT)) {
      return;
    }
    LOG.info("{} ran longer than its timeout: stopping it", describe());
    signal("TERM");
    namespace.schedule(
        () -> {
          if (done == null && !discarded && !sandboxGone) {
            LOG.info(
                "{} still runs {} after its timeout: killing it",
                describe(),
                DockerContainer.TIMEOUT_GRACE);
            signal("KILL");
          }
        },
        DockerContainer.TIMEOUT_GRACE);
  }

  /**
   * Sends a signal to the step's processes through a helper exec (see the class comment); returns
   * once the helper has ended. The engine answers the start of an exec before its process exists:
   * while the helper finds no process of a step that has not ended, it runs again, for up to {@link
   * #SIGNAL_PATIENCE}.
   */
  private void signal(String signal) {
    String what = "sending SIG" + signal + " to " + describe();
    Pause pause = new Pause(what, SIGNAL_PATIENCE);
    while (true) {
      int signalled = signalOnce(signal, what);
      if (signalled != 0 || done != null || exit.isDone()) {
        return;
      }
      LOG.debug("{}: no process carries the step's marker (yet)", what);
      if (!pause.again()) {
        LOG.warn(
            "{}: found no process of the step; it ended, or its processes cleared their"
                + " environment",
            what);
        return;
      }
    }
  }

  /** Runs the helper once; returns how many processes it signalled, -1 if the sandbox is gone. */
  private int signalOnce(String signal, String what) {
    ExecCreateCmd create =
        namespace
            .api()
            .execCreateCmd(sandbox.main().id())
            .withCmd("sh", "-c", SIGNAL_SCRIPT, "orchestra-signal", signal, marker)
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

  private ContainerNotFoundException notFound(String action) {
    return new ContainerNotFoundException(
        stepId,
        action + " " + describe() + " failed: it was cleaned up or its sandbox removed",
        null);
  }

  private ContainerNotFoundException notFound(String action, NotFoundException e) {
    return new ContainerNotFoundException(
        stepId,
        action
            + " "
            + describe()
            + " failed: the engine no longer knows it; "
            + EngineErrors.answer(e),
        e);
  }

  private RuntimeException ioFailure(String action, IOException e) {
    if (discarded) {
      return notFound(action);
    }
    if (e instanceof java.nio.file.NoSuchFileException) {
      return notFound(action);
    }
    return new OrchestraException(action + " " + describe() + " failed: " + e, e);
  }

  private String describe() {
    return sandbox.describeStep(stepId);
  }

  private static byte[] randomBytes() {
    byte[] bytes = new byte[16];
    RANDOM.nextBytes(bytes);
    return bytes;
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
