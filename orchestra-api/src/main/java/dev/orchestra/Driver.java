package dev.orchestra;

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
   * Touches nothing of any other namespace. Idempotent: later calls do nothing.
   *
   * <p>Cleanup carries on past partial failures (each logged at WARN) and reports them together at
   * the end as one {@link OrchestraException}.
   *
   * @throws OrchestraException if some resources could not be removed
   */
  @Override
  void close();
}
