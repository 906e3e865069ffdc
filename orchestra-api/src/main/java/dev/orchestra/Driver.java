package dev.orchestra;

import java.util.Optional;
import java.util.Set;

/**
 * A connection to one platform (OS processes, a Docker engine, ...) scoped to one namespace.
 *
 * <p>Obtain one with {@link Orchestra#open(String, String)}. Every resource a driver creates
 * carries its namespace, so that {@link #close()} can remove exactly what the namespace owns and
 * nothing else. Implementations are thread-safe: one driver may be shared by every thread of a CI
 * server.
 *
 * <p>Drivers throw only unchecked exceptions: {@link IllegalArgumentException} for bad input,
 * {@link OrchestraException} (or a subtype) for everything the platform refuses or fails at.
 */
public interface Driver extends AutoCloseable {

  /**
   * The name this driver is registered under, for example {@code "local"} or {@code "docker"}.
   *
   * @return the registry name, never {@code null}
   */
  String name();

  /**
   * Starts the task and returns at once, without waiting for it to finish.
   *
   * <p>Idempotent by {@link Task#id()}: when a task with that id already ran (or runs) in this
   * namespace, its existing container is returned; the command does not run a second time. This
   * holds when many threads call at once, and across driver instances of one namespace. After
   * {@link Container#cleanup()} the id is free again and a new call starts a fresh run.
   *
   * <p>Volumes named by the task's mounts are created when missing, as by {@link
   * #createVolume(String, long)} with the platform's default size.
   *
   * @param task what to run; not {@code null}
   * @return the handle of the task's container
   * @throws IllegalArgumentException if the task cannot be expressed on this platform (for example
   *     a mount path that leaves the task directory)
   * @throws OrchestraException if the platform refuses or fails to start the task; nothing of it is
   *     left behind
   * @throws IllegalStateException if this driver is closed
   */
  Container runContainer(Task task);

  /**
   * Creates the named volume in this namespace, or returns it with its data if it exists.
   *
   * @param name the caller's name for the volume: not blank, no {@code /}, {@code \}, control
   *     characters, and not {@code .} or {@code ..}
   * @param sizeBytes the requested size in bytes; {@code 0} means the platform's default. Drivers
   *     that cannot limit a volume's size ignore it.
   * @return the volume, whose {@link Volume#name()} is {@code name}
   * @throws IllegalArgumentException if the name is not a valid volume name or the size is negative
   * @throws OrchestraException if the platform fails to create it
   * @throws IllegalStateException if this driver is closed
   */
  Volume createVolume(String name, long sizeBytes);

  /**
   * Finds the container of a task of this namespace, also one started by another driver instance (a
   * CI server that restarted finds its running and finished tasks). Starts nothing.
   *
   * <p>Requires {@link Capability#REATTACH}.
   *
   * @param taskId the task's id
   * @return the task's container, or empty when the namespace has no task of that id
   * @throws IllegalArgumentException if the id is null, blank or holds control characters
   * @throws OrchestraException if the platform cannot be asked
   * @throws UnsupportedOperationException if the driver lacks {@link Capability#REATTACH}
   * @throws IllegalStateException if this driver is closed
   */
  default Optional<Container> find(String taskId) {
    throw new UnsupportedOperationException(
        getClass().getName() + " does not support find (Capability.REATTACH)");
  }

  /**
   * Starts a sandbox: one long-lived container, in which {@link Sandbox#exec(Task)} runs several
   * commands one after the other, sharing its task directory, mounts and image.
   *
   * <p>The task describes the sandbox: its id (idempotent, as for {@link #runContainer(Task)}),
   * image, mounts, limits, user, privileged flag, environment and working directory. Its command is
   * the sandbox's main process, which keeps the sandbox alive: a command that waits, such as {@code
   * sleep 86400}; the sandbox ends when it ends. The sandbox's {@link Sandbox#container()} is that
   * main process.
   *
   * <p>Requires {@link Capability#SANDBOX}.
   *
   * @param task the sandbox's description
   * @return the sandbox
   * @throws OrchestraException if the platform fails to start it
   * @throws UnsupportedOperationException if the driver lacks {@link Capability#SANDBOX}
   * @throws IllegalStateException if this driver is closed
   */
  default Sandbox createSandbox(Task task) {
    throw new UnsupportedOperationException(
        getClass().getName() + " does not support sandboxes (Capability.SANDBOX)");
  }

  /**
   * The optional behaviours this driver honours. A {@link Task} option whose capability is absent
   * is ignored with a warning in the log; ask before relying on one.
   *
   * @return the declared capabilities, never {@code null}; empty by default
   */
  default Set<Capability> capabilities() {
    return Set.of();
  }

  /**
   * Removes everything this namespace owns on the platform: every container, running ones too
   * (whole process trees), and every volume with its data, whichever driver instance created them.
   * Touches nothing of any other namespace.
   *
   * <p>Cleanup carries on past partial failures (each logged at WARN) and reports them together at
   * the end as one {@link OrchestraException}; a driver of the same namespace, opened and closed
   * later, removes what was left. Once a call has run to its end, with failures or without, later
   * calls do nothing. A call interrupted midway stops, and a later call finishes the work.
   *
   * <p>Afterwards this driver refuses new work with {@link IllegalStateException}, and its
   * containers answer as after {@link Container#cleanup()}. How a driver finds and removes what its
   * namespace owns, and what it cannot reach, is on the driver's page in the repository, {@code
   * docs/drivers/<name>.md}.
   *
   * @throws OrchestraException if some resources could not be removed
   * @throws OrchestraInterruptedException if the calling thread is interrupted (its interrupt flag
   *     is set again); a later call removes what is left
   */
  @Override
  void close();
}
