package dev.orchestra.cli;

import java.security.SecureRandom;
import java.util.HexFormat;

/** Names the throwaway namespaces and task ids the command uses when none is given. */
final class Namespaces {

  private static final SecureRandom RANDOM = new SecureRandom();

  private Namespaces() {}

  /**
   * A name that no earlier run used: the prefix, {@code -}, and eight random hex digits.
   *
   * @param prefix what the name is for, for example {@code orchestra-cli}
   * @return the fresh name
   */
  static String fresh(String prefix) {
    byte[] bytes = new byte[4];
    RANDOM.nextBytes(bytes);
    return prefix + "-" + HexFormat.of().formatHex(bytes);
  }
}
