package dev.orchestra.cli;

import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import dev.orchestra.spi.DriverParams;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Map;
import java.util.Optional;

/**
 * What {@code --driver} names: a registry name ({@code docker}) or a driver URI ({@code
 * docker://ns?host=tcp://...&pull=never}, see {@link Orchestra#open(String)}), whose authority is
 * the namespace and whose query holds parameters. {@code --param}s win over the URI's.
 */
record DriverTarget(String option, URI uri) {

  /**
   * Reads a {@code --driver} option.
   *
   * @throws IllegalArgumentException if it looks like a URI and is malformed
   */
  static DriverTarget parse(String option) {
    if (!option.contains("://")) {
      return new DriverTarget(option, null);
    }
    URI uri =
        DriverParams.parseDriverUri(
            "--driver URI", option, "pass --driver %s with --namespace <namespace>");
    return new DriverTarget(option, uri);
  }

  /** The driver's registry name. */
  String driverName() {
    return uri == null ? option : uri.getScheme();
  }

  /** The namespace the URI names, if the option is one. */
  Optional<String> namespace() {
    return uri == null ? Optional.empty() : Optional.of(uri.getAuthority());
  }

  /**
   * Opens the driver for a namespace: the URI's own, or another one (the TCK opens many).
   *
   * @param namespace the namespace to open
   * @param params parameters that win over the URI's
   */
  Driver open(String namespace, Map<String, String> params) {
    if (uri == null) {
      return Orchestra.open(option, namespace, params);
    }
    try {
      URI forNamespace =
          namespace.equals(uri.getAuthority())
              ? uri
              : new URI(uri.getScheme(), namespace, null, null, null);
      if (forNamespace != uri && uri.getRawQuery() != null) {
        forNamespace =
            DriverParams.parseUri("--driver URI", forNamespace + "?" + uri.getRawQuery());
      }
      return Orchestra.open(forNamespace, params);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("namespace '" + namespace + "' cannot be put in a URI", e);
    }
  }

  /** The option for messages: a URI's query may hold secrets. */
  @Override
  public String toString() {
    return DriverParams.redactUri(option);
  }
}
