package dev.orchestra;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;

/**
 * The registry: finds drivers by name among the {@link dev.orchestra.spi.DriverProvider}s on the
 * class path and opens them.
 *
 * <p>Providers are looked up with {@link java.util.ServiceLoader}. A provider that fails to load is
 * logged at WARN and skipped; the others stay usable.
 *
 * <h2>Class loaders</h2>
 *
 * The methods without a class loader share one registry, made on their first use from the providers
 * that the calling thread's context class loader and this library's own class loader see, and kept:
 * later calls cost a map lookup. A driver whose jar only a later class loader sees is not in it.
 *
 * <p>A host that loads plug-ins with class loaders of their own (a CI server, a build tool, an IDE)
 * names the loader instead: {@link #drivers(ClassLoader)}, {@link #open(String, String, Map,
 * ClassLoader)}, {@link #open(String, ClassLoader)} and {@link #open(URI, Map, ClassLoader)} see
 * the providers visible to that loader (itself and the loaders it delegates to), and only those.
 * They look the providers up afresh on every call and keep nothing: a provider's class holds its
 * class loader, so any cache of them would keep an unloaded plug-in's loader alive. A lookup reads
 * the loader's service files and instantiates its providers, which is cheap next to opening a
 * driver; a host that lists drivers often keeps the list itself.
 *
 * <pre>{@code
 * try (Driver driver = Orchestra.open("local", "build-42")) {
 *   Container c = driver.runContainer(Task.builder().id("hello").command("echo", "hi").build());
 * }
 * }</pre>
 */
public final class Orchestra {

  private Orchestra() {}

  private static final class Loaded {
    static final DriverRegistry REGISTRY = DriverRegistry.load(DriverRegistry.defaultLoaders());
  }

  /**
   * The names of every driver found.
   *
   * @return the names, sorted, unmodifiable
   */
  public static SortedSet<String> drivers() {
    return Loaded.REGISTRY.names();
  }

  /**
   * The names of every driver that a class loader sees, looked up afresh (see the class comment).
   *
   * @param loader the class loader whose providers count, with the loaders it delegates to
   * @return the names, sorted, unmodifiable
   * @throws IllegalArgumentException if {@code loader} is null
   */
  public static SortedSet<String> drivers(ClassLoader loader) {
    return DriverRegistry.load(requireLoader(loader)).names();
  }

  /**
   * Opens a driver with no parameters.
   *
   * @param driverName the driver's registry name, for example {@code "local"}
   * @param namespace the namespace every resource of the driver belongs to
   * @return a new driver; close it to remove everything of the namespace
   * @throws DriverNotFoundException if no driver has that name (the message lists the available
   *     ones)
   * @throws IllegalArgumentException if the namespace is blank or holds control characters
   * @throws OrchestraException if two drivers share the name, or the driver cannot be opened
   */
  public static Driver open(String driverName, String namespace) {
    return open(driverName, namespace, Map.of());
  }

  /**
   * Opens a driver with driver-specific parameters (for example {@code root} for the local driver,
   * {@code host} for Docker). Parameters may also come from environment variables named {@code
   * ORCHESTRA_<DRIVER>_<PARAM>} (see {@link #open(String)}); the map wins over them.
   *
   * @param driverName the driver's registry name
   * @param namespace the namespace every resource of the driver belongs to
   * @param params the driver's parameters; an unknown one is refused
   * @return a new driver; close it to remove everything of the namespace
   * @throws DriverNotFoundException if no driver has that name
   * @throws IllegalArgumentException if the namespace or a parameter is invalid
   * @throws OrchestraException if two drivers share the name, or the driver cannot be opened
   */
  public static Driver open(String driverName, String namespace, Map<String, String> params) {
    return Loaded.REGISTRY.open(driverName, namespace, params, System.getenv());
  }

  /**
   * Opens a driver described by a URI: {@code driver://namespace?param=value&...}, for example
   * {@code docker://build-42?host=tcp://10.0.0.5:2376&pull=never}. The scheme names the driver, the
   * authority is the namespace, the query holds the parameters; all percent-decoded as UTF-8
   * ({@code +} stays {@code +}).
   *
   * <p>Parameters may also come from environment variables named {@code ORCHESTRA_<DRIVER>_<PARAM>}
   * ({@code ORCHESTRA_DOCKER_HOST} gives the docker driver {@code host}; the driver name
   * upper-cased with other characters as {@code _}, the parameter in upper snake case: {@code
   * ORCHESTRA_DOCKER_REQUEST_TIMEOUT} gives {@code requestTimeout}); the URI wins over the
   * environment. The same environment variables apply to {@link #open(String, String, Map)}, whose
   * map wins. Messages never show the query, which may hold secrets.
   *
   * @param uri the driver URI
   * @return a new driver; close it to remove everything of the namespace
   * @throws IllegalArgumentException if the URI is malformed, names no namespace ({@code "local"}:
   *     there is no default namespace, since closing a driver removes everything of its namespace;
   *     the message shows both ways to name one), has a path or fragment, repeats a parameter, or a
   *     parameter is unknown to the driver (the message lists the known ones)
   * @throws DriverNotFoundException if no driver is registered under the scheme
   * @throws OrchestraException if two drivers share the name, or the driver cannot be opened
   */
  public static Driver open(String uri) {
    return open(DriverRegistry.parse(uri), Map.of());
  }

  /**
   * Opens a driver described by a URI, with more parameters, which win over the URI's and the
   * environment's (see {@link #open(String)}).
   *
   * @param uri the driver URI, {@code driver://namespace?param=value&...}
   * @param params parameters that override the URI's
   * @return a new driver; close it to remove everything of the namespace
   * @throws IllegalArgumentException if the URI is malformed or a parameter unknown
   * @throws DriverNotFoundException if no driver is registered under the scheme
   * @throws OrchestraException if two drivers share the name, or the driver cannot be opened
   */
  public static Driver open(URI uri, Map<String, String> params) {
    return Loaded.REGISTRY.open(uri, params, System.getenv());
  }

  /**
   * Opens a driver that a given class loader sees, as {@link #open(String, String, Map)} does (see
   * the class comment).
   *
   * @param driverName the driver's registry name
   * @param namespace the namespace every resource of the driver belongs to
   * @param params the driver's parameters, which win over the environment's
   * @param loader the class loader whose providers count, with the loaders it delegates to
   * @return a new driver; close it to remove everything of the namespace
   * @throws DriverNotFoundException if the loader sees no driver of that name (the message lists
   *     those it sees)
   * @throws IllegalArgumentException if the loader is null, or the namespace or a parameter invalid
   * @throws OrchestraException if two drivers share the name, or the driver cannot be opened
   */
  public static Driver open(
      String driverName, String namespace, Map<String, String> params, ClassLoader loader) {
    return DriverRegistry.load(requireLoader(loader))
        .open(driverName, namespace, params, System.getenv());
  }

  /**
   * Opens a driver described by a URI that a given class loader sees, as {@link #open(String)} does
   * (see the class comment).
   *
   * @param uri the driver URI, {@code driver://namespace?param=value&...}
   * @param loader the class loader whose providers count, with the loaders it delegates to
   * @return a new driver; close it to remove everything of the namespace
   * @throws IllegalArgumentException if the loader is null, the URI malformed or a parameter
   *     unknown
   * @throws DriverNotFoundException if the loader sees no driver of the scheme's name
   * @throws OrchestraException if two drivers share the name, or the driver cannot be opened
   */
  public static Driver open(String uri, ClassLoader loader) {
    return open(DriverRegistry.parse(uri), Map.of(), loader);
  }

  /**
   * Opens a driver described by a URI, with more parameters, that a given class loader sees, as
   * {@link #open(URI, Map)} does (see the class comment).
   *
   * @param uri the driver URI, {@code driver://namespace?param=value&...}
   * @param params parameters that override the URI's
   * @param loader the class loader whose providers count, with the loaders it delegates to
   * @return a new driver; close it to remove everything of the namespace
   * @throws IllegalArgumentException if the loader is null, the URI malformed or a parameter
   *     unknown
   * @throws DriverNotFoundException if the loader sees no driver of the scheme's name
   * @throws OrchestraException if two drivers share the name, or the driver cannot be opened
   */
  public static Driver open(URI uri, Map<String, String> params, ClassLoader loader) {
    return DriverRegistry.load(requireLoader(loader)).open(uri, params, System.getenv());
  }

  private static List<ClassLoader> requireLoader(ClassLoader loader) {
    if (loader == null) {
      throw new IllegalArgumentException("class loader must not be null");
    }
    return List.of(loader);
  }
}
