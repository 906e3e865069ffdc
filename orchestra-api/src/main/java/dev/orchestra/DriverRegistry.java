package dev.orchestra;

import dev.orchestra.spi.DriverProvider;
import dev.orchestra.spi.Names;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The providers found on a class path, by name. Immutable once loaded. */
final class DriverRegistry {

  private static final Logger LOG = LoggerFactory.getLogger(DriverRegistry.class);

  /** Gives up on a class path whose service files keep failing, rather than loop. */
  private static final int MAX_FAILURES = 100;

  private final Map<String, List<DriverProvider>> byName;

  private DriverRegistry(Map<String, List<DriverProvider>> byName) {
    this.byName = byName;
  }

  /**
   * Loads every provider visible to the class loaders, in order, each provider class once. A
   * provider that fails to load is logged and skipped.
   */
  static DriverRegistry load(List<ClassLoader> loaders) {
    Map<Class<?>, Boolean> seen = new IdentityHashMap<>();
    Map<String, List<DriverProvider>> byName = new TreeMap<>();
    for (ClassLoader loader : loaders) {
      Iterator<DriverProvider> it = ServiceLoader.load(DriverProvider.class, loader).iterator();
      int failures = 0;
      while (failures < MAX_FAILURES) {
        DriverProvider provider;
        try {
          if (!it.hasNext()) {
            break;
          }
          provider = it.next();
        } catch (ServiceConfigurationError | LinkageError e) {
          failures++;
          LOG.warn(
              "skipping an Orchestra driver provider that failed to load: {}", e.toString(), e);
          continue;
        }
        if (seen.put(provider.getClass(), Boolean.TRUE) != null) {
          continue;
        }
        String name;
        try {
          name = Names.requireText("driver name", provider.name());
        } catch (RuntimeException e) {
          LOG.warn(
              "skipping Orchestra driver provider {}: invalid name: {}",
              provider.getClass().getName(),
              e.getMessage());
          continue;
        }
        List<DriverProvider> named = byName.computeIfAbsent(name, n -> new ArrayList<>(1));
        named.add(provider);
        if (named.size() > 1) {
          LOG.warn("two Orchestra driver providers are named '{}': {}", name, classNames(named));
        }
        LOG.debug("found Orchestra driver '{}' ({})", name, provider.getClass().getName());
      }
    }
    Map<String, List<DriverProvider>> frozen = new LinkedHashMap<>();
    byName.forEach((name, providers) -> frozen.put(name, List.copyOf(providers)));
    return new DriverRegistry(Collections.unmodifiableMap(frozen));
  }

  /** The class loaders {@link Orchestra} searches: the thread's context loader, then its own. */
  static List<ClassLoader> defaultLoaders() {
    List<ClassLoader> loaders = new ArrayList<>(2);
    ClassLoader context = Thread.currentThread().getContextClassLoader();
    if (context != null) {
      loaders.add(context);
    }
    ClassLoader own = DriverRegistry.class.getClassLoader();
    if (own != null && own != context) {
      loaders.add(own);
    }
    if (loaders.isEmpty()) {
      loaders.add(ClassLoader.getSystemClassLoader());
    }
    return loaders;
  }

  SortedSet<String> names() {
    return Collections.unmodifiableSortedSet(new TreeSet<>(byName.keySet()));
  }

  DriverProvider provider(String name) {
    List<DriverProvider> providers = byName.get(name);
    if (providers == null) {
      throw new DriverNotFoundException(name, byName.keySet());
    }
    if (providers.size() > 1) {
      throw new OrchestraException(
          "more than one Orchestra driver is named '"
              + name
              + "': "
              + classNames(providers)
              + "; remove all but one from the class path");
    }
    return providers.get(0);
  }

  Driver open(String name, String namespace, Map<String, String> params) {
    Names.requireText("driver name", name);
    Names.requireNamespace(namespace);
    if (params == null) {
      throw new IllegalArgumentException("params must not be null");
    }
    DriverProvider provider = provider(name);
    Map<String, String> copy = Collections.unmodifiableMap(new TreeMap<>(params));
    Driver driver;
    try {
      driver = provider.create(namespace, copy);
    } catch (IllegalArgumentException | OrchestraException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new OrchestraException(
          "driver '" + name + "' failed to open namespace '" + namespace + "': " + e, e);
    }
    if (driver == null) {
      throw new OrchestraException(
          "driver provider " + provider.getClass().getName() + " returned no driver");
    }
    LOG.debug("opened driver '{}' for namespace '{}'", name, namespace);
    return driver;
  }

  private static String classNames(List<DriverProvider> providers) {
    Set<String> names = new TreeSet<>();
    providers.forEach(p -> names.add(p.getClass().getName()));
    return String.join(" and ", names);
  }
}
