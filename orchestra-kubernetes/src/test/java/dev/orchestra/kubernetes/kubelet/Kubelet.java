package dev.orchestra.kubernetes.kubelet;

import static org.awaitility.Awaitility.await;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The emulated kubelet: runs each pod's first container as a Docker container and writes the pod's
 * status as https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/ describes it (phases
 * Pending, Running, Succeeded, Failed; container states waiting, running, terminated), enforces
 * {@code activeDeadlineSeconds}, and carries out graceful deletion
 * (https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination). Only {@code
 * restartPolicy: Never} is emulated: a container is never restarted.
 *
 * <p>Further pages followed: {@code activeDeadlineSeconds} counted from {@code status.startTime}
 * (https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#lifecycle);
 * {@code ErrImagePull} then {@code ImagePullBackOff} for an image the node does not have
 * (https://kubernetes.io/docs/concepts/containers/images/#imagepullbackoff; images are never pulled
 * here); {@code OOMKilled} past a memory limit
 * (https://kubernetes.io/docs/tasks/configure-pod-container/assign-memory-resource/); CPU requests
 * as shares (https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/);
 * {@code emptyDir} living as long as the pod and {@code subPath} mounts
 * (https://kubernetes.io/docs/concepts/storage/volumes/); a claim's volume shared by the pods that
 * mount it (https://kubernetes.io/docs/concepts/storage/persistent-volumes/).
 */
final class Kubelet {

  private static final Logger LOG = LoggerFactory.getLogger(Kubelet.class);

  /** The label on every container and volume of one fixture instance. */
  static final String LABEL = "dev.orchestra.emulated-kubelet";

  /** How long {@link #removeAll()} waits for removals in progress: a bound on a busy engine. */
  private static final Duration REMOVAL = Duration.ofMinutes(1);

  final Store store;
  final DockerClient docker;
  final Path socket;
  final String instance;
  private final Map<String, PodWorker> workers = new ConcurrentHashMap<>();
  private final ExecutorService threads;
  private volatile boolean closed;

  Kubelet(Store store, DockerClient docker, Path socket, String instance) {
    this.store = store;
    this.docker = docker;
    this.socket = socket;
    this.instance = instance;
    AtomicInteger count = new AtomicInteger();
    ThreadFactory factory =
        r -> {
          Thread t = new Thread(r, "emulated-kubelet-pod-" + count.incrementAndGet());
          t.setDaemon(true);
          return t;
        };
    this.threads = Executors.newCachedThreadPool(factory);
  }

  private static String key(String namespace, String name) {
    return namespace + "/" + name;
  }

  /** Takes a newly created pod: its worker starts it. */
  void podCreated(ObjectNode pod) {
    String namespace = pod.path("metadata").path("namespace").asString();
    String name = pod.path("metadata").path("name").asString();
    PodWorker worker =
        new PodWorker(this, namespace, name, pod.path("metadata").path("uid").asString());
    workers.put(key(namespace, name), worker);
    threads.execute(worker);
  }

  PodWorker worker(String namespace, String name) {
    return workers.get(key(namespace, name));
  }

  /** A pod's worker is done: its pod is gone. */
  void forget(PodWorker worker) {
    workers.remove(key(worker.namespace, worker.name), worker);
  }

  /** Runs work of a pod's on the kubelet's threads. */
  void execute(Runnable work) {
    threads.execute(work);
  }

  /** Whether {@link #close()} was called: pod workers stop. */
  boolean isClosed() {
    return closed;
  }

  /**
   * Deletes a pod as the API server and kubelet do together: with grace 0 the object goes at once
   * (a forced deletion) and the container is killed behind it; else the pod reads {@code
   * metadata.deletionTimestamp} while the kubelet sends TERM, then KILL after the grace, removes
   * the container and its emptyDir volumes, and only then is the object gone.
   */
  ObjectNode delete(String namespace, String name, Long gracePeriod) {
    ObjectNode pod = store.get("pods", namespace, name);
    long grace =
        gracePeriod != null
            ? gracePeriod
            : pod.path("spec").path("terminationGracePeriodSeconds").asLong(30);
    PodWorker worker = worker(namespace, name);
    boolean finished =
        "Succeeded".equals(Json.text(pod, "/status/phase"))
            || "Failed".equals(Json.text(pod, "/status/phase"));
    if (grace <= 0 || worker == null) {
      ObjectNode removed = store.remove("pods", namespace, name);
      if (worker != null) {
        worker.requestDeletion(0, false);
      }
      return removed == null ? pod : removed;
    }
    ObjectNode marked =
        store.update(
            "pods",
            namespace,
            name,
            p -> {
              ObjectNode meta = (ObjectNode) p.path("metadata");
              if (!meta.has("deletionTimestamp")) {
                meta.put(
                    "deletionTimestamp",
                    Instant.now().plusSeconds(grace).truncatedTo(ChronoUnit.SECONDS).toString());
                meta.put("deletionGracePeriodSeconds", grace);
              } else if (grace < meta.path("deletionGracePeriodSeconds").asLong()) {
                meta.put("deletionGracePeriodSeconds", grace);
              }
              return p;
            });
    worker.requestDeletion(grace, finished);
    return marked;
  }

  /** Every pod worker stops; their containers and volumes are left for {@link #removeAll()}. */
  void close() {
    closed = true;
    threads.shutdownNow();
    try {
      if (!threads.awaitTermination(60, java.util.concurrent.TimeUnit.SECONDS)) {
        LOG.warn("some pod workers of the emulated kubelet did not stop within 60 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Names the objects this instance left on the engine: containers and volumes. */
  static List<String> leftovers(DockerClient docker, String instance) {
    List<String> left = new ArrayList<>();
    docker
        .listContainersCmd()
        .withShowAll(true)
        .withLabelFilter(Map.of(LABEL, instance))
        .exec()
        .forEach(c -> left.add("container " + c.getId() + " " + String.join(",", c.getNames())));
    var volumes =
        docker
            .listVolumesCmd()
            .withFilter("label", List.of(LABEL + "=" + instance))
            .exec()
            .getVolumes();
    if (volumes != null) {
      volumes.forEach(v -> left.add("volume " + v.getName()));
    }
    return left;
  }

  /**
   * Force-removes every container and volume of this instance. A container whose removal is in
   * progress already (a pod's deletion got there first: the engine answers 409) is waited for, up
   * to {@link #REMOVAL}, before the volumes it may still use are removed.
   */
  void removeAll() {
    await("the removal of the emulated kubelet's containers (" + instance + ")")
        .atMost(REMOVAL)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> removeContainers() == 0);
    var volumes =
        docker
            .listVolumesCmd()
            .withFilter("label", List.of(LABEL + "=" + instance))
            .exec()
            .getVolumes();
    if (volumes != null) {
      for (var v : volumes) {
        try {
          docker.removeVolumeCmd(v.getName()).exec();
        } catch (NotFoundException e) {
          LOG.debug("volume {} was gone already", v.getName());
        }
      }
    }
  }

  /** Sends the removal of every container of this instance; answers how many were listed. */
  private int removeContainers() {
    var listed =
        docker
            .listContainersCmd()
            .withShowAll(true)
            .withLabelFilter(Map.of(LABEL, instance))
            .exec();
    for (var c : listed) {
      try {
        docker.removeContainerCmd(c.getId()).withForce(true).withRemoveVolumes(true).exec();
      } catch (NotFoundException e) {
        LOG.debug("container {} was gone already", c.getId());
      } catch (ConflictException e) {
        LOG.debug("container {} is being removed already: {}", c.getId(), e.getMessage());
      }
    }
    return listed.size();
  }

  /** The Docker volume that holds a claim's data. */
  static String claimVolume(String claimUid) {
    return "pvc-" + claimUid;
  }

  void createVolume(String name) {
    docker.createVolumeCmd().withName(name).withLabels(Map.of(LABEL, instance)).exec();
  }

  void removeVolume(String name) {
    try {
      docker.removeVolumeCmd(name).exec();
    } catch (NotFoundException e) {
      LOG.debug("volume {} was gone already", name);
    }
  }
}
