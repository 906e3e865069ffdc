package dev.orchestra;

import dev.orchestra.spi.Durations;
import dev.orchestra.spi.Exceptions;
import dev.orchestra.spi.ExitWatcher;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The handle of a task started by {@link Driver#runContainer(Task)}.
 *
 * <p>Thread-safe. A container belongs to the namespace of the driver that started it.
 */
public interface Container {

  /**
   * The driver-specific identifier of this container: stable for the container's life, non-empty.
   *
   * @return the identifier
   */
  String id();

  /**
   * The task's current status. Cheap to poll: once the task is done the status is cached and never
   * changes, and no further platform call is made.
   *
   * @return the current status, never {@code null}
   * @throws ContainerNotFoundException if the container was removed behind the driver's back, or
   *     after {@link #cleanup()} by drivers that forget cleaned-up containers
   * @throws OrchestraException if the platform cannot be asked
   */
  ContainerStatus status();

  /**
   * Writes everything the task has written so far, from its first byte: its standard output to
   * {@code stdout} and its standard error to {@code stderr}, byte for byte (no charset decoding, a
   * partial last line included). Works while the task runs, after it has exited, and as often as
   * asked. Streams the output: the log is never held whole in memory. Neither stream is closed.
   *
   * @param stdout receives the standard output; not {@code null}
   * @param stderr receives the standard error; not {@code null}
   * @throws ContainerNotFoundException if the container no longer exists
   * @throws OrchestraException if reading the logs or writing to a stream fails
   * @throws OrchestraInterruptedException if the calling thread is interrupted (its interrupt flag
   *     is set again)
   */
  void logs(OutputStream stdout, OutputStream stderr);

  /**
   * Stops the task if it still runs (its whole process tree), removes the container and forgets it.
   * Afterwards {@link #status()} reports done or throws {@link ContainerNotFoundException}, and
   * {@link Driver#runContainer(Task)} with the same task id starts a fresh run. Idempotent.
   *
   * @throws OrchestraException if the platform fails to remove the container
   */
  void cleanup();

  /**
   * Streams the task's output as it is produced: its standard output to {@code stdout} and its
   * standard error to {@code stderr}, byte for byte, from the first byte, until the task ends; then
   * returns, having written everything (no byte lost or written twice at the moment the task
   * exits). Streams the output: never the whole log in memory. Neither stream is closed; each is
   * flushed as data arrives.
   *
   * <p>Requires {@link Capability#FOLLOW}.
   *
   * @param stdout receives the standard output; not {@code null}
   * @param stderr receives the standard error; not {@code null}
   * @throws OrchestraInterruptedException if the calling thread is interrupted: following stops
   *     promptly and the interrupt flag is set again
   * @throws ContainerNotFoundException if the container no longer exists
   * @throws OrchestraException if reading the output or writing to a stream fails
   * @throws UnsupportedOperationException if the driver lacks {@link Capability#FOLLOW}
   */
  default void follow(OutputStream stdout, OutputStream stderr) {
    throw new UnsupportedOperationException(
        getClass().getName() + " does not support follow (Capability.FOLLOW)");
  }

  /**
   * A future completed with the final status once the task is done, or completed exceptionally
   * (with {@link ContainerNotFoundException}, say) when it can no longer be observed. Cancelling
   * the future stops nothing but the observation.
   *
   * <p>Drivers observe the platform's own exit events, without a thread or a platform call per task
   * per poll; the default implementation polls {@link #status()} from one shared thread with a
   * growing interval (see {@link ExitWatcher}).
   *
   * @return the future of the final status; repeated calls may return the same future
   */
  default CompletableFuture<ContainerStatus> onExit() {
    return ExitWatcher.shared().watch(this);
  }

  /**
   * Waits for the task to end, at most {@code timeout}.
   *
   * @param timeout how long to wait; zero or negative does not wait; any length is accepted, and
   *     one too long to count in nanoseconds ({@code ChronoUnit.FOREVER.getDuration()}, {@code
   *     Duration.ofMillis(Long.MAX_VALUE)}) waits until the task ends (see {@link
   *     dev.orchestra.spi.Durations})
   * @return the final status if the task ended in time, else the current status (not done)
   * @throws OrchestraInterruptedException if the calling thread is interrupted while waiting (its
   *     interrupt flag is set again)
   * @throws ContainerNotFoundException if the container no longer exists
   * @throws OrchestraException if the platform cannot be asked
   */
  default ContainerStatus await(Duration timeout) {
    if (timeout == null) {
      throw new IllegalArgumentException("timeout must not be null");
    }
    ContainerStatus now = status();
    if (now.isDone() || timeout.isZero() || timeout.isNegative()) {
      return now;
    }
    try {
      return onExit().get(Durations.saturatedNanos(timeout), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      return status();
    } catch (Exception e) {
      throw Exceptions.launder("waiting for container " + id(), e);
    }
  }

  /**
   * Stops the task: asks it to end (SIGTERM to its whole process tree, the task's own process
   * first, so that a task that handles SIGTERM sees the request before its children end), and kills
   * it (SIGKILL) when it is still running after {@code grace}. Returns once the task has ended. The
   * container stays, with its logs; {@link #cleanup()} removes it. A task that is already done is
   * left as it is.
   *
   * <p>Requires {@link Capability#STOP}.
   *
   * @param grace how long the task may take to end after SIGTERM; zero kills at once; any length is
   *     accepted, and one too long to count ({@code ChronoUnit.FOREVER.getDuration()}) waits for
   *     the task to end by itself, however long it takes
   * @return the final status: {@link ExitReason#STOPPED} unless the task had ended before
   * @throws IllegalArgumentException if {@code grace} is null or negative
   * @throws OrchestraInterruptedException if the calling thread is interrupted while waiting (the
   *     task is then killed, and the interrupt flag set again)
   * @throws ContainerNotFoundException if the container no longer exists
   * @throws UnsupportedOperationException if the driver lacks {@link Capability#STOP}
   */
  default ContainerStatus stop(Duration grace) {
    throw new UnsupportedOperationException(
        getClass().getName() + " does not support stop (Capability.STOP)");
  }
}
