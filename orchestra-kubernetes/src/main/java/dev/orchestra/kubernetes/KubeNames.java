package dev.orchestra.kubernetes;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The names, labels and annotations the driver puts on what it creates.
 *
 * <p>Pod and claim names are hashes: {@code o-} or {@code v-} and the first 200 bits of the SHA-256
 * of the orchestra namespace and the caller's name, in lowercase base32 (42 characters, an RFC 1123
 * label). Distinct (namespace, id) pairs never share a name (short of a SHA-256 collision), where
 * lowercasing and truncating would. Label values are hashes too ({@code h} and 40 base32
 * characters), since a label value is limited to 63 characters of {@code [A-Za-z0-9_.-]}; the raw
 * texts are in annotations.
 */
final class KubeNames {

  static final String PREFIX = "orchestra.dev/";

  /** Label: the hash of the orchestra namespace. */
  static final String NAMESPACE_LABEL = PREFIX + "namespace";

  /** Label: the hash of the task id (pods) or volume name (claims). */
  static final String TASK_LABEL = PREFIX + "task";

  /** Label: the hash of the volume name (claims). */
  static final String VOLUME_LABEL = PREFIX + "volume";

  /** Annotation: the orchestra namespace as given. */
  static final String NAMESPACE_ANNOTATION = PREFIX + "namespace";

  /** Annotation: the task id as given. */
  static final String TASK_ANNOTATION = PREFIX + "task-id";

  /** Annotation: the volume name as given. */
  static final String VOLUME_ANNOTATION = PREFIX + "volume-name";

  /** Annotation: set when this driver asked the task to stop (rather than to time out). */
  static final String STOPPED_ANNOTATION = PREFIX + "stopped";

  /** The name of the task's one container. */
  static final String CONTAINER = "task";

  private static final char[] BASE32 = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();

  private KubeNames() {}

  static String pod(String namespace, String taskId) {
    return "o-" + hash(pair(namespace, taskId), 40);
  }

  static String claim(String namespace, String volume) {
    return "v-" + hash(pair(namespace, volume), 40);
  }

  /** Both texts, unambiguously: the first one's length, {@code :}, then both. */
  private static String pair(String first, String second) {
    return first.length() + ":" + first + second;
  }

  static String labelValue(String text) {
    return "h" + hash(text, 40);
  }

  /**
   * A server address as it may be shown: without user information ({@code user:password@}) or
   * query, which could hold credentials.
   */
  static String shown(Object url) {
    String text = String.valueOf(url);
    String shown = text.replaceFirst("^([A-Za-z][A-Za-z0-9+.-]*://)[^/@]*@", "$1");
    int q = shown.indexOf('?');
    return q < 0 ? shown : shown.substring(0, q) + "?...";
  }

  static String hash(String text, int chars) {
    byte[] digest;
    try {
      digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
    StringBuilder s = new StringBuilder(chars);
    int buffer = 0;
    int bits = 0;
    for (byte b : digest) {
      buffer = (buffer << 8) | (b & 0xff);
      bits += 8;
      while (bits >= 5 && s.length() < chars) {
        s.append(BASE32[(buffer >> (bits - 5)) & 31]);
        bits -= 5;
      }
    }
    return s.toString();
  }
}
