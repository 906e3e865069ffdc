package dev.orchestra.kubernetes.kubelet;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** The fixture's JSON: objects are kept as trees, as the API server keeps them in etcd. */
final class Json {

  static final ObjectMapper MAPPER = JsonMapper.builder().build();

  private Json() {}

  static ObjectNode object() {
    return MAPPER.createObjectNode();
  }

  static JsonNode read(byte[] bytes) {
    return MAPPER.readTree(bytes);
  }

  static JsonNode read(String text) {
    return MAPPER.readTree(text);
  }

  static String write(JsonNode node) {
    return MAPPER.writeValueAsString(node);
  }

  static byte[] bytes(JsonNode node) {
    return MAPPER.writeValueAsBytes(node);
  }

  /** The text at {@code path} (a JSON pointer), or {@code null}. */
  static String text(JsonNode node, String pointer) {
    JsonNode value = node.at(pointer);
    return value.isMissingNode() || value.isNull() ? null : value.asString();
  }
}
