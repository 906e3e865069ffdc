package dev.orchestra.kubernetes.kubelet;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The emulated etcd: every object by resource, namespace and name, one resource version counter for
 * all of them, and the recent history of changes that watches replay from a resource version
 * (https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes).
 * Every object handed out is a copy.
 */
final class Store {

  /** How many changes a watch can replay; older resource versions answer 410 Gone. */
  private static final int HISTORY = 10_000;

  record Event(
      long resourceVersion, String resource, String namespace, String type, ObjectNode object) {}

  /** A watch's queue of events; {@link #closed} once the store stopped. */
  static final class Watch {
    final String resource;
    final String namespace;
    final Predicate<JsonNode> filter;
    final BlockingQueue<Event> events = new LinkedBlockingQueue<>();

    Watch(String resource, String namespace, Predicate<JsonNode> filter) {
      this.resource = resource;
      this.namespace = namespace;
      this.filter = filter;
    }

    boolean wants(Event e) {
      return e.resource.equals(resource)
          && (namespace == null || namespace.equals(e.namespace))
          && filter.test(e.object);
    }
  }

  private final Map<String, ObjectNode> objects = new TreeMap<>();
  private final Deque<Event> history = new ArrayDeque<>();
  private final List<Watch> watches = new CopyOnWriteArrayList<>();
  private long resourceVersion = 1000;

  private static String key(String resource, String namespace, String name) {
    return resource + "/" + namespace + "/" + name;
  }

  static String now() {
    return Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
  }

  synchronized long resourceVersion() {
    return resourceVersion;
  }

  /** Stores a new object, giving it its uid, creation time, resource version and generation. */
  synchronized ObjectNode create(
      String resource, String kind, String namespace, ObjectNode object) {
    ObjectNode metadata = (ObjectNode) object.path("metadata");
    String name = metadata.path("name").asString();
    String key = key(resource, namespace, name);
    if (objects.containsKey(key)) {
      throw new ApiStatus.Failure(
          409, "AlreadyExists", resource + " \"" + name + "\" already exists", resource, name);
    }
    metadata.put("namespace", namespace);
    metadata.put("uid", UUID.randomUUID().toString());
    metadata.put("creationTimestamp", now());
    metadata.put("generation", 1);
    metadata.remove("deletionTimestamp");
    metadata.remove("deletionGracePeriodSeconds");
    metadata.put("resourceVersion", Long.toString(++resourceVersion));
    object.put("kind", kind);
    object.put("apiVersion", "v1");
    objects.put(key, object.deepCopy());
    publish(new Event(resourceVersion, resource, namespace, "ADDED", object.deepCopy()));
    return object;
  }

  synchronized ObjectNode get(String resource, String namespace, String name) {
    ObjectNode object = objects.get(key(resource, namespace, name));
    if (object == null) {
      throw ApiStatus.Failure.notFound(resource, name);
    }
    return object.deepCopy();
  }

  synchronized ObjectNode find(String resource, String namespace, String name) {
    ObjectNode object = objects.get(key(resource, namespace, name));
    return object == null ? null : object.deepCopy();
  }

  synchronized List<ObjectNode> list(
      String resource, String namespace, Predicate<JsonNode> filter) {
    List<ObjectNode> items = new ArrayList<>();
    String prefix = namespace == null ? resource + "/" : key(resource, namespace, "");
    for (Map.Entry<String, ObjectNode> e : objects.entrySet()) {
      if (e.getKey().startsWith(prefix) && filter.test(e.getValue())) {
        items.add(e.getValue().deepCopy());
      }
    }
    return items;
  }

  /**
   * Replaces an object by what {@code change} makes of a copy of it (which may throw to refuse),
   * with a new resource version, unless nothing changed. Returns the stored object.
   */
  synchronized ObjectNode update(
      String resource, String namespace, String name, UnaryOperator<ObjectNode> change) {
    String key = key(resource, namespace, name);
    ObjectNode old = objects.get(key);
    if (old == null) {
      throw ApiStatus.Failure.notFound(resource, name);
    }
    ObjectNode updated = change.apply(old.deepCopy());
    ((ObjectNode) updated.path("metadata"))
        .put("resourceVersion", old.path("metadata").path("resourceVersion").asString());
    if (updated.equals(old)) {
      return old.deepCopy();
    }
    if (!updated.path("spec").equals(old.path("spec"))) {
      ((ObjectNode) updated.path("metadata"))
          .put("generation", old.path("metadata").path("generation").asLong() + 1);
    }
    ((ObjectNode) updated.path("metadata"))
        .put("resourceVersion", Long.toString(++resourceVersion));
    objects.put(key, updated.deepCopy());
    publish(new Event(resourceVersion, resource, namespace, "MODIFIED", updated.deepCopy()));
    return updated;
  }

  /** Removes an object for good (a DELETED event); {@code null} if it was not there. */
  synchronized ObjectNode remove(String resource, String namespace, String name) {
    ObjectNode old = objects.remove(key(resource, namespace, name));
    if (old == null) {
      return null;
    }
    ((ObjectNode) old.path("metadata")).put("resourceVersion", Long.toString(++resourceVersion));
    publish(new Event(resourceVersion, resource, namespace, "DELETED", old.deepCopy()));
    return old;
  }

  private void publish(Event event) {
    history.addLast(event);
    while (history.size() > HISTORY) {
      history.removeFirst();
    }
    for (Watch watch : watches) {
      if (watch.wants(event)) {
        watch.events.add(event);
      }
    }
  }

  /**
   * Starts a watch: from {@code fromVersion} (exclusive) by replaying the history, or, when it is
   * {@code null} or "0", with a synthetic ADDED event for every current object.
   *
   * @throws ApiStatus.Failure 410 Expired when the history no longer reaches back that far
   */
  synchronized Watch watch(
      String resource, String namespace, Predicate<JsonNode> filter, String fromVersion) {
    Watch watch = new Watch(resource, namespace, filter);
    if (fromVersion == null || fromVersion.isEmpty() || fromVersion.equals("0")) {
      for (ObjectNode object : list(resource, namespace, filter)) {
        watch.events.add(new Event(resourceVersion, resource, namespace, "ADDED", object));
      }
    } else {
      long from;
      try {
        from = Long.parseLong(fromVersion);
      } catch (NumberFormatException e) {
        throw ApiStatus.Failure.badRequest("invalid resource version \"" + fromVersion + "\"");
      }
      if (!history.isEmpty() && history.peekFirst().resourceVersion() > from + 1) {
        throw new ApiStatus.Failure(
            410,
            "Expired",
            "too old resource version: "
                + from
                + " ("
                + history.peekFirst().resourceVersion()
                + ")",
            null,
            null);
      }
      for (Event event : history) {
        if (event.resourceVersion() > from && watch.wants(event)) {
          watch.events.add(event);
        }
      }
    }
    watches.add(watch);
    return watch;
  }

  void unwatch(Watch watch) {
    watches.remove(watch);
  }
}
