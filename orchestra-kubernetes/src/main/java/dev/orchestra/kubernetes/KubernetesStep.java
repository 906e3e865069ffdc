package dev.orchestra.kubernetes;

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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One step of a {@link KubernetesSandbox}: an exec ({@link ExecChannel}) in the sandbox pod's
 * container.
 *
 * <p>An exec has no environment, working directory nor user of its own: it runs with the
 * container's. The step's command is therefore wrapped: {@code env K=V... MARKER=m sh -c 'mkdir -p
 * "$1" && cd "$1" || exit 126; shift; exec "$@"' orchestra-step DIR COMMAND...}; the step sees the
 * container's environment plus its own (its own value wins), as a Docker exec does, and the
 * wrapping shell is replaced by the command. This needs {@code env} and a POSIX shell in the image.
 *
 * <p>Its output is recorded on the client's disk ({@link StepOutput}) as it arrives; its exit code
 * is the exec's status (channel 3). Kubernetes has no API to signal an exec: to stop a step, the
 * driver runs a second exec that signals every process whose environment holds the step's marker
 * {@value #MARKER}, as the Docker driver does (the pod shares its process namespace, so the helper
 * sees them all).
 */
final class KubernetesStep implements Container {

  private static final Logger LOG = LoggerFactory.getLogger(KubernetesStep.class);

  /** The variable that marks every process of a step, with a random value per step. */
  static final String MARKER = "ORCHESTRA_STEP_MARKER";

  /** Creates the step's working directory, enters it and becomes the step's command. */
  static final String WRAPPER = "mkdir -p \"$1\" && cd \"$1\" || exit 126; shift; exec \"$@\"";

  /**
   * Sends signal {@code $1} to every process whose environment holds {@code MARKER=$2}, the step's
   * own process (whose parent is not marked) first, then prints how many it signalled: the same
   * script as the Docker driver's steps.
   */
  static final String SIGNAL_SCRIPT =
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

  /** How long a stop waits after SIGKILL. */
  private static final Duration AFTER_KILL = Duration.ofSeconds(30);

  /** How long the helper that signals a step may take. */
  private static final Duration SIGNAL_PATIENCE = Duration.ofSeconds(30);

  /** The grace between SIGTERM and SIGKILL of a step that ran out of time. */
  static final Duration TIMEOUT_GRACE = Duration.ofSeconds(10);

  private static final SecureRandom RANDOM = new SecureRandom();

  private final KubernetesSandbox sandbox;
  private final String stepId;
  private final String marker;
  private final StepOutput output;
  private final CompletableFuture<ContainerStatus> exit = new CompletableFuture<>();
  private final AtomicReference<ExitReason> requested = new AtomicReference<>();
  private volatile ContainerStatus done;
  private volatile boolean sandboxGone;
  private volatile boolean discarded;

  private KubernetesStep(
      KubernetesSandbox sandbox, String stepId, String marker, StepOutput output) {
    this.sandbox = sandbox;
    this.stepId = stepId;
    this.marker = marker;
    this.output = output;
  }

  /**
   * Starts the exec of a step; returns once the API server accepted it.
   *
   * @throws IllegalStateException if the sandbox's container no longer runs
   * @throws OrchestraException if the exec could not be started
   */
  static KubernetesStep start(KubernetesSandbox sandbox, Task step) {
    KubeContext ctx = sandbox.context();
    String what = sandbox.describeStep(step.id());
    String relative = TaskPaths.requireRelativePath("workDir", step.workDir().orElse("."), true);
    String workDir = TaskPaths.resolve(PodSpecs.TASK_DIR, "workDir", relative);
    String marker = HexFormat.of().formatHex(randomBytes());
    List<String> command = new ArrayList<>();
    command.add("env");
    step.env().forEach((k, v) -> command.add(k + "=" + v));
    command.add(MARKER + "=" + marker);
    command.addAll(List.of("sh", "-c", WRAPPER, "orchestra-step", workDir));
    command.addAll(step.command());
    InputStream stdin = step.stdin().orElse(null);
    StepOutput output = null;
    try {
      output = StepOutput.create(ctx.scratch().resolve(marker));
      KubernetesStep started = new KubernetesStep(sandbox, step.id(), marker, output);
      ExecChannel channel =
          ExecChannel.open(
              ctx,
              sandbox.main().podName(),
              command,
              stdin != null,
              output::write,
              ctx.settings.requestTimeout(),
              "the exec of " + what);
      channel.exit().whenComplete((code, failure) -> started.ended(channel, code, failure));
      if (stdin != null) {
        Thread feeder =
            new Thread(() -> started.feed(channel, stdin), "orchestra-k8s-step-stdin " + what);
        feeder.setDaemon(true);
        feeder.start();
      }
      step.timeout()
          .filter(t -> t.getSeconds() < Integer.MAX_VALUE)
          .ifPresent(t -> ctx.schedule(started::expire, t));
      LOG.info("started {}", what);
      return started;
    } catch (IOException e) {
      closeQuietly(stdin, what);
      deleteQuietly(output);
      throw new OrchestraException(
          "starting " + what + " failed: its output cannot be recorded: " + e, e);
    } catch (RuntimeException e) {
      closeQuietly(stdin, what);
      deleteQuietly(output);
      throw e;
    }
  }

  /** Copies the step's stdin, then sends end of file; on a thread of its own. */
  private void feed(ExecChannel channel, InputStream stdin) {
    try (stdin;
        OutputStream in = channel.stdin()) {
      long sent = StdinFeeder.copy(stdin, in);
      LOG.debug("sent {} bytes of stdin to {}", sent, describe());
    } catch (IOException | RuntimeException e) {
      if (exit.isDone()) {
        LOG.debug("stdin of {} not sent whole: it ended first ({})", describe(), e.toString());
      } else {
        LOG.warn("sending stdin to {} failed: {}", describe(), e.toString());
      }
    }
  }

  /** The exec ended: records its status, or the failure to learn it. */
  private void ended(ExecChannel channel, Integer code, Throwable failure) {
    output.closeWriting();
    ContainerStatus status = null;
    if (code != null) {
      status = ContainerStatus.done(Math.max(0, Math.min(255, code)), reason());
    } else if (sandboxGone || requested.get() != null) {
      // The exec went with its pod, or its connection with the kill.
      status = ContainerStatus.done(137, reason());
    }
    if (status != null) {
      done = status;
      LOG.debug("{} ended {}", describe(), status);
      exit.complete(status);
    } else {
      Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
      LOG.warn("{} ended, but its exit code is unknown: {}", describe(), String.valueOf(cause));
      exit.completeExceptionally(
          cause instanceof RuntimeException
              ? cause
              : new OrchestraException(describe() + " failed: " + cause, cause));
    }
    output.finish();
  }

  private ExitReason reason() {
    ExitReason r = requested.get();
    return r == null ? ExitReason.EXITED : r;
  }

  /** The driver's id of the step: the sandbox pod's name, the step's id and its marker. */
  @Override
  public String id() {
    return sandbox.main().podName() + "/" + stepId + "/" + marker.substring(0, 12);
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
      } catch (CompletionException e) {
        throw Exceptions.launder("following the logs of " + describe(), e);
      }
    }
  }

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
      killAfterInterrupt();
      throw e;
    } catch (ExecutionException e) {
      throw Exceptions.launder(what, e);
    }
  }

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
    return "KubernetesStep[" + stepId + " in pod " + sandbox.main().podName() + "]";
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

  // ---- stopping

  /** The step ran out of time: SIGTERM now, SIGKILL after the grace; never blocks for it. */
  private void expire() {
    if (done != null || discarded || sandboxGone) {
      return;
    }
    if (!requested.compareAndSet(null, ExitReason.TIMED_OUT)) {
      return;
    }
    LOG.info("{} ran longer than its timeout: stopping it", describe());
    try {
      signal("TERM");
    } catch (RuntimeException e) {
      LOG.warn("sending SIGTERM to {} after its timeout failed: {}", describe(), e.getMessage());
    }
    sandbox
        .context()
        .schedule(
            () -> {
              if (done == null && !discarded && !sandboxGone) {
                LOG.info(
                    "{} still runs {} after its timeout: killing it", describe(), TIMEOUT_GRACE);
                try {
                  signal("KILL");
                } catch (RuntimeException e) {
                  LOG.warn("killing {} failed: {}", describe(), e.getMessage());
                }
              }
            },
            TIMEOUT_GRACE);
  }

  /**
   * Sends a signal to the step's processes through a helper exec; returns once the helper has
   * ended. The exec's process may not exist yet right after the start: while the helper finds no
   * process of a step that has not ended, it runs again, for up to {@link #SIGNAL_PATIENCE}.
   */
  private void signal(String signal) {
    String what = "sending SIG" + signal + " to " + describe();
    long deadline = System.nanoTime() + SIGNAL_PATIENCE.toNanos();
    long pauseMillis = 20;
    while (true) {
      int signalled = signalOnce(signal, what);
      if (signalled != 0 || done != null || exit.isDone()) {
        return;
      }
      if (System.nanoTime() - deadline > 0) {
        LOG.warn(
            "{}: found no process of the step; it ended, or its processes cleared their"
                + " environment",
            what);
        return;
      }
      KubeContext.sleep(Duration.ofMillis(pauseMillis), what);
      pauseMillis = Math.min(500, pauseMillis * 2);
    }
  }

  /** Runs the helper once; returns how many processes it signalled, -1 if the sandbox is gone. */
  private int signalOnce(String signal, String what) {
    KubeContext ctx = sandbox.context();
    ByteArrayOutputStream said = new ByteArrayOutputStream();
    int code;
    try (ExecChannel helper =
        ExecChannel.open(
            ctx,
            sandbox.main().podName(),
            List.of("sh", "-c", SIGNAL_SCRIPT, "orchestra-signal", signal, marker),
            false,
            (stderr, bytes, offset, length) -> {
              synchronized (said) {
                if (said.size() < 4096) {
                  said.write(bytes, offset, length);
                }
              }
            },
            ctx.settings.requestTimeout(),
            what)) {
      code = helper.exit().get(SIGNAL_PATIENCE.toNanos(), TimeUnit.NANOSECONDS);
    } catch (IllegalStateException e) {
      LOG.debug("{}: the sandbox no longer runs: {}", what, e.getMessage());
      return -1;
    } catch (InterruptedException e) {
      throw Exceptions.launder(what, e);
    } catch (TimeoutException e) {
      throw new OrchestraException(what + " failed: the helper exec still runs", e);
    } catch (ExecutionException e) {
      throw Exceptions.launder(what, e.getCause());
    }
    String text;
    synchronized (said) {
      text = said.toString(StandardCharsets.UTF_8).strip();
    }
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

  private RuntimeException ioFailure(String action, IOException e) {
    if (discarded || e instanceof java.nio.file.NoSuchFileException) {
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

  static void closeQuietly(InputStream stdin, String what) {
    if (stdin == null) {
      return;
    }
    try {
      stdin.close();
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
