package dev.orchestra.example.minimal;

import dev.orchestra.Driver;
import dev.orchestra.spi.DriverProvider;
import java.util.Map;

/**
 * Registers the driver {@code "minimal"}: the smallest driver that keeps the whole mandatory
 * contract, written to be read and copied. Each task runs as an operating-system process of this
 * JVM's user, in a directory of its own.
 *
 * <pre>{@code
 * try (Driver driver = Orchestra.open("minimal", "build-42")) { ... }
 * }</pre>
 *
 * <p>A driver module has this shape: this public provider, listed in {@code
 * META-INF/services/dev.orchestra.spi.DriverProvider}; package-private {@link MinimalDriver} (the
 * {@link Driver} methods), {@link MinimalContainer} (one task), {@link MinimalVolume} (one volume)
 * and a small helper, {@link NamespaceDirectory} (where things live); and in its tests two short
 * classes that extend the kits {@code DriverTck} and {@code ReliabilityTck}.
 *
 * <h2>What it does</h2>
 *
 * <ul>
 *   <li>A namespace lives in {@code <root>/<safe namespace>/}: a task in {@code tasks/<safe task
 *       id>/}, with its output in {@code stdout} and {@code stderr} and its task directory {@code
 *       work/}; a volume in {@code volumes/<safe name>/}, mounted as a symbolic link in the task
 *       directory. Names are made safe by {@link dev.orchestra.spi.Names#safe(String)}, paths
 *       resolved by {@link dev.orchestra.spi.TaskPaths}. The one parameter, {@code root}, defaults
 *       to {@code ${java.io.tmpdir}/orchestra-minimal-<user>}; {@link
 *       dev.orchestra.spi.DriverParams} refuses any other.
 *   <li>The command runs directly (no shell) with only the task's variables and the caller's {@code
 *       PATH}; its input is copied to it by a thread of its own, then closed.
 *   <li>Task ids run once per namespace, whichever thread or driver instance of this JVM asks.
 *   <li>{@code cleanup()} kills the task's process tree, deletes its directory and forgets it:
 *       {@code status()} and {@code logs()} then throw {@link
 *       dev.orchestra.ContainerNotFoundException}. {@code close()} does that for every task of the
 *       namespace and deletes the namespace's directory with its volumes.
 *   <li>{@code await()} and {@code onExit()} are the interface's defaults, which poll {@code
 *       status()} from one shared thread ({@link dev.orchestra.spi.ExitWatcher}).
 * </ul>
 *
 * <h2>What it does not do</h2>
 *
 * <ul>
 *   <li>It declares no {@link dev.orchestra.Capability}: no follow, stop, timeout, reattach or
 *       sandbox, and a task's image, user, privileged flag, limits and timeout are ignored with one
 *       warning per driver instance. The kits skip the tests of each capability, with the reason.
 *   <li>Tasks are forgotten when the JVM ends, and keep running. A process that leaves the task's
 *       process tree (a daemon that detaches itself) is not killed by cleanup. A mount inside
 *       another mount of the same task is refused. Closing one driver while another instance of its
 *       namespace starts tasks is not guarded against.
 * </ul>
 */
public final class MinimalDriverProvider implements DriverProvider {

  /** Creates the provider; {@link java.util.ServiceLoader} calls this. */
  public MinimalDriverProvider() {}

  /**
   * The registry name.
   *
   * @return {@code "minimal"}
   */
  @Override
  public String name() {
    return MinimalDriver.NAME;
  }

  /**
   * Opens the minimal driver for a namespace.
   *
   * @param namespace the namespace
   * @param params at most {@code root}
   * @return a new driver
   * @throws IllegalArgumentException if a parameter is unknown or {@code root} is not a path
   */
  @Override
  public Driver create(String namespace, Map<String, String> params) {
    return MinimalDriver.open(namespace, params);
  }
}
