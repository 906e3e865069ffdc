package dev.orchestra.docker;

import dev.orchestra.spi.Names;

/**
 * Maps a namespace and a caller's name (task id or volume name) to one Docker object name, {@code
 * {namespace}-{name}}, made safe by {@link Names#safe(String)}.
 *
 * <p>The mapping never sends two (namespace, name) pairs to one Docker name. Joining with {@code -}
 * is only unambiguous when the namespace holds no {@code -} itself (then the first {@code -} is the
 * join); otherwise the pair is joined with a control character, which neither part can contain, so
 * that {@link Names#safe(String)} hashes it: {@code ci-42} and {@code build} become {@code
 * ci-42-build_<hash>}. {@link Names#safe(String)} is injective, hence so is the whole.
 */
final class DockerNames {

  /** Joins a namespace that contains {@code -}; never part of a namespace or a name. */
  private static final char UNAMBIGUOUS_JOIN = '\u001f';

  private DockerNames() {}

  /**
   * The Docker name of a namespace's object.
   *
   * @param namespace the namespace, as checked by {@link Names#requireNamespace(String)}
   * @param name a task id or volume name, free of control characters
   * @return a valid Docker container or volume name
   */
  static String of(String namespace, String name) {
    char join = namespace.indexOf('-') < 0 ? '-' : UNAMBIGUOUS_JOIN;
    return Names.safe(namespace + join + name);
  }
}
