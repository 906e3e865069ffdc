package dev.orchestra;

import dev.orchestra.spi.DriverParams;
import dev.orchestra.spi.DriverProvider;
import dev.orchestra.spi.Names;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
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

  /** How a caller opens a driver by name, for the message about a URI without a namespace. */
  private static final String BY_NAME = "call Orchestra.open(\"%s\", \"<namespace>\")";

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

  /**
   * Opens a driver. Parameters come from the environment ({@code ORCHESTRA_<DRIVER>_<PARAM>}),
   * overridden by {@code params}.
   */
  Driver open(
      String name, String namespace, Map<String, String> params, Map<String, String> environment) {
    Names.requireText("driver name", name);
    Names.requireNamespace(namespace);
    if (params == null) {
      throw new IllegalArgumentException("params must not be null");
    }
    DriverProvider provider = provider(name);
    Map<String, String> merged = new TreeMap<>(environmentParams(name, environment));
    merged.putAll(params);
    Map<String, String> copy = Collections.unmodifiableMap(merged);
    String what = "driver '" + name + "' failed to open namespace '" + namespace + "'";
    Driver driver;
    try {
      driver = provider.create(namespace, copy);
    } catch (IllegalArgumentException | OrchestraException e) {
      throw SecretScrubber.of(copy).scrub(what, e);
    } catch (RuntimeException e) {
      RuntimeException scrubbed = SecretScrubber.of(copy).scrub(what, e);
      throw scrubbed != e ? scrubbed : new OrchestraException(what + ": " + e, e);
    }
    if (driver == null) {
      throw new OrchestraException(
          "driver provider " + provider.getClass().getName() + " returned no driver");
    }
    if (LOG.isDebugEnabled()) {
      LOG.debug(
          "opened driver '{}' for namespace '{}' with {}",
          name,
          namespace,
          DriverParams.redact(copy));
    }
    return driver;
  }

  /** Opens a driver for {@code driver://namespace?param=value&...}; {@code params} win. */
  Driver open(URI uri, Map<String, String> params, Map<String, String> environment) {
    if (uri == null) {
      throw new IllegalArgumentException("driver URI must not be null");
    }
    if (params == null) {
      throw new IllegalArgumentException("params must not be null");
    }
    DriverParams.requireDriverUri("driver URI", uri, BY_NAME);
    Map<String, String> merged = new TreeMap<>(queryParams(uri));
    merged.putAll(params);
    return open(
        uri.getScheme().toLowerCase(Locale.ROOT),
        decode(uri.getRawAuthority()),
        merged,
        environment);
  }

  /** Parses a driver URI; no exception shows its query (see {@link DriverParams#parseUri}). */
  static URI parse(String uri) {
    if (uri == null) {
      throw new IllegalArgumentException("driver URI must not be null");
    }
    return DriverParams.parseDriverUri("driver URI", uri, BY_NAME);
  }

  /**
   * {@code ORCHESTRA_DOCKER_HOST=x} gives the docker driver {@code host=x}, and {@code
   * ORCHESTRA_DOCKER_REQUEST_TIMEOUT=x} gives it {@code requestTimeout=x}: the part after the
   * prefix is read as upper snake case and becomes lower camel case.
   */
  static Map<String, String> environmentParams(String driver, Map<String, String> environment) {
    String prefix =
        "ORCHESTRA_" + driver.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_") + "_";
    Map<String, String> params = new TreeMap<>();
    environment.forEach(
        (key, value) -> {
          if (key.startsWith(prefix) && key.length() > prefix.length()) {
            params.put(lowerCamel(key.substring(prefix.length())), value);
          }
        });
    return params;
  }

  /** {@code REQUEST_TIMEOUT} reads {@code requestTimeout}, {@code HOST} reads {@code host}. */
  private static String lowerCamel(String upperSnake) {
    StringBuilder name = new StringBuilder(upperSnake.length());
    boolean upper = false;
    for (char c : upperSnake.toLowerCase(Locale.ROOT).toCharArray()) {
      if (c == '_' && name.length() > 0) {
        upper = true;
      } else {
        name.append(upper ? Character.toUpperCase(c) : c);
        upper = false;
      }
    }
    return name.toString();
  }

  private static Map<String, String> queryParams(URI uri) {
    Map<String, String> params = new TreeMap<>();
    String query = uri.getRawQuery();
    if (query == null || query.isEmpty()) {
      return params;
    }
    for (String pair : query.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String key = decode(eq < 0 ? pair : pair.substring(0, eq));
      String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
      if (key.isEmpty()) {
        throw new IllegalArgumentException(
            "driver URI has a parameter without a name: '"
                + DriverParams.redactUri(String.valueOf(uri))
                + "'");
      }
      if (params.put(key, value) != null) {
        throw new IllegalArgumentException(
            "driver URI gives parameter '"
                + key
                + "' twice: '"
                + DriverParams.redactUri(String.valueOf(uri))
                + "'");
      }
    }
    return params;
  }

  /**
   * Percent-decodes a URI component as UTF-8; unlike form decoding, '+' stays '+'. {@link URI} has
   * already checked that every escape is complete and hexadecimal; should one not be, the exception
   * does not show the component.
   */
  private static String decode(String raw) {
    if (raw.indexOf('%') < 0) {
      return raw;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
    int i = 0;
    while (i < raw.length()) {
      int escape = raw.indexOf('%', i);
      int end = escape < 0 ? raw.length() : escape;
      bytes.writeBytes(raw.substring(i, end).getBytes(StandardCharsets.UTF_8));
      if (escape >= 0) {
        if (escape + 3 > raw.length()
            || !HexFormat.isHexDigit(raw.charAt(escape + 1))
            || !HexFormat.isHexDigit(raw.charAt(escape + 2))) {
          // Not from java.net.URI, which checks escapes; the value may be a secret: not shown.
          throw new IllegalArgumentException(
              "driver URI holds an incomplete percent-escape at index "
                  + escape
                  + " of a component");
        }
        bytes.write(HexFormat.fromHexDigits(raw, escape + 1, escape + 3));
        end = escape + 3;
      }
      i = end;
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }

  private static String classNames(List<DriverProvider> providers) {
    Set<String> names = new TreeSet<>();
    providers.forEach(p -> names.add(p.getClass().getName()));
    return String.join(" and ", names);
  }
}
