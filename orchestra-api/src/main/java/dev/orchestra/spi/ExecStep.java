package dev.orchestra.spi;

import dev.orchestra.Container;
import dev.orchestra.ContainerNotFoundException;
import dev.orchestra.ContainerStatus;
import dev.orchestra.ExitReason;
import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.NoSuchFileException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A sandbox step that runs as an exec in the sandbox's container, for a platform that can start a
 * process in a running container but neither signal it nor keep its output: the Docker engine's
 * execs, Kubernetes' {@code pods/exec}. A driver extends it with how to start the exec, learn its
 * end and run a helper in the container; the rest of the step's life is here, the same for every
 * such driver.
 *
 * <ul>
 *   <li><b>Output</b> is recorded on the client's disk as it arrives ({@link StepOutput}): {@code
 *       logs} and {@code follow} read the record.
 *   <li><b>Status</b>: running until the driver reports the exec's end ({@link #ended}); the reason
 *       is {@code EXITED} unless a stop, a timeout or the sandbox's removal came first.
 *   <li><b>Stop and timeout</b>: the platform cannot signal an exec, so a helper exec ({@link
 *       #signalOnce}) runs {@link #SIGNAL_SCRIPT}, which signals every process whose environment
 *       holds {@link #MARKER} with this step's random value ({@link #marker()}): the step's own
 *       process first, then its descendants that kept the environment. This needs a POSIX shell
 *       with {@code tr} in the sandbox's image.
 * </ul>
 */
public abstract class ExecStep implements Container {

  private static final Logger LOG = LoggerFactory.getLogger(ExecStep.class);

  /** The variable that marks every process of a step, with a random value per step. */
  public static final String MARKER = "ORCHESTRA_STEP_MARKER";

  /**
   * Sends signal {@code $1} to every process whose environment holds {@code MARKER=$2}, then prints
   * how many it signalled. Reads each environment as a line of space-separated variables. The
   * processes are listed first; those whose parent is not marked (the step's own process) are
   * signalled before the others, so that a step that handles the signal sees it before its children
   * end: a shell waiting for a background child would otherwise see the child end and exit before
   * its own signal arrived. Run as {@code sh -c SIGNAL_SCRIPT orchestra-signal SIGNAL MARKER}.
   */
  public static final String SIGNAL_SCRIPT =
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

  /** How long a stop waits for the step's end after SIGKILL. */
  private static final Duration AFTER_KILL = Duration.ofSeconds(30);

  private static final SecureRandom RANDOM = new SecureRandom();

  private final String stepId;
  private final String marker;
  private final StepOutput output;
  private final Duration signalPatience;
  private final CompletableFuture<ContainerStatus> exit = new CompletableFuture<>();
  private final AtomicReference<ExitReason> requested = new AtomicReference<>();
  private volatile ContainerStatus done;
  private volatile boolean sandboxGone;
  private volatile boolean discarded;

  /**
   * @param stepId the step's id, as the caller gave it
   * @param marker the value of {@link #MARKER} in the step's environment ({@link #newMarker()})
   * @param output where the step's output is recorded
   * @param signalPatience how long a signal is sent again while no process of the step is found
   *     (the platform may answer an exec's start before its process exists)
   */
  protected ExecStep(String stepId, String marker, StepOutput output, Duration signalPatience) {
    this.stepId = stepId;
    this.marker = marker;
    this.output = output;
    this.signalPatience = signalPatience;
  }

  /**
   * A new random value for {@link #MARKER}.
   *
   * @return 32 random hexadecimal digits
   */
  public static String newMarker() {
    byte[] bytes = new byte[16];
    RANDOM.nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }

  // ---- what a driver provides

  /**
   * The step for messages.
   *
   * @return for example "step 'x' of sandbox 'y' in namespace 'z'"
   */
  protected abstract String describe();

  /**
   * Runs the helper exec once, {@code sh -c SIGNAL_SCRIPT orchestra-signal SIGNAL MARKER}, as the
   * step's user; returns once it ended.
   *
   * @param signal the signal's name without {@code SIG}: {@code TERM}, {@code KILL}
   * @param what the action, for messages
   * @return the number of processes it signalled (its output), or -1 if the sandbox's container no
   *     longer runs
   * @throws OrchestraException if the helper failed or said something else than a number
   */
  protected abstract int signalOnce(String signal, String what);

  /**
   * Runs {@code work} once after {@code delay}, on a timer of the driver; never blocks.
   *
   * @param work what to run
   * @param delay when
   */
  protected abstract void schedule(Runnable work, Duration delay);

  /** The step was cleaned up: its sandbox forgets it, so that its id is free again. */
  protected abstract void forget();

  // ---- for the driver

  /**
   * The step's id.
   *
   * @return the id as the caller gave it
   */
  public final String stepId() {
    return stepId;
  }

  /**
   * The step's marker.
   *
   * @return the value of {@link #MARKER} in this step's environment
   */
  protected final String marker() {
    return marker;
  }

  /**
   * The step's recorded output.
   *
   * @return where the step's output is recorded
   */
  protected final StepOutput output() {
    return output;
  }

  /**
   * The exec ended with {@code code} (clamped to 0..255), or, when {@code code} is null, its end
   * could not be learned: after a stop or the sandbox's removal it reads as killed (137), otherwise
   * the step fails with {@code failure}. Ends the recording of the output.
   *
   * @param code the exec's exit code, or null if it is unknown
   * @param failure why it is unknown (may be null)
   */
  protected final void ended(Integer code, Throwable failure) {
    output.closeWriting();
    ContainerStatus status = null;
    if (code != null) {
      status = ContainerStatus.done(Math.max(0, Math.min(255, code)), reason());
    } else if (sandboxGone || requested.get() != null) {
      // the exec went with its container, or could not be asked after a kill
      status = ContainerStatus.done(137, reason());
    }
    if (status != null) {
      done = status;
      LOG.debug("{} ended {}", describe(), status);
      exit.complete(status);
    } else {
      Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
      String message = cause == null ? "no exit code" : cause.getMessage();
      LOG.warn("{} ended, but its exit code is unknown: {}", describe(), message);
      exit.completeExceptionally(
          cause instanceof RuntimeException
              ? cause
              : new OrchestraException(describe() + " failed: " + cause, cause));
    }
    output.finish();
  }

  /**
   * The step ran out of time: SIGTERM now, SIGKILL after {@code grace}; never blocks for it. Meant
   * for {@link #schedule} at the step's timeout.
   *
   * @param grace the time between SIGTERM and SIGKILL
   */
  protected final void expire(Duration grace) {
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
    schedule(
        () -> {
          if (done == null && !discarded && !sandboxGone) {
            LOG.info("{} still runs {} after its timeout: killing it", describe(), grace);
            try {
              signal("KILL");
            } catch (RuntimeException e) {
              LOG.warn("killing {} failed: {}", describe(), e.getMessage());
            }
          }
        },
        grace);
  }

  /** The sandbox is being removed: a step that ends now was stopped by it. */
  public final void sandboxRemoving() {
    sandboxGone = true;
    requested.compareAndSet(null, ExitReason.STOPPED);
  }

  /** Deletes the recorded output; the step is forgotten. */
  public final void discard() {
    discarded = true;
    output.delete();
  }

  /**
   * The exception of an action on a step that was cleaned up or whose sandbox went.
   *
   * @param action what failed, e.g. "reading the logs of"
   * @param cause the platform's answer, or null
   * @return the exception, naming the step
   */
  protected final ContainerNotFoundException notFound(String action, Throwable cause) {
    return new ContainerNotFoundException(
        stepId,
        action + " " + describe() + " failed: it was cleaned up or its sandbox removed",
        cause);
  }

  // ---- Container

  @Override
  public ContainerStatus status() {
    ContainerStatus d = done;
    if (d != null) {
      return d;
    }
    if (discarded) {
      throw notFound("reading the status of", null);
    }
    return ContainerStatus.running();
  }

  @Override
  public void logs(OutputStream stdout, OutputStream stderr) {
    if (stdout == null || stderr == null) {
      throw new IllegalArgumentException("stdout and stderr must not be null");
    }
    if (discarded) {
      throw notFound("reading the logs of", null);
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
      throw notFound("following the logs of", null);
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

  /** Completed once the driver reported the exec's end. */
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
      throw notFound("stopping", null);
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
      // interrupted during a platform call: the step was asked to stop, so it ends all the same
      killAfterInterrupt();
      throw e;
    } catch (ExecutionException e) {
      throw Exceptions.launder(what, e);
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
    forget();
    LOG.info("removed {}", describe());
  }

  // ---- internals

  private ExitReason reason() {
    ExitReason r = requested.get();
    return r == null ? ExitReason.EXITED : r;
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

  /**
   * Sends a signal to the step's processes through the helper; returns once it has ended. While the
   * helper finds no process of a step that has not ended, it runs again, for up to the signal
   * patience, waiting for the step's end 20 ms, then twice as long each time, up to half a second.
   */
  private void signal(String signal) {
    String what = "sending SIG" + signal + " to " + describe();
    long deadline = System.nanoTime() + signalPatience.toNanos();
    long pauseMillis = 20;
    while (true) {
      int signalled = signalOnce(signal, what);
      if (signalled != 0 || done != null || exit.isDone()) {
        return;
      }
      LOG.debug("{}: no process carries the step's marker (yet)", what);
      if (System.nanoTime() - deadline > 0) {
        LOG.warn(
            "{}: found no process of the step; it ended, or its processes cleared their"
                + " environment",
            what);
        return;
      }
      try {
        exit.get(pauseMillis, TimeUnit.MILLISECONDS);
        return; // it ended meanwhile: nothing left to signal
      } catch (TimeoutException stillRunning) {
        pauseMillis = Math.min(500, pauseMillis * 2);
      } catch (ExecutionException ended) {
        return;
      } catch (InterruptedException e) {
        throw Exceptions.launder(what, e);
      }
    }
  }

  private RuntimeException ioFailure(String action, IOException e) {
    if (discarded || e instanceof NoSuchFileException) {
      return notFound(action, null);
    }
    return new OrchestraException(action + " " + describe() + " failed: " + e, e);
  }
}
