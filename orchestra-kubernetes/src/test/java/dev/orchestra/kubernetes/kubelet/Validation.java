package dev.orchestra.kubernetes.kubelet;

import java.util.Iterator;
import java.util.Map;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/**
 * The API server's checks of object names and labels, as
 * https://kubernetes.io/docs/concepts/overview/working-with-objects/names/ (DNS-1123 subdomain for
 * pods and claims) and https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/
 * (label syntax and character set) describe them.
 */
final class Validation {

  private static final Pattern DNS1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final Pattern DNS1123_SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  private static final Pattern LABEL_NAME =
      Pattern.compile("([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]");

  private Validation() {}

  /** Throws 422 unless {@code name} is a DNS-1123 subdomain. */
  static void name(String kind, String name) {
    if (name == null || name.isEmpty()) {
      throw ApiStatus.Failure.invalid(
          kind, "", "metadata.name", "Required value: name or generateName is required");
    }
    if (name.length() > 253 || !DNS1123_SUBDOMAIN.matcher(name).matches()) {
      throw ApiStatus.Failure.invalid(
          kind,
          name,
          "metadata.name",
          "Invalid value: \""
              + name
              + "\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric"
              + " characters, '-' or '.', and must start and end with an alphanumeric character"
              + " (e.g. 'example.com', regex used for validation is"
              + " '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
    }
  }

  /** Throws 422 unless every label key and value is valid. */
  static void labels(String kind, String name, JsonNode labels) {
    if (labels == null || labels.isMissingNode() || labels.isNull()) {
      return;
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = labels.properties().iterator();
        it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String key = e.getKey();
      if (!validKey(key)) {
        throw ApiStatus.Failure.invalid(
            kind,
            name,
            "metadata.labels",
            "Invalid value: \""
                + key
                + "\": name part must consist of alphanumeric characters, '-', '_' or '.', and"
                + " must start and end with an alphanumeric character");
      }
      String value = e.getValue().asString();
      if (!value.isEmpty() && (value.length() > 63 || !LABEL_NAME.matcher(value).matches())) {
        throw ApiStatus.Failure.invalid(
            kind,
            name,
            "metadata.labels",
            "Invalid value: \""
                + value
                + "\": a valid label must be an empty string or consist of alphanumeric"
                + " characters, '-', '_' or '.', and must start and end with an alphanumeric"
                + " character");
      }
    }
  }

  static boolean validKey(String key) {
    int slash = key.indexOf('/');
    String prefix = slash < 0 ? null : key.substring(0, slash);
    String name = slash < 0 ? key : key.substring(slash + 1);
    if (prefix != null
        && (prefix.isEmpty()
            || prefix.length() > 253
            || !DNS1123_SUBDOMAIN.matcher(prefix).matches())) {
      return false;
    }
    return !name.isEmpty() && name.length() <= 63 && LABEL_NAME.matcher(name).matches();
  }

  /** Whether {@code name} is a DNS-1123 label (container and volume names). */
  static boolean dnsLabel(String name) {
    return name != null && name.length() <= 63 && DNS1123_LABEL.matcher(name).matches();
  }
}
