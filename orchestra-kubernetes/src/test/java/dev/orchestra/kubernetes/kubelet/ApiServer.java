package dev.orchestra.kubernetes.kubelet;

import io.fabric8.zjsonpatch.JsonPatch;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The emulated API server: plain HTTP/1.1 on 127.0.0.1, a thread per connection, the core/v1 REST
 * API (https://kubernetes.io/docs/reference/using-api/api-concepts/) for namespaced {@code pods}
 * and {@code persistentvolumeclaims}, with the pods' {@code log}, {@code exec} and {@code attach}
 * subresources, {@code /version} and the discovery documents.
 */
final class ApiServer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);

  static final String VERSION = "v1.33.0";

  /**
   * How often a watch that allows bookmarks gets one
   * (https://kubernetes.io/docs/reference/using-api/api-concepts/#watch-bookmarks).
   */
  private static final Duration BOOKMARK_EVERY = Duration.ofSeconds(5);

  private final Store store;
  private final Kubelet kubelet;
  private final Streams streams;
  private final ServerSocket server;
  private final ExecutorService threads;
  private final Set<Socket> connections = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  ApiServer(Store store, Kubelet kubelet, boolean mergingStreams) throws IOException {
    this.store = store;
    this.kubelet = kubelet;
    this.streams = new Streams(kubelet, mergingStreams);
    this.server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
    AtomicInteger count = new AtomicInteger();
    this.threads =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "emulated-apiserver-" + count.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    threads.execute(this::accept);
    threads.execute(this::reapClaims);
  }

  int port() {
    return server.getLocalPort();
  }

  private void accept() {
    while (!closed) {
      try {
        Socket socket = server.accept();
        socket.setTcpNoDelay(true);
        connections.add(socket);
        threads.execute(() -> serve(socket));
      } catch (IOException e) {
        if (!closed) {
          LOG.warn("the emulated API server stopped accepting", e);
        }
        return;
      }
    }
  }

  private void serve(Socket socket) {
    try (socket) {
      InputStream in = new java.io.BufferedInputStream(socket.getInputStream(), 65536);
      OutputStream out = new java.io.BufferedOutputStream(socket.getOutputStream(), 65536);
      while (!closed) {
        HttpExchange exchange = HttpExchange.read(socket, in, out);
        if (exchange == null) {
          return;
        }
        LOG.debug("{} {} {}", exchange.method, exchange.path, exchange.query);
        boolean keep = handle(exchange);
        if (!keep) {
          return;
        }
      }
    } catch (SocketException e) {
      LOG.debug("a connection ended: {}", e.toString());
    } catch (IOException | RuntimeException e) {
      if (!closed) {
        LOG.debug("a connection failed", e);
      }
    } finally {
      connections.remove(socket);
    }
  }

  /** Answers one request; returns whether the connection can serve another. */
  private boolean handle(HttpExchange exchange) throws IOException {
    try {
      return route(exchange);
    } catch (ApiStatus.Failure e) {
      exchange.respondJson(e.code, Json.write(e.status));
      return true;
    } catch (JacksonException | IllegalArgumentException | java.time.DateTimeException e) {
      exchange.respondJson(400, ApiStatus.failure(400, "BadRequest", e.getMessage()));
      return true;
    }
  }

  private boolean route(HttpExchange ex) throws IOException {
    String[] p = ex.path.replaceAll("/+$", "").split("/");
    // p[0] is ""
    if (ex.path.equals("/version") || ex.path.equals("/version/")) {
      ObjectNode v = Json.object();
      v.put("major", "1");
      v.put("minor", "33");
      v.put("gitVersion", VERSION);
      v.put("gitCommit", "emulated");
      v.put("gitTreeState", "clean");
      v.put("buildDate", "2025-04-23T00:00:00Z");
      v.put("goVersion", "go1.24.2");
      v.put("compiler", "gc");
      v.put("platform", "linux/amd64");
      ex.respondJson(200, Json.write(v));
      return true;
    }
    if (ex.path.equals("/api")) {
      ObjectNode versions = Json.object();
      versions.put("kind", "APIVersions");
      versions.putArray("versions").add("v1");
      ObjectNode cidr = versions.putArray("serverAddressByClientCIDRs").addObject();
      cidr.put("clientCIDR", "0.0.0.0/0");
      cidr.put("serverAddress", "127.0.0.1:" + port());
      ex.respondJson(200, Json.write(versions));
      return true;
    }
    if (ex.path.equals("/apis")) {
      ObjectNode groups = Json.object();
      groups.put("kind", "APIGroupList");
      groups.put("apiVersion", "v1");
      groups.putArray("groups");
      ex.respondJson(200, Json.write(groups));
      return true;
    }
    if (ex.path.equals("/api/v1")) {
      ex.respondJson(200, Json.write(resourceList()));
      return true;
    }
    if (p.length >= 6 && p[1].equals("api") && p[2].equals("v1") && p[3].equals("namespaces")) {
      String namespace = p[4];
      String resource = p[5];
      if (!resource.equals("pods") && !resource.equals("persistentvolumeclaims")) {
        throw new ApiStatus.Failure(
            404, "NotFound", "the server could not find the requested resource", null, null);
      }
      String name = p.length > 6 ? p[6] : null;
      String sub = p.length > 7 ? p[7] : null;
      if (sub != null) {
        if (!resource.equals("pods")) {
          throw new ApiStatus.Failure(
              404, "NotFound", "the server could not find the requested resource", null, null);
        }
        ObjectNode pod = store.get("pods", namespace, name);
        switch (sub) {
          case "log" -> {
            streams.log(ex, pod);
            return true;
          }
          case "exec" -> {
            streams.exec(ex, pod);
            return false;
          }
          case "attach" -> {
            streams.attach(ex, pod);
            return false;
          }
          case "status" -> {
            if (ex.method.equals("GET")) {
              ex.respondJson(200, Json.write(pod));
              return true;
            }
            throw new ApiStatus.Failure(
                405,
                "MethodNotAllowed",
                "the status of a pod is written by the emulated kubelet only",
                "pods",
                name);
          }
          default ->
              throw new ApiStatus.Failure(
                  404, "NotFound", "the server could not find the requested resource", null, null);
        }
      }
      String kind = resource.equals("pods") ? "Pod" : "PersistentVolumeClaim";
      if (name == null) {
        switch (ex.method) {
          case "GET" -> {
            if (ex.flag("watch")) {
              watch(ex, resource, namespace);
              return !"websocket".equalsIgnoreCase(ex.header("upgrade"));
            }
            list(ex, resource, kind, namespace);
          }
          case "POST" -> create(ex, resource, kind, namespace);
          case "DELETE" -> deleteCollection(ex, resource, kind, namespace);
          default ->
              throw new ApiStatus.Failure(
                  405, "MethodNotAllowed", "method " + ex.method + " not allowed", null, null);
        }
        return true;
      }
      switch (ex.method) {
        case "GET" -> ex.respondJson(200, Json.write(store.get(resource, namespace, name)));
        case "DELETE" -> ex.respondJson(200, Json.write(delete(ex, resource, namespace, name)));
        case "PATCH" -> ex.respondJson(200, Json.write(patch(ex, resource, kind, namespace, name)));
        case "PUT" -> ex.respondJson(200, Json.write(replace(ex, resource, kind, namespace, name)));
        default ->
            throw new ApiStatus.Failure(
                405, "MethodNotAllowed", "method " + ex.method + " not allowed", null, null);
      }
      return true;
    }
    if (p.length == 4 && p[1].equals("api") && p[2].equals("v1") && p[3].equals("namespaces")) {
      ObjectNode list = Json.object();
      list.put("kind", "NamespaceList");
      list.put("apiVersion", "v1");
      list.putObject("metadata").put("resourceVersion", Long.toString(store.resourceVersion()));
      list.putArray("items")
          .addObject()
          .put("kind", "Namespace")
          .put("apiVersion", "v1")
          .putObject("metadata")
          .put("name", "default");
      ex.respondJson(200, Json.write(list));
      return true;
    }
    if (p.length == 5 && p[1].equals("api") && p[2].equals("v1") && p[3].equals("namespaces")) {
      ObjectNode ns = Json.object();
      ns.put("kind", "Namespace");
      ns.put("apiVersion", "v1");
      ns.putObject("metadata").put("name", p[4]);
      ns.putObject("status").put("phase", "Active");
      ex.respondJson(200, Json.write(ns));
      return true;
    }
    throw new ApiStatus.Failure(
        404, "NotFound", "the server could not find the requested resource", null, null);
  }

  private static ObjectNode resourceList() {
    ObjectNode list = Json.object();
    list.put("kind", "APIResourceList");
    list.put("groupVersion", "v1");
    ArrayNode resources = list.putArray("resources");
    String[][] rows = {
      {"pods", "Pod", "create,delete,deletecollection,get,list,patch,update,watch"},
      {"pods/attach", "PodAttachOptions", "create,get"},
      {"pods/exec", "PodExecOptions", "create,get"},
      {"pods/log", "Pod", "get"},
      {"pods/status", "Pod", "get"},
      {
        "persistentvolumeclaims",
        "PersistentVolumeClaim",
        "create,delete,deletecollection,get,list,patch,update,watch"
      },
    };
    for (String[] row : rows) {
      ObjectNode r = resources.addObject();
      r.put("name", row[0]);
      r.put("singularName", row[0].contains("/") ? "" : row[1].toLowerCase(java.util.Locale.ROOT));
      r.put("namespaced", true);
      r.put("kind", row[1]);
      ArrayNode verbs = r.putArray("verbs");
      for (String verb : row[2].split(",")) {
        verbs.add(verb);
      }
    }
    return list;
  }

  private Predicate<JsonNode> selector(HttpExchange ex) {
    return Selectors.parse(ex.param("labelSelector"), ex.param("fieldSelector"));
  }

  private void list(HttpExchange ex, String resource, String kind, String namespace)
      throws IOException {
    Predicate<JsonNode> filter = selector(ex);
    ObjectNode list = Json.object();
    list.put("kind", kind + "List");
    list.put("apiVersion", "v1");
    List<ObjectNode> items;
    long version;
    synchronized (store) {
      items = store.list(resource, namespace, filter);
      version = store.resourceVersion();
    }
    list.putObject("metadata").put("resourceVersion", Long.toString(version));
    ArrayNode array = list.putArray("items");
    items.forEach(array::add);
    ex.respondJson(200, Json.write(list));
  }

  /**
   * A watch: chunked JSON lines, one event each, until {@code timeoutSeconds} or the client goes.
   */
  private void watch(HttpExchange ex, String resource, String namespace) throws IOException {
    Store.Watch watch = store.watch(resource, namespace, selector(ex), ex.param("resourceVersion"));
    try {
      long timeout =
          ex.param("timeoutSeconds") == null
              ? TimeUnit.MINUTES.toNanos(30)
              : TimeUnit.SECONDS.toNanos(Long.parseLong(ex.param("timeoutSeconds")));
      long end = System.nanoTime() + timeout;
      boolean bookmarks = ex.flag("allowWatchBookmarks");
      long nextBookmark = System.nanoTime() + BOOKMARK_EVERY.toNanos();
      String kind = resource.equals("pods") ? "Pod" : "PersistentVolumeClaim";
      WebSocketChannel ws = null;
      java.util.concurrent.atomic.AtomicBoolean gone =
          new java.util.concurrent.atomic.AtomicBoolean();
      if ("websocket".equalsIgnoreCase(ex.header("upgrade"))) {
        // a watch over WebSocket, as the API server also serves one: one text message per event
        ws = WebSocketChannel.accept(ex, false);
        WebSocketChannel channel = ws;
        Thread reader =
            new Thread(
                () -> {
                  try {
                    while (channel.receive() != null) {
                      // a watch's client sends nothing but control frames
                    }
                  } catch (IOException e) {
                    LOG.debug("a WebSocket watch's input ended: {}", e.toString());
                  }
                  gone.set(true);
                },
                "emulated-apiserver-watch-reader");
        reader.setDaemon(true);
        reader.start();
      } else {
        ex.startChunked(200, "application/json");
      }
      while (!closed && !gone.get()) {
        long now = System.nanoTime();
        if (now >= end) {
          break;
        }
        Store.Event event;
        try {
          event =
              watch.events.poll(
                  Math.min(end - now, TimeUnit.SECONDS.toNanos(1)), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
        ObjectNode line = Json.object();
        if (event != null) {
          line.put("type", event.type());
          line.set("object", event.object());
        } else if (bookmarks && System.nanoTime() >= nextBookmark) {
          nextBookmark = System.nanoTime() + BOOKMARK_EVERY.toNanos();
          line.put("type", "BOOKMARK");
          ObjectNode object = line.putObject("object");
          object.put("kind", kind);
          object.put("apiVersion", "v1");
          ObjectNode meta = object.putObject("metadata");
          meta.put("resourceVersion", Long.toString(store.resourceVersion()));
        } else {
          continue;
        }
        byte[] bytes = (Json.write(line) + "\n").getBytes(StandardCharsets.UTF_8);
        if (ws != null) {
          ws.send(0x1, bytes);
        } else {
          ex.chunk(bytes, 0, bytes.length);
        }
      }
      if (ws != null) {
        ws.sendClose(1000);
      } else {
        ex.endChunked();
      }
    } finally {
      store.unwatch(watch);
    }
  }

  private JsonNode body(HttpExchange ex) {
    if (ex.body.length == 0) {
      throw ApiStatus.Failure.badRequest("the request has no body");
    }
    return Json.read(ex.body);
  }

  private void create(HttpExchange ex, String resource, String kind, String namespace)
      throws IOException {
    JsonNode body = body(ex);
    if (!body.isObject()) {
      throw ApiStatus.Failure.badRequest("the body is not an object");
    }
    ObjectNode object = (ObjectNode) body;
    ObjectNode metadata =
        object.path("metadata").isObject()
            ? (ObjectNode) object.get("metadata")
            : object.putObject("metadata");
    if (!metadata.hasNonNull("name") && metadata.hasNonNull("generateName")) {
      metadata.put(
          "name",
          metadata.get("generateName").asString() + Long.toString(System.nanoTime() % 100000, 36));
    }
    String name = metadata.path("name").asString(null);
    Validation.name(kind, name);
    String bodyNamespace = metadata.path("namespace").asString(null);
    if (bodyNamespace != null && !bodyNamespace.equals(namespace)) {
      throw new ApiStatus.Failure(
          400,
          "BadRequest",
          "the namespace of the provided object does not match the namespace sent on the request",
          null,
          null);
    }
    Validation.labels(kind, name, metadata.path("labels"));
    object.remove("status");
    ObjectNode created;
    if (resource.equals("pods")) {
      validatePod(name, object);
      applyPodDefaults(object);
      object.putObject("status").put("phase", "Pending").put("qosClass", "BestEffort");
      created = store.create(resource, kind, namespace, object);
      kubelet.podCreated(created.deepCopy());
    } else {
      created = createClaim(namespace, name, object);
    }
    ex.respondJson(201, Json.write(created));
  }

  private static void validatePod(String name, ObjectNode pod) {
    JsonNode containers = pod.path("spec").path("containers");
    if (!containers.isArray() || containers.isEmpty()) {
      throw ApiStatus.Failure.invalid("Pod", name, "spec.containers", "Required value");
    }
    for (int i = 0; i < containers.size(); i++) {
      JsonNode c = containers.get(i);
      if (!Validation.dnsLabel(c.path("name").asString(null))) {
        throw ApiStatus.Failure.invalid(
            "Pod",
            name,
            "spec.containers[" + i + "].name",
            "Invalid value: \""
                + c.path("name").asString("")
                + "\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'");
      }
      if (c.path("image").asString("").isBlank()) {
        throw ApiStatus.Failure.invalid(
            "Pod", name, "spec.containers[" + i + "].image", "Required value");
      }
    }
    JsonNode volumes = pod.path("spec").path("volumes");
    for (int i = 0; i < volumes.size(); i++) {
      JsonNode volume = volumes.get(i);
      if (!volume.has("emptyDir") && !volume.has("persistentVolumeClaim")) {
        // not a rule of the real API server: the emulated kubelet refuses what it cannot mount
        // rather than pretending (https://kubernetes.io/docs/concepts/storage/volumes/)
        throw ApiStatus.Failure.invalid(
            "Pod",
            name,
            "spec.volumes[" + i + "]",
            "Unsupported value: the emulated kubelet mounts only emptyDir and"
                + " persistentVolumeClaim volumes");
      }
    }
    JsonNode deadline = pod.path("spec").path("activeDeadlineSeconds");
    if (!deadline.isMissingNode() && !deadline.isNull() && deadline.asLong() < 1) {
      throw ApiStatus.Failure.invalid(
          "Pod",
          name,
          "spec.activeDeadlineSeconds",
          "Invalid value: " + deadline.asLong() + ": must be between 1 and 2147483647, inclusive");
    }
    String restart = pod.path("spec").path("restartPolicy").asString("Always");
    if (!List.of("Always", "OnFailure", "Never").contains(restart)) {
      throw ApiStatus.Failure.invalid(
          "Pod", name, "spec.restartPolicy", "Unsupported value: \"" + restart + "\"");
    }
  }

  /**
   * The defaults the API server writes into a pod
   * (https://kubernetes.io/docs/concepts/workloads/pods/).
   */
  private static void applyPodDefaults(ObjectNode pod) {
    ObjectNode spec = (ObjectNode) pod.path("spec");
    if (!spec.has("restartPolicy")) {
      spec.put("restartPolicy", "Always");
    }
    if (!spec.has("terminationGracePeriodSeconds")) {
      spec.put("terminationGracePeriodSeconds", 30);
    }
    if (!spec.has("dnsPolicy")) {
      spec.put("dnsPolicy", "ClusterFirst");
    }
    if (!spec.has("schedulerName")) {
      spec.put("schedulerName", "default-scheduler");
    }
    spec.put("nodeName", "emulated-node");
    for (JsonNode c : spec.path("containers")) {
      ObjectNode container = (ObjectNode) c;
      if (!container.has("imagePullPolicy")) {
        String image = container.path("image").asString();
        container.put(
            "imagePullPolicy",
            image.endsWith(":latest") || !image.contains(":") ? "Always" : "IfNotPresent");
      }
      if (!container.has("terminationMessagePath")) {
        container.put("terminationMessagePath", "/dev/termination-log");
        container.put("terminationMessagePolicy", "File");
      }
      if (!container.has("resources")) {
        container.putObject("resources");
      }
    }
  }

  private ObjectNode createClaim(String namespace, String name, ObjectNode claim) {
    if (!claim.path("spec").path("accessModes").isArray()
        || claim.path("spec").path("accessModes").isEmpty()) {
      throw ApiStatus.Failure.invalid(
          "PersistentVolumeClaim",
          name,
          "spec.accessModes",
          "Required value: at least 1 access mode is required");
    }
    JsonNode storage = claim.path("spec").path("resources").path("requests").path("storage");
    if (storage.isMissingNode()) {
      throw ApiStatus.Failure.invalid(
          "PersistentVolumeClaim", name, "spec.resources[storage]", "Required value");
    }
    ObjectNode spec = (ObjectNode) claim.path("spec");
    if (!spec.has("storageClassName")) {
      spec.put("storageClassName", "standard");
    }
    spec.put("volumeMode", spec.path("volumeMode").asString("Filesystem"));
    ((ObjectNode) claim.path("metadata"))
        .putArray("finalizers")
        .add("kubernetes.io/pvc-protection");
    claim.putObject("status").put("phase", "Pending");
    ObjectNode created =
        store.create("persistentvolumeclaims", "PersistentVolumeClaim", namespace, claim);
    String uid = created.path("metadata").path("uid").asString();
    kubelet.createVolume(Kubelet.claimVolume(uid));
    // the default storage class binds at once (volumeBindingMode: Immediate)
    return store.update(
        "persistentvolumeclaims",
        namespace,
        name,
        c -> {
          ((ObjectNode) c.path("spec")).put("volumeName", "pvc-" + uid);
          ObjectNode status = c.putObject("status");
          status.put("phase", "Bound");
          status.set("accessModes", c.path("spec").path("accessModes").deepCopy());
          status.putObject("capacity").set("storage", storage.deepCopy());
          return c;
        });
  }

  private Long gracePeriod(HttpExchange ex) {
    if (ex.param("gracePeriodSeconds") != null) {
      return Long.parseLong(ex.param("gracePeriodSeconds"));
    }
    if (ex.body.length > 0) {
      JsonNode options = Json.read(ex.body);
      if (options.path("gracePeriodSeconds").isNumber()) {
        return options.path("gracePeriodSeconds").asLong();
      }
    }
    return null;
  }

  private ObjectNode delete(HttpExchange ex, String resource, String namespace, String name) {
    Long grace = gracePeriod(ex);
    if (resource.equals("pods")) {
      return kubelet.delete(namespace, name, grace);
    }
    return deleteClaim(namespace, name);
  }

  /**
   * Deletes a claim; while a pod that uses it exists, the kubernetes.io/pvc-protection finalizer
   * holds it
   * (https://kubernetes.io/docs/concepts/storage/persistent-volumes/#storage-object-in-use-protection):
   * it reads {@code deletionTimestamp} until {@link #reapClaims} removes it.
   */
  private ObjectNode deleteClaim(String namespace, String name) {
    return store.update(
        "persistentvolumeclaims",
        namespace,
        name,
        c -> {
          ObjectNode meta = (ObjectNode) c.path("metadata");
          if (!meta.has("deletionTimestamp")) {
            meta.put("deletionTimestamp", Store.now());
            meta.put("deletionGracePeriodSeconds", 0);
          }
          return c;
        });
  }

  private void reapClaims() {
    while (!closed) {
      try {
        for (ObjectNode claim :
            store.list(
                "persistentvolumeclaims", null, c -> c.path("metadata").has("deletionTimestamp"))) {
          String namespace = claim.path("metadata").path("namespace").asString();
          String name = claim.path("metadata").path("name").asString();
          boolean used =
              !store
                  .list(
                      "pods",
                      namespace,
                      pod -> {
                        for (JsonNode v : pod.path("spec").path("volumes")) {
                          if (name.equals(
                              v.path("persistentVolumeClaim").path("claimName").asString(null))) {
                            return true;
                          }
                        }
                        return false;
                      })
                  .isEmpty();
          if (!used && store.remove("persistentvolumeclaims", namespace, name) != null) {
            kubelet.removeVolume(
                Kubelet.claimVolume(claim.path("metadata").path("uid").asString()));
          }
        }
        Thread.sleep(100);
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        if (!closed) {
          LOG.warn("the claim reaper failed once", e);
        }
      }
    }
  }

  private void deleteCollection(HttpExchange ex, String resource, String kind, String namespace)
      throws IOException {
    Predicate<JsonNode> filter = selector(ex);
    Long grace = gracePeriod(ex);
    List<ObjectNode> deleted = new ArrayList<>();
    for (ObjectNode object : store.list(resource, namespace, filter)) {
      String name = object.path("metadata").path("name").asString();
      try {
        deleted.add(
            resource.equals("pods")
                ? kubelet.delete(namespace, name, grace)
                : deleteClaim(namespace, name));
      } catch (ApiStatus.Failure e) {
        LOG.debug("{} {} went meanwhile", resource, name);
      }
    }
    ObjectNode list = Json.object();
    list.put("kind", kind + "List");
    list.put("apiVersion", "v1");
    list.putObject("metadata").put("resourceVersion", Long.toString(store.resourceVersion()));
    ArrayNode items = list.putArray("items");
    deleted.forEach(items::add);
    ex.respondJson(200, Json.write(list));
  }

  private ObjectNode patch(
      HttpExchange ex, String resource, String kind, String namespace, String name) {
    String type = ex.header("content-type");
    type = type == null ? "" : type.split(";")[0].trim();
    JsonNode patch = body(ex);
    String patchType = type;
    return store.update(
        resource,
        namespace,
        name,
        old -> {
          JsonNode patched =
              switch (patchType) {
                case "application/json-patch+json" -> JsonPatch.apply(patch, old);
                case "application/merge-patch+json" -> mergePatch(old, patch, false);
                case "application/strategic-merge-patch+json" -> mergePatch(old, patch, true);
                default ->
                    throw new ApiStatus.Failure(
                        415,
                        "UnsupportedMediaType",
                        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
                        null,
                        null);
              };
          if (!patched.isObject()) {
            throw ApiStatus.Failure.badRequest("the patch did not yield an object");
          }
          return checkUpdate(resource, kind, name, old, (ObjectNode) patched, false);
        });
  }

  private ObjectNode replace(
      HttpExchange ex, String resource, String kind, String namespace, String name) {
    JsonNode body = body(ex);
    if (!body.isObject()) {
      throw ApiStatus.Failure.badRequest("the body is not an object");
    }
    return store.update(
        resource,
        namespace,
        name,
        old -> checkUpdate(resource, kind, name, old, ((ObjectNode) body).deepCopy(), true));
  }

  /**
   * Checks an update as the API server does: name and uid stay, a stale resourceVersion is a 409,
   * the status is kept (only the kubelet writes it), and of a pod's spec only {@code
   * activeDeadlineSeconds} may change, only set or decreased
   * (https://kubernetes.io/docs/concepts/workloads/pods/#pod-update-and-replacement).
   */
  private static ObjectNode checkUpdate(
      String resource, String kind, String name, ObjectNode old, ObjectNode updated, boolean put) {
    ObjectNode meta =
        updated.path("metadata").isObject()
            ? (ObjectNode) updated.get("metadata")
            : updated.putObject("metadata");
    String oldVersion = old.path("metadata").path("resourceVersion").asString();
    String newVersion = meta.path("resourceVersion").asString(null);
    if (newVersion != null && !newVersion.isEmpty() && !newVersion.equals(oldVersion)) {
      throw new ApiStatus.Failure(
          409,
          "Conflict",
          "Operation cannot be fulfilled on "
              + resource
              + " \""
              + name
              + "\": the object has been modified; please apply your changes to the latest version and try again",
          resource,
          name);
    }
    if (meta.has("name") && !name.equals(meta.path("name").asString())) {
      throw ApiStatus.Failure.invalid(
          kind,
          name,
          "metadata.name",
          "Invalid value: \"" + meta.path("name").asString() + "\": field is immutable");
    }
    for (String field :
        List.of(
            "name",
            "namespace",
            "uid",
            "creationTimestamp",
            "generation",
            "deletionTimestamp",
            "deletionGracePeriodSeconds")) {
      if (old.path("metadata").has(field)) {
        meta.set(field, old.path("metadata").get(field).deepCopy());
      } else {
        meta.remove(field);
      }
    }
    if (put && !meta.has("finalizers") && old.path("metadata").has("finalizers")) {
      meta.set("finalizers", old.path("metadata").get("finalizers").deepCopy());
    }
    Validation.labels(kind, name, meta.path("labels"));
    updated.put("kind", kind);
    updated.put("apiVersion", "v1");
    // status is not writable through the main resource
    if (old.has("status")) {
      updated.set("status", old.get("status").deepCopy());
    } else {
      updated.remove("status");
    }
    if (resource.equals("pods")) {
      ObjectNode oldSpec = (ObjectNode) old.path("spec");
      JsonNode newSpecNode = updated.path("spec");
      if (!newSpecNode.isObject()) {
        throw ApiStatus.Failure.invalid(kind, name, "spec", "Required value");
      }
      ObjectNode newSpec = (ObjectNode) newSpecNode;
      JsonNode oldDeadline = oldSpec.path("activeDeadlineSeconds");
      JsonNode newDeadline = newSpec.path("activeDeadlineSeconds");
      ObjectNode a = oldSpec.deepCopy();
      ObjectNode b = newSpec.deepCopy();
      a.remove("activeDeadlineSeconds");
      b.remove("activeDeadlineSeconds");
      if (!a.equals(b)) {
        throw ApiStatus.Failure.invalid(
            kind,
            name,
            "spec",
            "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative) (the emulated kubelet allows only spec.activeDeadlineSeconds)");
      }
      boolean had = oldDeadline.isNumber();
      boolean has = newDeadline.isNumber();
      if (has && newDeadline.asLong() < 1) {
        throw ApiStatus.Failure.invalid(
            kind,
            name,
            "spec.activeDeadlineSeconds",
            "Invalid value: "
                + newDeadline.asLong()
                + ": must be between 1 and 2147483647, inclusive");
      }
      if ((had && !has) || (had && newDeadline.asLong() > oldDeadline.asLong())) {
        throw ApiStatus.Failure.invalid(
            kind,
            name,
            "spec.activeDeadlineSeconds",
            "Invalid value: "
                + (has ? newDeadline.asLong() : "null")
                + ": must be less than or equal to previous value");
      }
    } else if (!updated.path("spec").equals(old.path("spec"))) {
      ObjectNode a = ((ObjectNode) old.path("spec")).deepCopy();
      JsonNode newSpec = updated.path("spec");
      if (!newSpec.isObject()) {
        throw ApiStatus.Failure.invalid(kind, name, "spec", "Required value");
      }
      ObjectNode b = ((ObjectNode) newSpec).deepCopy();
      a.remove("resources");
      b.remove("resources");
      if (!a.equals(b)) {
        throw ApiStatus.Failure.invalid(
            kind,
            name,
            "spec",
            "Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims");
      }
    }
    return updated;
  }

  /**
   * RFC 7386 merge patch; the strategic flavour also merges lists of objects by their {@code name}
   * (containers, volumes, env), as the strategic merge keys of those lists do.
   */
  static JsonNode mergePatch(JsonNode target, JsonNode patch, boolean strategic) {
    if (!patch.isObject()) {
      return patch.deepCopy();
    }
    ObjectNode result =
        target != null && target.isObject() ? ((ObjectNode) target).deepCopy() : Json.object();
    for (Iterator<Map.Entry<String, JsonNode>> it = patch.properties().iterator(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getKey().startsWith("$")) {
        continue;
      }
      JsonNode value = e.getValue();
      if (value.isNull()) {
        result.remove(e.getKey());
      } else if (strategic
          && value.isArray()
          && result.path(e.getKey()).isArray()
          && keyedByName(value)) {
        ArrayNode merged = ((ArrayNode) result.get(e.getKey())).deepCopy();
        for (JsonNode item : value) {
          boolean found = false;
          for (int i = 0; i < merged.size(); i++) {
            if (merged.get(i).path("name").equals(item.path("name"))) {
              merged.set(i, mergePatch(merged.get(i), item, true));
              found = true;
            }
          }
          if (!found) {
            merged.add(item.deepCopy());
          }
        }
        result.set(e.getKey(), merged);
      } else {
        result.set(e.getKey(), mergePatch(result.get(e.getKey()), value, strategic));
      }
    }
    return result;
  }

  private static boolean keyedByName(JsonNode array) {
    for (JsonNode item : array) {
      if (!item.isObject() || !item.has("name")) {
        return false;
      }
    }
    return true;
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      LOG.debug("closing the server socket: {}", e.toString());
    }
    for (Socket socket : connections) {
      try {
        socket.close();
      } catch (IOException e) {
        LOG.debug("closing a connection: {}", e.toString());
      }
    }
    threads.shutdownNow();
  }
}
