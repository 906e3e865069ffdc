package dev.orchestra.docker;

import com.github.dockerjava.api.command.InspectContainerResponse;
import java.util.Map;

/** The labels the driver puts on every container and volume it creates. */
final class Labels {

  /** The namespace the resource belongs to, exactly as the caller gave it. */
  static final String NAMESPACE = "dev.orchestra.namespace";

  /** On containers: the task id, exactly as the caller gave it. */
  static final String TASK_ID = "dev.orchestra.task-id";

  /** On volumes: the volume's name, exactly as the caller gave it. */
  static final String VOLUME = "dev.orchestra.volume";

  /**
   * On containers of a task with {@link dev.orchestra.Task#timeout()}: the longest it may run, in
   * milliseconds from its start, so that any driver instance of the namespace can enforce it.
   */
  static final String TIMEOUT_MILLIS = "dev.orchestra.timeout-millis";

  private Labels() {}

  /** The filter value that selects every resource of a namespace. */
  static String namespaceFilter(String namespace) {
    return NAMESPACE + "=" + namespace;
  }

  /** The labels of an inspected container; empty if it has none. */
  static Map<String, String> of(InspectContainerResponse found) {
    return found.getConfig() == null || found.getConfig().getLabels() == null
        ? Map.of()
        : found.getConfig().getLabels();
  }

  /**
   * Who owns a resource by its labels, for messages: {@code namespace 'x' (key=value)}, or that it
   * belongs to no namespace.
   */
  static String owner(Map<String, String> labels, String key) {
    String ownerNamespace = labels.get(NAMESPACE);
    if (ownerNamespace == null) {
      return "no Orchestra namespace (it has no " + NAMESPACE + " label)";
    }
    return "namespace '" + ownerNamespace + "' (" + key + "=" + labels.get(key) + ")";
  }
}
