package dev.orchestra;

import java.io.OutputStream;

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
}
