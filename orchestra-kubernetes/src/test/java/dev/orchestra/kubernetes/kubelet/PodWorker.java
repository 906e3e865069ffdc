package dev.orchestra.kubernetes.kubelet;

import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.exception.NotModifiedException;
import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.LogConfig;
import com.github.dockerjava.api.model.Volume;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** One pod's life on the emulated node ({@link Kubelet}): its container, status and deletion. */
final class PodWorker implements Runnable {

  private static final Logger LOG = LoggerFactory.getLogger(PodWorker.class);

  /** How often a running container's state is read. */
  private static final Duration POLL = Duration.ofMillis(100);

  private final Kubelet kubelet;
  final String namespace;
  final String name;
  final String uid;
  final List<String> emptyDirs = new ArrayList<>();
  private final Object lock = new Object();
  private String containerId;
  private volatile String runningContainer;
  private volatile boolean tty;
  private boolean deleting;
  private long deletionGrace;
  private volatile boolean containerEnded;
  private final ContainerLog log = new ContainerLog();
  private volatile EngineStream output;
  private Instant startTime;

  PodWorker(Kubelet kubelet, String namespace, String name, String uid) {
    this.kubelet = kubelet;
    this.namespace = namespace;
    this.name = name;
    this.uid = uid;
  }

  /** The started container's id, or {@code null} while it is not started (or gone). */
  String startedContainer() {
    return runningContainer;
  }

  boolean tty() {
    return tty;
  }

  boolean containerEnded() {
    return containerEnded;
  }

  /** The container's log: empty until it starts, whole once {@link #containerEnded()}. */
  ContainerLog log() {
    return log;
  }

  void requestDeletion(long grace, boolean finished) {
    synchronized (lock) {
      if (!deleting || grace < deletionGrace) {
        deletionGrace = grace;
      }
      deleting = true;
      lock.notifyAll();
    }
  }

  private boolean deleting() {
    synchronized (lock) {
      return deleting;
    }
  }

  private ObjectNode updateStatus(java.util.function.Consumer<ObjectNode> change) {
    try {
      return kubelet.store.update(
          "pods",
          namespace,
          name,
          p -> {
            if (!p.path("metadata").path("uid").asString().equals(uid)) {
              throw ApiStatus.Failure.notFound("pods", name);
            }
            ObjectNode status =
                p.path("status").isObject() ? (ObjectNode) p.get("status") : p.putObject("status");
            change.accept(status);
            return p;
          });
    } catch (ApiStatus.Failure e) {
      return null;
    }
  }

  @Override
  public void run() {
    try {
      live();
    } catch (RuntimeException e) {
      if (!kubelet.isClosed()) {
        LOG.warn("the emulated kubelet's worker of pod {}/{} failed", namespace, name, e);
      }
    } finally {
      cleanUp();
    }
  }

  private void live() {
    ObjectNode pod = kubelet.store.find("pods", namespace, name);
    if (pod == null) {
      return;
    }
    JsonNode container = pod.path("spec").path("containers").path(0);
    String containerName = container.path("name").asString();
    // The kubelet keeps the start in memory to the nanosecond and counts the deadline from
    // there; the API shows it to the second (RFC 3339 without fractions).
    startTime = Instant.now();
    updateStatus(
        s -> {
          s.put("phase", "Pending");
          s.put("startTime", startTime.truncatedTo(ChronoUnit.SECONDS).toString());
          s.put("hostIP", "127.0.0.1");
          s.put("qosClass", "BestEffort");
          conditions(s, false, false);
          containerStatus(s, containerName, container, waiting("ContainerCreating", null));
        });
    // image: never pulled (no registry here); a missing one waits as the real kubelet does
    String image = container.path("image").asString();
    int attempts = 0;
    while (!imagePresent(image)) {
      if (stopRequested()) {
        return;
      }
      String reason = attempts++ == 0 ? "ErrImagePull" : "ImagePullBackOff";
      String message =
          reason.equals("ErrImagePull")
              ? "rpc error: code = NotFound desc = failed to pull and unpack image \""
                  + image
                  + "\": not found (the emulated kubelet never pulls)"
              : "Back-off pulling image \"" + image + "\"";
      updateStatus(s -> containerStatus(s, containerName, container, waiting(reason, message)));
      if (waitDeletion(Duration.ofSeconds(1))) {
        return;
      }
    }
    List<Bind> binds;
    while (true) {
      if (stopRequested()) {
        return;
      }
      String missing = missingClaim(pod);
      if (missing == null) {
        break;
      }
      updateStatus(
          s -> {
            ArrayNode conditions = s.putArray("conditions");
            ObjectNode c = conditions.addObject();
            c.put("type", "PodScheduled");
            c.put("status", "False");
            c.put("reason", "Unschedulable");
            c.put("message", "persistentvolumeclaim \"" + missing + "\" not found");
          });
      if (waitDeletion(Duration.ofMillis(500))) {
        return;
      }
    }
    binds = volumes(pod, container);
    CreateContainerCmd create = createCommand(pod, container, binds);
    String id;
    try {
      id = create.exec().getId();
    } catch (DockerException e) {
      terminatedWithoutStart(containerName, container, "CreateContainerError", e.getMessage());
      waitDeletion(null);
      return;
    }
    synchronized (lock) {
      containerId = id;
      if (deleting) {
        // deleted while the engine created it: the cleanup removes it, nothing is left behind
        return;
      }
    }
    tty = container.path("tty").asBoolean(false);
    try {
      attachOutput(id);
      kubelet.docker.startContainerCmd(id).exec();
    } catch (DockerException | IOException e) {
      closeOutput();
      terminatedWithoutStart(containerName, container, "StartError", e.getMessage());
      waitDeletion(null);
      return;
    }
    InspectContainerResponse started = kubelet.docker.inspectContainerCmd(id).exec();
    runningContainer = id;
    String startedAt = seconds(started.getState().getStartedAt());
    String ip =
        started.getNetworkSettings() == null || started.getNetworkSettings().getNetworks() == null
            ? "127.0.0.1"
            : started.getNetworkSettings().getNetworks().values().stream()
                .map(n -> n.getIpAddress())
                .filter(a -> a != null && !a.isEmpty())
                .findFirst()
                .orElse("127.0.0.1");
    updateStatus(
        s -> {
          s.put("phase", "Running");
          s.put("podIP", ip);
          s.putArray("podIPs").addObject().put("ip", ip);
          conditions(s, true, true);
          ObjectNode state = Json.object();
          state.putObject("running").put("startedAt", startedAt);
          containerStatus(s, containerName, container, state);
          ((ObjectNode) s.path("containerStatuses").path(0)).put("ready", true);
          ((ObjectNode) s.path("containerStatuses").path(0)).put("started", true);
          ((ObjectNode) s.path("containerStatuses").path(0)).put("containerID", "docker://" + id);
        });
    boolean deadlineHit = false;
    InspectContainerResponse.ContainerState state;
    while (true) {
      state = kubelet.docker.inspectContainerCmd(id).exec().getState();
      if (!Boolean.TRUE.equals(state.getRunning())) {
        break;
      }
      if (deleting()) {
        long grace;
        synchronized (lock) {
          grace = deletionGrace;
        }
        stop(id, grace);
        continue;
      }
      if (!deadlineHit && deadlinePassed()) {
        deadlineHit = true;
        long grace = spec().path("terminationGracePeriodSeconds").asLong(30);
        LOG.info("pod {}/{} passed its activeDeadlineSeconds: stopping it", namespace, name);
        updateStatus(
            s -> {
              s.put("phase", "Failed");
              s.put("reason", "DeadlineExceeded");
              s.put("message", "Pod was active on the node longer than the specified deadline");
            });
        kubelet.execute(() -> stop(id, grace));
      }
      sleep(POLL);
    }
    awaitOutputEnd();
    containerEnded = true;
    long exit = state.getExitCodeLong() == null ? -1 : state.getExitCodeLong();
    boolean oom = Boolean.TRUE.equals(state.getOOMKilled());
    String finishedAt = seconds(state.getFinishedAt());
    boolean deadline = deadlineHit;
    updateStatus(
        s -> {
          ObjectNode terminated = Json.object();
          ObjectNode t = terminated.putObject("terminated");
          t.put("exitCode", exit);
          t.put("reason", oom ? "OOMKilled" : exit == 0 ? "Completed" : "Error");
          t.put("startedAt", startedAt);
          t.put("finishedAt", finishedAt);
          t.put("containerID", "docker://" + id);
          containerStatus(s, containerName, container, terminated);
          ((ObjectNode) s.path("containerStatuses").path(0)).put("ready", false);
          ((ObjectNode) s.path("containerStatuses").path(0)).put("started", false);
          conditions(s, false, true);
          if (!deadline) {
            s.put("phase", exit == 0 ? "Succeeded" : "Failed");
          }
        });
    waitDeletion(null);
  }

  /**
   * Whether the pod must not start: deleted, the kubelet closed, or its deadline passed before its
   * container started (then it is Failed with DeadlineExceeded and waits for its deletion).
   */
  private boolean stopRequested() {
    if (deleting() || kubelet.isClosed()) {
      return true;
    }
    if (deadlinePassed()) {
      updateStatus(
          s -> {
            s.put("phase", "Failed");
            s.put("reason", "DeadlineExceeded");
            s.put("message", "Pod was active on the node longer than the specified deadline");
          });
      waitDeletion(null);
      return true;
    }
    return false;
  }

  private JsonNode spec() {
    ObjectNode pod = kubelet.store.find("pods", namespace, name);
    return pod == null ? Json.object() : pod.path("spec");
  }

  /** Whether {@code spec.activeDeadlineSeconds}, counted from {@code status.startTime}, passed. */
  private boolean deadlinePassed() {
    JsonNode deadline = spec().path("activeDeadlineSeconds");
    return deadline.isNumber()
        && startTime != null
        && Instant.now().isAfter(startTime.plusSeconds(deadline.asLong()));
  }

  /** Waits until deletion is requested (then true) or {@code limit} passed ({@code null}: ever). */
  private boolean waitDeletion(Duration limit) {
    long end = limit == null ? Long.MAX_VALUE : System.nanoTime() + limit.toNanos();
    synchronized (lock) {
      while (!deleting && !kubelet.isClosed()) {
        long left = end - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        try {
          lock.wait(Math.max(1, Math.min(left / 1_000_000, 200)));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return true;
        }
      }
      return true;
    }
  }

  /** TERM, then KILL after {@code grace} seconds, as {@code docker stop} does. */
  private void stop(String id, long grace) {
    try {
      kubelet.docker.stopContainerCmd(id).withTimeout((int) Math.max(0, grace)).exec();
    } catch (NotModifiedException | NotFoundException e) {
      LOG.debug("container {} of pod {}/{} was stopped already", id, namespace, name);
    }
  }

  /** Removes the container and the emptyDir volumes, then the pod object (if still there). */
  private void cleanUp() {
    String id;
    synchronized (lock) {
      id = containerId;
    }
    try {
      if (id != null) {
        long grace;
        synchronized (lock) {
          grace = deletionGrace;
        }
        if (!kubelet.isClosed() && !containerEnded) {
          stop(id, grace);
        }
        kubelet.docker.removeContainerCmd(id).withForce(true).exec();
      }
    } catch (NotFoundException e) {
      LOG.debug("container {} was gone already", id);
    } catch (RuntimeException e) {
      if (!kubelet.isClosed()) {
        LOG.warn("could not remove container {} of pod {}/{}", id, namespace, name, e);
      }
    }
    runningContainer = null;
    closeOutput();
    for (String volume : emptyDirs) {
      // the engine may still hold the volume for a moment after the container's removal
      for (int attempt = 1; ; attempt++) {
        try {
          kubelet.removeVolume(volume);
          break;
        } catch (RuntimeException e) {
          if (kubelet.isClosed() || attempt == 20) {
            if (!kubelet.isClosed()) {
              LOG.warn("could not remove volume {} of pod {}/{}", volume, namespace, name, e);
            }
            break;
          }
          LOG.debug("volume {} not removed yet: {}", volume, e.toString());
          try {
            Thread.sleep(250);
          } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            break;
          }
        }
      }
    }
    if (!kubelet.isClosed()) {
      ObjectNode pod = kubelet.store.find("pods", namespace, name);
      if (pod != null && pod.path("metadata").path("uid").asString().equals(uid)) {
        kubelet.store.remove("pods", namespace, name);
      }
    }
    kubelet.forget(this);
  }

  private void terminatedWithoutStart(
      String containerName, JsonNode container, String reason, String message) {
    LOG.info("pod {}/{}: {}: {}", namespace, name, reason, message);
    updateStatus(
        s -> {
          ObjectNode state = Json.object();
          ObjectNode t = state.putObject("terminated");
          t.put("exitCode", 128);
          t.put("reason", reason);
          t.put("message", message);
          t.put("startedAt", Store.now());
          t.put("finishedAt", Store.now());
          containerStatus(s, containerName, container, state);
          s.put("phase", "Failed");
        });
  }

  private String missingClaim(JsonNode pod) {
    for (JsonNode volume : pod.path("spec").path("volumes")) {
      JsonNode claim = volume.path("persistentVolumeClaim");
      if (claim.isObject()) {
        String claimName = claim.path("claimName").asString();
        ObjectNode pvc = kubelet.store.find("persistentvolumeclaims", namespace, claimName);
        if (pvc == null || pvc.path("metadata").has("deletionTimestamp")) {
          return claimName;
        }
      }
    }
    return null;
  }

  /** Creates the pod's emptyDir volumes and maps every volume mount to a bind. */
  private List<Bind> volumes(JsonNode pod, JsonNode container) {
    Map<String, String> dockerVolumes = new HashMap<>();
    for (JsonNode volume : pod.path("spec").path("volumes")) {
      String volumeName = volume.path("name").asString();
      if (volume.path("persistentVolumeClaim").isObject()) {
        ObjectNode pvc =
            kubelet.store.get(
                "persistentvolumeclaims",
                namespace,
                volume.path("persistentVolumeClaim").path("claimName").asString());
        dockerVolumes.put(
            volumeName, Kubelet.claimVolume(pvc.path("metadata").path("uid").asString()));
      } else {
        // emptyDir, and any other kind, as a Docker volume that lives as long as the pod
        String dockerName = "emptydir-" + uid + "-" + volumeName;
        kubelet.createVolume(dockerName);
        emptyDirs.add(dockerName);
        dockerVolumes.put(volumeName, dockerName);
      }
    }
    List<Bind> binds = new ArrayList<>();
    for (JsonNode mount : container.path("volumeMounts")) {
      String volume = dockerVolumes.get(mount.path("name").asString());
      if (volume == null) {
        continue;
      }
      AccessMode mode = mount.path("readOnly").asBoolean(false) ? AccessMode.ro : AccessMode.rw;
      String subPath = mount.path("subPath").asString("");
      if (subPath.isEmpty()) {
        binds.add(new Bind(volume, new Volume(mount.path("mountPath").asString()), mode));
      } else {
        // Docker's API 1.41 has no volume subpath: bind the directory inside the volume
        Path data =
            Path.of(kubelet.docker.inspectVolumeCmd(volume).exec().getMountpoint())
                .resolve(subPath);
        try {
          Files.createDirectories(data);
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
        binds.add(new Bind(data.toString(), new Volume(mount.path("mountPath").asString()), mode));
      }
    }
    return binds;
  }

  /**
   * Attaches to the created container's output, as the container runtime does before it starts one,
   * and copies it into {@link #log} on a thread of its own until the output ends ({@link
   * #closeOutput} closes the attach).
   */
  private void attachOutput(String id) throws IOException {
    EngineStream attached =
        EngineStream.open(
            kubelet.socket,
            "POST",
            "/containers/" + id + "/attach?stream=1&stdout=1&stderr=1",
            null,
            true);
    output = attached;
    boolean raw = tty;
    Thread reader =
        new Thread(
            () -> {
              try {
                attached.pump(raw, log::write);
              } catch (IOException e) {
                LOG.debug("the output of pod {}/{} ended: {}", namespace, name, e.toString());
              } finally {
                log.end();
              }
            },
            "emulated-kubelet-output-" + name);
    reader.setDaemon(true);
    reader.start();
  }

  /**
   * Waits until the container's output has ended, as a runtime closes a container's log before it
   * reports the container exited. The engine ends the output when it marks the container exited
   * (after at most 2 s of copying, under load); a minute is a bound for an engine that stopped
   * answering, after which the log ends where it is.
   */
  private void awaitOutputEnd() {
    try {
      if (!log.awaitEnd(TimeUnit.MINUTES.toMillis(1))) {
        LOG.warn("the output of pod {}/{} did not end with its container", namespace, name);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    closeOutput();
  }

  private void closeOutput() {
    EngineStream attached = output;
    if (attached != null) {
      attached.close();
    }
    log.end();
  }

  private static List<String> expanded(List<String> texts, Map<String, String> variables) {
    return texts.stream().map(t -> Expansion.expand(t, variables)).toList();
  }

  private CreateContainerCmd createCommand(JsonNode pod, JsonNode container, List<Bind> binds) {
    JsonNode podSecurity = pod.path("spec").path("securityContext");
    JsonNode security = container.path("securityContext");
    HostConfig host =
        HostConfig.newHostConfig()
            .withBinds(binds)
            // the log is the node's own (ContainerLog), not the engine's
            .withLogConfig(new LogConfig(LogConfig.LoggingType.NONE, Map.of()))
            .withPrivileged(security.path("privileged").asBoolean(false))
            // shareProcessNamespace: the pod's pause process is PID 1, not the container's
            // command (kubernetes.io, "Share Process Namespace between Containers in a Pod"),
            // which then gets the signals PID 1 would ignore. An init process as PID 1 does the
            // same here.
            .withInit(pod.path("spec").path("shareProcessNamespace").asBoolean(false));
    JsonNode limits = container.path("resources").path("limits");
    if (limits.has("memory")) {
      long memory = Quantities.bytes(limits.path("memory").asString());
      host.withMemory(memory).withMemorySwap(memory);
    }
    JsonNode requests = container.path("resources").path("requests");
    String cpu =
        requests.has("cpu")
            ? requests.path("cpu").asString()
            : limits.has("cpu") ? limits.path("cpu").asString() : null;
    if (cpu != null) {
      host.withCpuShares(Quantities.shares(cpu));
    }
    Map<String, String> labels = new HashMap<>();
    labels.put(Kubelet.LABEL, kubelet.instance);
    labels.put("io.kubernetes.pod.name", name);
    labels.put("io.kubernetes.pod.namespace", namespace);
    labels.put("io.kubernetes.pod.uid", uid);
    CreateContainerCmd create =
        kubelet
            .docker
            .createContainerCmd(container.path("image").asString())
            .withName(
                "k8s_"
                    + container.path("name").asString()
                    + "_"
                    + name
                    + "_"
                    + namespace
                    + "_"
                    + uid
                    + "_0")
            .withLabels(labels)
            .withHostConfig(host)
            .withStdinOpen(container.path("stdin").asBoolean(false))
            .withStdInOnce(container.path("stdinOnce").asBoolean(false))
            .withAttachStdin(container.path("stdin").asBoolean(false))
            .withTty(container.path("tty").asBoolean(false));
    // The kubelet expands $(VAR) and $$ in env values (from the variables before them), then in
    // the command and its arguments (from all of them): kubernetes.io, "Define Dependent
    // Environment Variables".
    Map<String, String> variables = new LinkedHashMap<>();
    for (JsonNode e : container.path("env")) {
      variables.put(
          e.path("name").asString(), Expansion.expand(e.path("value").asString(""), variables));
    }
    if (container.path("command").isArray()) {
      create.withEntrypoint(expanded(strings(container.path("command")), variables));
    }
    if (container.path("args").isArray()) {
      create.withCmd(expanded(strings(container.path("args")), variables));
    }
    List<String> env = new ArrayList<>();
    variables.forEach((name, value) -> env.add(name + "=" + value));
    create.withEnv(env);
    if (container.hasNonNull("workingDir")) {
      create.withWorkingDir(container.path("workingDir").asString());
    }
    JsonNode user =
        security.has("runAsUser") ? security.get("runAsUser") : podSecurity.get("runAsUser");
    JsonNode group =
        security.has("runAsGroup") ? security.get("runAsGroup") : podSecurity.get("runAsGroup");
    if (user != null || group != null) {
      create.withUser(
          (user == null ? "0" : user.asString()) + (group == null ? "" : ":" + group.asString()));
    }
    return create;
  }

  private boolean imagePresent(String image) {
    try {
      kubelet.docker.inspectImageCmd(image).exec();
      return true;
    } catch (NotFoundException e) {
      return false;
    }
  }

  private static List<String> strings(JsonNode array) {
    List<String> list = new ArrayList<>();
    array.forEach(n -> list.add(n.asString()));
    return list;
  }

  private static String seconds(String dockerTime) {
    if (dockerTime == null || dockerTime.startsWith("0001")) {
      return Store.now();
    }
    return Instant.parse(dockerTime).truncatedTo(ChronoUnit.SECONDS).toString();
  }

  private static ObjectNode waiting(String reason, String message) {
    ObjectNode state = Json.object();
    ObjectNode w = state.putObject("waiting");
    w.put("reason", reason);
    if (message != null) {
      w.put("message", message);
    }
    return state;
  }

  private static void containerStatus(
      ObjectNode status, String containerName, JsonNode container, ObjectNode state) {
    ArrayNode statuses = status.putArray("containerStatuses");
    ObjectNode s = statuses.addObject();
    s.put("name", containerName);
    s.set("state", state);
    s.putObject("lastState");
    s.put("ready", false);
    s.put("restartCount", 0);
    s.put("image", container.path("image").asString());
    s.put("imageID", "");
    s.put("started", false);
  }

  private static void conditions(ObjectNode status, boolean ready, boolean initialized) {
    ArrayNode conditions = status.putArray("conditions");
    String now = Store.now();
    for (String[] c :
        new String[][] {
          {"PodReadyToStartContainers", String.valueOf(initialized)},
          {"Initialized", "true"},
          {"Ready", String.valueOf(ready)},
          {"ContainersReady", String.valueOf(ready)},
          {"PodScheduled", "true"}
        }) {
      ObjectNode condition = conditions.addObject();
      condition.put("type", c[0]);
      condition.put("status", c[1].equals("true") ? "True" : "False");
      condition.putNull("lastProbeTime");
      condition.put("lastTransitionTime", now);
    }
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
