package dev.orchestra.kubernetes.kubelet;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import tools.jackson.databind.JsonNode;

/**
 * Label selectors (equality {@code =}, {@code ==}, {@code !=}; set {@code in}, {@code notin};
 * exists {@code key} and {@code !key}) and the field selectors {@code metadata.name} and {@code
 * metadata.namespace}, as https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/
 * and .../field-selectors/ describe them.
 */
final class Selectors {

  private Selectors() {}

  static Predicate<JsonNode> parse(String labelSelector, String fieldSelector) {
    Predicate<JsonNode> all = o -> true;
    if (labelSelector != null && !labelSelector.isBlank()) {
      for (String requirement : split(labelSelector)) {
        all = all.and(labelRequirement(requirement.trim()));
      }
    }
    if (fieldSelector != null && !fieldSelector.isBlank()) {
      for (String requirement : fieldSelector.split(",")) {
        all = all.and(fieldRequirement(requirement.trim()));
      }
    }
    return all;
  }

  /** Splits at commas outside parentheses. */
  private static List<String> split(String selector) {
    List<String> parts = new ArrayList<>();
    int depth = 0;
    int start = 0;
    for (int i = 0; i < selector.length(); i++) {
      char c = selector.charAt(i);
      if (c == '(') {
        depth++;
      } else if (c == ')') {
        depth--;
      } else if (c == ',' && depth == 0) {
        parts.add(selector.substring(start, i));
        start = i + 1;
      }
    }
    parts.add(selector.substring(start));
    return parts;
  }

  private static Predicate<JsonNode> labelRequirement(String r) {
    String lower = r.replaceAll("\\s+", " ");
    int in = lower.indexOf(" in ");
    int notin = lower.indexOf(" notin ");
    if (notin > 0) {
      String key = lower.substring(0, notin).trim();
      Set<String> values = values(lower.substring(notin + 7));
      return o -> !values.contains(label(o, key));
    }
    if (in > 0) {
      String key = lower.substring(0, in).trim();
      Set<String> values = values(lower.substring(in + 4));
      return o -> values.contains(label(o, key));
    }
    int ne = r.indexOf("!=");
    if (ne > 0) {
      String key = r.substring(0, ne).trim();
      String value = r.substring(ne + 2).trim();
      return o -> !value.equals(label(o, key));
    }
    int eq = r.indexOf('=');
    if (eq > 0) {
      String key = r.substring(0, eq).trim();
      String value = r.substring(r.startsWith("==", eq) ? eq + 2 : eq + 1).trim();
      checkKey(key);
      return o -> value.equals(label(o, key));
    }
    if (r.startsWith("!")) {
      String key = r.substring(1).trim();
      checkKey(key);
      return o -> label(o, key) == null;
    }
    checkKey(r);
    return o -> label(o, r) != null;
  }

  private static void checkKey(String key) {
    if (!Validation.validKey(key)) {
      throw ApiStatus.Failure.badRequest(
          "unable to parse requirement: invalid label key \"" + key + "\"");
    }
  }

  private static Set<String> values(String list) {
    String inner = list.trim();
    if (!inner.startsWith("(") || !inner.endsWith(")")) {
      throw ApiStatus.Failure.badRequest(
          "unable to parse requirement: found '" + inner + "', expected: '('");
    }
    return Arrays.stream(inner.substring(1, inner.length() - 1).split(","))
        .map(String::trim)
        .collect(Collectors.toSet());
  }

  private static String label(JsonNode o, String key) {
    JsonNode value = o.path("metadata").path("labels").get(key);
    return value == null || value.isNull() ? null : value.asString();
  }

  private static Predicate<JsonNode> fieldRequirement(String r) {
    boolean negate = r.contains("!=");
    String[] kv = r.split(negate ? "!=" : "==?", 2);
    if (kv.length != 2) {
      throw ApiStatus.Failure.badRequest("invalid field selector: " + r);
    }
    String field = kv[0].trim();
    String value = kv[1].trim();
    String pointer =
        switch (field) {
          case "metadata.name" -> "/metadata/name";
          case "metadata.namespace" -> "/metadata/namespace";
          case "status.phase" -> "/status/phase";
          case "spec.nodeName" -> "/spec/nodeName";
          default -> throw ApiStatus.Failure.badRequest("field label not supported: " + field);
        };
    return o -> {
      String actual = Json.text(o, pointer);
      boolean equal = value.equals(actual == null ? "" : actual);
      return negate != equal;
    };
  }
}
