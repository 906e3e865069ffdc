package dev.orchestra.kubernetes;

import dev.orchestra.OrchestraException;
import dev.orchestra.Task;
import dev.orchestra.spi.Exceptions;
import dev.orchestra.spi.ExecStep;
import dev.orchestra.spi.StepOutput;
import dev.orchestra.spi.TaskPaths;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
final class KubernetesStep extends ExecStep {

  private static final Logger LOG = LoggerFactory.getLogger(KubernetesStep.class);

  /** Creates the step's working directory, enters it and becomes the step's command. */
  static final String WRAPPER = "mkdir -p \"$1\" && cd \"$1\" || exit 126; shift; exec \"$@\"";

  /** How long the helper that signals a step may take, and a signal is sent again. */
  private static final Duration SIGNAL_PATIENCE = Duration.ofSeconds(30);

  /** The grace between SIGTERM and SIGKILL of a step that ran out of time. */
  static final Duration TIMEOUT_GRACE = Duration.ofSeconds(10);

  private final KubernetesSandbox sandbox;

  private KubernetesStep(
      KubernetesSandbox sandbox, String stepId, String marker, StepOutput output) {
    super(stepId, marker, output, SIGNAL_PATIENCE);
    this.sandbox = sandbox;
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
    String marker = newMarker();
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
      channel.exit().whenComplete(started::ended);
      if (stdin != null) {
        Thread feeder =
            new Thread(() -> started.feed(channel, stdin), "orchestra-k8s-step-stdin " + what);
        feeder.setDaemon(true);
        feeder.start();
      }
      step.timeout()
          .filter(t -> t.getSeconds() < Integer.MAX_VALUE)
          .ifPresent(t -> ctx.schedule(() -> started.expire(TIMEOUT_GRACE), t));
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
      if (onExit().isDone()) {
        LOG.debug("stdin of {} not sent whole: it ended first ({})", describe(), e.toString());
      } else {
        LOG.warn("sending stdin to {} failed: {}", describe(), e.toString());
      }
    }
  }

  /** The driver's id of the step: the sandbox pod's name, the step's id and its marker. */
  @Override
  public String id() {
    return sandbox.main().podName() + "/" + stepId() + "/" + marker().substring(0, 12);
  }

  @Override
  public String toString() {
    return "KubernetesStep[" + stepId() + " in pod " + sandbox.main().podName() + "]";
  }

  @Override
  protected void schedule(Runnable work, Duration delay) {
    sandbox.context().schedule(work, delay);
  }

  @Override
  protected void forget() {
    sandbox.forget(this);
  }

  @Override
  protected int signalOnce(String signal, String what) {
    KubeContext ctx = sandbox.context();
    ByteArrayOutputStream said = new ByteArrayOutputStream();
    int code;
    try (ExecChannel helper =
        ExecChannel.open(
            ctx,
            sandbox.main().podName(),
            List.of("sh", "-c", SIGNAL_SCRIPT, "orchestra-signal", signal, marker()),
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

  @Override
  protected String describe() {
    return sandbox.describeStep(stepId());
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
