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
 * try (Driver driver = Orchestra.open("local", "build-42", Map.of("root", "/var/ci"))) { ... }
 * }</pre>
 *
 * <h2>Parameters</h2>
 *
 * <ul>
 *   <li>{@code root}: the directory under which namespaces live; default {@code
 *       ${java.io.tmpdir}/orchestra-local}. Any other parameter is refused.
 * </ul>
 *
 * <h2>Layout</h2>
 *
 * Everything a namespace creates lives below {@code <root>/<safe namespace>/} (names made safe by
 * {@link dev.orchestra.spi.Names#safe(String)}): a task under {@code tasks/<safe task id>/}, where
 * {@code work/} is its task directory and {@code stdout} and {@code stderr} hold its output; a
 * volume under {@code volumes/<safe volume name>/}. A mount is a symbolic link from the task
 * directory to the volume's directory.
 *
 * <h2>Behaviour</h2>
 *
 * <ul>
 *   <li>The command is executed directly (no shell), resolved on the caller's {@code PATH}. The
 *       process sees only the task's variables plus the caller's {@code PATH} (unless the task sets
 *       its own), and reads end of file on standard input unless the task gives input.
 *   <li>Output goes straight to files, never through the heap; {@code logs()} streams them.
 *   <li>Tasks and their ids are shared by every driver instance of a namespace (same root, same
 *       namespace) within this JVM, not across JVMs.
 *   <li>{@code cleanup()} kills the task's whole process tree with SIGKILL, descendants first, then
 *       deletes its directory without following links; afterwards {@code status()} still answers
 *       the final status (137 for a process the SIGKILL ended; a shell may end first, with its own
 *       code, once its children are gone) and {@code logs()} throws {@link
 *       dev.orchestra.ContainerNotFoundException}. A process that left the tree (a daemon that
 *       detached itself, or a background child of a task that already ended) cannot be found and
 *       keeps running.
 *   <li>{@code close()} cleans up every task of the namespace and deletes its root directory with
 *       all volumes; the driver instance then refuses new work with {@link IllegalStateException}.
 * </ul>
 *
 * <h2>Ignored options</h2>
 *
 * The driver declares no {@link dev.orchestra.Capability}: a task's image, user, privileged flag
 * and resource limits are ignored, each with one warning per driver instance, and the task runs
 * anyway. A volume's size is ignored. Tasks still run when the JVM exits.
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
