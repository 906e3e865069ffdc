package dev.orchestra.local;

import dev.orchestra.Driver;
import dev.orchestra.spi.DriverProvider;
import java.util.Map;

/**
 * Registers the driver {@code "local"}: each task runs as an operating-system process on this
 * machine, as this JVM's user. It needs nothing installed and is the embedded default.
 *
 * <pre>{@code
 * try (Driver driver = Orchestra.open("local", "build-42")) { ... }
 * try (Driver driver = Orchestra.open("local://build-42?root=/var/ci")) { ... }
 * }</pre>
 *
 * <h2>Parameters</h2>
 *
 * <ul>
 *   <li>{@code root}: the directory under which namespaces live; default {@code
 *       ${java.io.tmpdir}/orchestra-local-<user>}, one per user (also {@code
 *       ORCHESTRA_LOCAL_ROOT}). Any other parameter is refused.
 * </ul>
 *
 * <h2>Layout</h2>
 *
 * Everything a namespace creates lives below {@code <root>/<safe namespace>/} (names made safe by
 * {@link dev.orchestra.spi.Names#safe(String)}): a task under {@code tasks/<safe task id>/}, where
 * {@code work/} is its task directory, {@code stdout} and {@code stderr} hold its output and {@code
 * exit} records how it ended (its original id, pid, exit code and reason); a volume under {@code
 * volumes/<safe volume name>/}. A mount is a symbolic link from the task directory to the volume's
 * directory. A sandbox's steps keep their output in {@code steps/<safe step id>/} of the sandbox's
 * task.
 *
 * <h2>Behaviour</h2>
 *
 * <ul>
 *   <li>The command is executed directly (no shell), resolved on the caller's {@code PATH}. The
 *       process sees only the task's variables plus the caller's {@code PATH} (unless the task sets
 *       its own), and reads end of file on standard input unless the task gives input (pumped by a
 *       thread of its own until delivered).
 *   <li>Output goes straight to files, never through the heap; {@code logs()} streams them, and
 *       {@code follow()} tails them: it writes what is there, then what the task appends (looking
 *       again every 15 ms when nothing came), and returns once the task has ended and both files
 *       are read to their end. Output that a background process of the task writes after the task
 *       ended is not waited for. An interrupt stops it at once.
 *   <li>{@code onExit()} completes from the JDK's own notice that the process ended ({@link
 *       Process#onExit()}), after the exit record is written; {@code await()} waits on it. The
 *       driver keeps no thread per task, and one shared timer thread serves every task's timeout
 *       (it ends 5 seconds after the last pending timeout, so that no thread outlives the work).
 *       (The JDK itself keeps a small "process reaper" thread per running child process.)
 *   <li>{@code stop(grace)} sends SIGTERM to the task's process tree (the task's own process first,
 *       so that a task that handles SIGTERM sees the request before its children end, then the
 *       descendants it had), waits up to {@code grace} for every one of those processes to end,
 *       then sends SIGKILL to what is left, descendants that outlived their parent included, and
 *       returns the final status. A task's {@code timeout} does the same from the shared timer with
 *       a grace of 10 seconds, counted from the start.
 *   <li>{@link dev.orchestra.ExitReason}: {@code STOPPED} when {@code stop()} or {@code cleanup()}
 *       ended the task, {@code TIMED_OUT} when its timeout did, whatever exit code it then had (143
 *       for SIGTERM, 137 for SIGKILL, or its own if it handled SIGTERM); otherwise {@code SIGNALED}
 *       for 129 to 192 and {@code EXITED} for the rest.
 *   <li>Tasks and their ids are shared by every driver instance of a namespace (same root, same
 *       namespace) within this JVM. {@code find(id)} returns a task that runs or ran in this JVM,
 *       or one that ended while an earlier JVM ran it (read from its {@code exit} record, with its
 *       logs); {@code runContainer} of such an id returns that task rather than running it again. A
 *       task that was still running when its JVM ended is not found (its exit status is unknown),
 *       and running its id again replaces its directory; its process, if still alive, is not
 *       stopped. Nothing on disk is trusted: a record is only read from a regular file (never
 *       through a symbolic link) in a real directory, must be valid and name the very task id;
 *       otherwise the task is not found (logged at WARN).
 *   <li>{@code createSandbox(task)} runs the task's command (say {@code sleep 86400}) as the main
 *       process in a fresh task directory with the task's mounts; {@code exec(step)} runs each step
 *       as a process of its own in that directory (or the step's {@code workDir} inside it), with
 *       the sandbox's environment plus the step's, its own standard input, output and exit code.
 *       Step ids are idempotent within the sandbox. A sandbox whose main process ended refuses new
 *       steps. Closing the sandbox (or cleaning up its container, or closing the driver) kills its
 *       steps, then the main process, and deletes the task directory.
 *   <li>{@code cleanup()} kills the task's whole process tree with SIGKILL, descendants first, then
 *       deletes its directory without following links; afterwards {@code status()} still answers
 *       the final status (137 and {@code STOPPED} for a process the SIGKILL ended; a shell may end
 *       first, with its own code, once its children are gone) and {@code logs()} throws {@link
 *       dev.orchestra.ContainerNotFoundException}. A process that left the tree (a daemon that
 *       detached itself, or a background child of a task that already ended) cannot be found and
 *       keeps running.
 *   <li>{@code close()} cleans up every task and sandbox of the namespace and deletes its root
 *       directory with all volumes; the driver instance then refuses new work with {@link
 *       IllegalStateException}.
 * </ul>
 *
 * <h2>Capabilities and ignored options</h2>
 *
 * The driver declares {@link dev.orchestra.Capability#FOLLOW FOLLOW}, {@link
 * dev.orchestra.Capability#STOP STOP}, {@link dev.orchestra.Capability#TIMEOUT TIMEOUT}, {@link
 * dev.orchestra.Capability#REATTACH REATTACH} and {@link dev.orchestra.Capability#SANDBOX SANDBOX}.
 * A task's image, user, privileged flag and resource limits are ignored, each with one warning per
 * driver instance, and the task runs anyway. A volume's size is ignored. Tasks still run when the
 * JVM exits.
 */
public final class LocalDriverProvider implements DriverProvider {

  /** Creates the provider; {@link java.util.ServiceLoader} calls this. */
  public LocalDriverProvider() {}

  /**
   * The registry name.
   *
   * @return {@code "local"}
   */
  @Override
  public String name() {
    return LocalDriver.NAME;
  }

  /**
   * Opens the local driver for a namespace, creating the root directory if missing.
   *
   * @param namespace the namespace
   * @param params at most {@code root}
   * @return a new driver
   * @throws IllegalArgumentException if a parameter is unknown (the message lists {@code root}) or
   *     {@code root} is not a valid path
   * @throws dev.orchestra.OrchestraException if the root directory cannot be created
   */
  @Override
  public Driver create(String namespace, Map<String, String> params) {
    return LocalDriver.open(namespace, params);
  }
}
