package dev.orchestra.kubernetes.kubelet;

import tools.jackson.databind.node.ObjectNode;

/**
 * {@code Status} objects shaped as the API server writes them
 * (https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/status/), and the
 * exception that carries one to the answer.
 */
final class ApiStatus {

  private ApiStatus() {}

  static String failure(int code, String reason, String message) {
    return Json.write(failureNode(code, reason, message, null, null));
  }

  static ObjectNode failureNode(int code, String reason, String message, String kind, String name) {
    ObjectNode status = Json.object();
    status.put("kind", "Status");
    status.put("apiVersion", "v1");
    status.putObject("metadata");
    status.put("status", "Failure");
    status.put("message", message);
    status.put("reason", reason);
    if (kind != null || name != null) {
      ObjectNode details = status.putObject("details");
      if (name != null) {
        details.put("name", name);
      }
      if (kind != null) {
        details.put("kind", kind);
      }
    }
    status.put("code", code);
    return status;
  }

  /** A refusal of the API, answered as its Status object. */
  static final class Failure extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int code;
    final transient ObjectNode status;

    Failure(int code, String reason, String message, String kind, String name) {
      super(message);
      this.code = code;
      this.status = failureNode(code, reason, message, kind, name);
    }

    static Failure notFound(String resource, String name) {
      return new Failure(404, "NotFound", resource + " \"" + name + "\" not found", resource, name);
    }

    static Failure badRequest(String message) {
      return new Failure(400, "BadRequest", message, null, null);
    }

    /** 422 with the field causes, as the server's validation answers. */
    static Failure invalid(String kind, String name, String field, String message) {
      Failure failure =
          new Failure(
              422,
              "Invalid",
              kind + " \"" + name + "\" is invalid: " + field + ": " + message,
              kind,
              name);
      ObjectNode details =
          failure.status.has("details")
              ? (ObjectNode) failure.status.get("details")
              : failure.status.putObject("details");
      ObjectNode cause = details.putArray("causes").addObject();
      cause.put("reason", "FieldValueInvalid");
      cause.put("message", message);
      cause.put("field", field);
      return failure;
    }
  }
}
