package dev.orchestra;

/**
 * A long-lived container in which several commands run one after the other (the steps of a
 * multi-step job), sharing its filesystem. Created by {@link Driver#createSandbox(Task)}.
 *
 * <p>Thread-safe. Closing the driver removes its sandboxes too.
 */
public interface Sandbox extends AutoCloseable {

  /**
   * The sandbox's main process: its status tells whether the sandbox still runs, its logs are the
   * main process's output, and its cleanup removes the sandbox.
   *
   * @return the main container
   */
  Container container();

  /**
   * Starts one command in the sandbox and returns at once.
   *
   * <p>The step is a {@link Task}: its id names the step (idempotent within the sandbox, as for
   * {@link Driver#runContainer(Task)}); its command, environment (added to the sandbox's), working
   * directory (relative to the sandbox's task directory), stdin, user and {@link Task#timeout()
   * timeout} apply. Image, mounts, limits and the privileged flag belong to the sandbox and must
   * not be set on a step.
   *
   * <p>The timeout counts from the step's start: a driver with {@link Capability#TIMEOUT} stops a
   * step that runs longer as it stops a task (SIGTERM, SIGKILL 10 seconds later), and the step then
   * reads {@link ExitReason#TIMED_OUT}; the sandbox and its other steps run on. Both built-in
   * drivers do ({@code local}: the step's process tree from the driver's timer; {@code docker}: the
   * step's processes inside the container); the TCK checks it.
   *
   * <p>The returned container has the step's separated output, exact exit code and the usual
   * methods ({@link Container#await(java.time.Duration)}, {@link Container#follow}); its {@link
   * Container#cleanup()} kills the step if it still runs and forgets it.
   *
   * @param step the command to run
   * @return the step's handle
   * @throws IllegalArgumentException if the step sets image, mounts, limits or privileged
   * @throws IllegalStateException if the sandbox has ended or was closed
   * @throws OrchestraException if the platform fails to start the step
   */
  Container exec(Task step);

  /**
   * Removes the sandbox: its main process, its steps, its task directory. Volumes stay. The same as
   * {@code container().cleanup()}. Idempotent.
   */
  @Override
  void close();
}
