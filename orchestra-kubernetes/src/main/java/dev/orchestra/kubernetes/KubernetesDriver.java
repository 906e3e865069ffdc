package dev.orchestra.kubernetes;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.Driver;
import dev.orchestra.Mount;
import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.Sandbox;
import dev.orchestra.Task;
import dev.orchestra.Volume;
import dev.orchestra.spi.Names;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code kubernetes} driver: each task a bare pod, each volume a PersistentVolumeClaim, all in
 * one Kubernetes namespace and labelled with the orchestra namespace. See {@code
 * docs/drivers/kubernetes.md}.
 */
final class KubernetesDriver implements Driver {

  private static final Logger LOG = LoggerFactory.getLogger(KubernetesDriver.class);
  private static final int LOCK_STRIPES = 64;

  /** The size of a claim when the caller asks for the platform's default. */
  static final String DEFAULT_CLAIM_SIZE = "1Gi";

  private final KubeContext ctx;
  private final Map<String, KubernetesContainer> containers = new ConcurrentHashMap<>();
  private final Object[] taskLocks = new Object[LOCK_STRIPES];
  private volatile boolean closing;
  private volatile boolean closed;

  KubernetesDriver(
      String namespace, KubernetesClient client, KubernetesDriverProvider.Settings settings) {
    this.ctx = new KubeContext(namespace, client, settings);
    for (int i = 0; i < LOCK_STRIPES; i++) {
      taskLocks[i] = new Object();
    }
    ctx.events = new PodEvents(ctx);
    ctx.events.start(settings.requestTimeout());
    LOG.info("kubernetes driver of namespace '{}' opened: {}", namespace, settings);
  }

  @Override
  public String name() {
    return KubernetesDriverProvider.NAME;
  }

  /**
   * Not {@link Capability#USER}: only numeric users can be run (see {@link PodSpecs#numericUser});
   * not {@link Capability#VOLUME_DATA}: not built.
   */
  @Override
  public Set<Capability> capabilities() {
    return EnumSet.of(
        Capability.IMAGE,
        Capability.PRIVILEGED,
        Capability.CPU_LIMIT,
        Capability.MEMORY_LIMIT,
        Capability.FOLLOW,
        Capability.STOP,
        Capability.TIMEOUT,
        Capability.REATTACH,
        Capability.SANDBOX);
  }

  private void requireOpen() {
    if (closing) {
      throw new IllegalStateException(
          "the kubernetes driver of namespace '" + ctx.namespace + "' is closed");
    }
  }

  @Override
  public Container runContainer(Task task) {
    if (task == null) {
      throw new IllegalArgumentException("task must not be null");
    }
    requireOpen();
    String podName = KubeNames.pod(ctx.namespace, task.id());
    Map<String, String> claims = new LinkedHashMap<>();
    for (Mount m : task.mounts()) {
      Names.requireVolumeName(m.name());
      claims.put(m.name(), KubeNames.claim(ctx.namespace, m.name()));
    }
    Pod pod =
        PodSpecs.pod(
            ctx.namespace,
            podName,
            task,
            claims,
            ctx.settings.stopGrace(),
            ctx.settings.startTimeout(),
            Map.of());
    List<KubernetesVolume> created = new ArrayList<>();
    Created made = null;
    synchronized (taskLocks[Math.floorMod(task.id().hashCode(), LOCK_STRIPES)]) {
      KubernetesContainer known = containers.get(podName);
      if (known != null && !known.isForgotten()) {
        closeQuietly(task.stdin(), task.id());
        made = new Created(known, false);
      } else {
        try {
          for (String volume : claims.keySet()) {
            ensureClaim(volume, 0, created);
          }
          made = createPod(task, pod, podName);
        } catch (RuntimeException e) {
          closeQuietly(task.stdin(), task.id());
          removeClaims(created, e);
          throw e;
        }
      }
    }
    if (!made.fresh()) {
      // the pod of an earlier call (of this driver, still starting, or one whose start was
      // interrupted before it was known): returned once it runs, as a fresh one is, so that an
      // exec into it finds its container; a failed start is the caller's who made it
      made.container().awaitStart(ctx.settings.startTimeout());
      return made.container();
    }
    // outside the lock: a start may take minutes (scheduling, image pull), and other tasks share
    // the lock's stripe; a concurrent call for this task meanwhile gets this container
    KubernetesContainer c = made.container();
    try {
      c.awaitStart(ctx.settings.startTimeout());
    } catch (RuntimeException refused) {
      removeAfterFailedStart(c, refused);
      removeClaims(created, refused);
      throw refused;
    }
    task.timeout().ifPresent(c::shortenDeadlineAfterStart);
    return c;
  }

  private static void removeClaims(List<KubernetesVolume> created, RuntimeException failure) {
    KubeContext.uninterrupted(
        () -> {
          for (KubernetesVolume v : created) {
            try {
              v.cleanup();
            } catch (RuntimeException cleanupFailure) {
              LOG.warn("removing {} after a failed start failed: {}", v, cleanupFailure.toString());
              failure.addSuppressed(cleanupFailure);
            }
          }
        });
  }

  /** A task's container, and whether this call created its pod. */
  private record Created(KubernetesContainer container, boolean fresh) {}

  private Created createPod(Task task, Pod pod, String podName) {
    for (int attempt = 0; ; attempt++) {
      Pod existing;
      try {
        Pod made =
            ctx.client.pods().inNamespace(ctx.settings.kubeNamespace()).resource(pod).create();
        KubernetesContainer c = register(task.id(), made);
        LOG.info("created pod {} for {}", podName, ctx.describe(task.id()));
        task.stdin().ifPresent(in -> StdinFeeder.start(c, in));
        return new Created(c, true);
      } catch (KubernetesClientException e) {
        try {
          KubeContext.rethrowInterruption("creating pod " + podName, e);
        } catch (OrchestraInterruptedException interrupted) {
          removeIfCreated(podName, task.id(), interrupted);
          throw interrupted;
        }
        if (e.getCode() != 409) {
          throw new OrchestraException(
              "creating pod "
                  + podName
                  + " for "
                  + ctx.describe(task.id())
                  + " failed: the API server answered "
                  + e.getCode()
                  + ": "
                  + e.getMessage(),
              e);
        }
        existing = ctx.getPod(podName);
      }
      if (existing == null && attempt < 3) {
        continue;
      }
      if (existing == null) {
        throw new OrchestraException(
            "pod "
                + podName
                + " for "
                + ctx.describe(task.id())
                + " kept conflicting and vanishing");
      }
      requireOurs(existing, task.id());
      if (existing.getMetadata().getDeletionTimestamp() != null && attempt < 3) {
        KubernetesContainer old = new KubernetesContainer(ctx, task.id(), podName, uid(existing));
        awaitGone(old);
        continue;
      }
      LOG.debug("{} already has pod {}", ctx.describe(task.id()), podName);
      closeQuietly(task.stdin(), task.id());
      return new Created(register(task.id(), existing), false);
    }
  }

  /**
   * The create of a pod was interrupted: the API server may have made it all the same. Deletes it
   * (if it is this task's), so that the interrupted call leaves nothing behind.
   */
  private void removeIfCreated(String podName, String taskId, RuntimeException interrupted) {
    KubeContext.uninterrupted(
        () -> {
          try {
            Pod made = ctx.getPod(podName);
            if (made != null
                && made.getMetadata().getDeletionTimestamp() == null
                && isOurs(made, taskId)) {
              ctx.pod(podName).withGracePeriod(0).delete();
              LOG.debug("deleted pod {} whose create was interrupted", podName);
            }
          } catch (RuntimeException e) {
            LOG.warn(
                "removing pod {} whose create was interrupted failed: {}", podName, e.toString());
            interrupted.addSuppressed(e);
          }
        });
  }

  /** Deletes the pod of a task that did not start, at once, so that nothing of it is left. */
  private void removeAfterFailedStart(KubernetesContainer c, RuntimeException refused) {
    KubeContext.uninterrupted(
        () -> {
          try {
            ctx.pod(c.podName()).withGracePeriod(0).delete();
            awaitGone(c);
          } catch (RuntimeException e) {
            LOG.warn("removing pod {} that did not start failed: {}", c.podName(), e.toString());
            refused.addSuppressed(e);
          } finally {
            containers.remove(c.podName(), c);
            ctx.events.forget(c);
            c.forgetAfterClose();
          }
        });
  }

  private void awaitGone(KubernetesContainer old) {
    long deadline = System.nanoTime() + ctx.removalBound().toNanos();
    while (true) {
      Pod p = ctx.getPod(old.podName());
      if (p == null || !old.uid().equals(uid(p))) {
        return;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new OrchestraException(
            "pod "
                + old.podName()
                + " of "
                + ctx.describe(old.taskId())
                + " is still being deleted");
      }
      KubeContext.sleep(Duration.ofMillis(200), "waiting for the old pod " + old.podName());
    }
  }

  private boolean isOurs(Pod pod, String taskId) {
    Map<String, String> a = KubernetesContainer.annotations(pod);
    return ctx.namespace.equals(a.get(KubeNames.NAMESPACE_ANNOTATION))
        && taskId.equals(a.get(KubeNames.TASK_ANNOTATION));
  }

  private void requireOurs(Pod pod, String taskId) {
    if (!isOurs(pod, taskId)) {
      throw new OrchestraException(
          "pod "
              + pod.getMetadata().getName()
              + " exists in Kubernetes namespace '"
              + ctx.settings.kubeNamespace()
              + "' but is not the pod of "
              + ctx.describe(taskId)
              + " (its annotations name another namespace or task); the driver leaves it alone");
    }
  }

  private KubernetesContainer register(String taskId, Pod pod) {
    String podName = pod.getMetadata().getName();
    KubernetesContainer known = containers.get(podName);
    if (known != null && !known.isForgotten() && known.uid().equals(uid(pod))) {
      return known;
    }
    KubernetesContainer c = new KubernetesContainer(ctx, taskId, podName, uid(pod));
    containers.put(podName, c);
    ctx.events.watch(c);
    c.observed(pod);
    return c;
  }

  private static String uid(Pod pod) {
    return pod.getMetadata().getUid();
  }

  private static void closeQuietly(Optional<InputStream> stdin, String taskId) {
    stdin.ifPresent(
        in -> {
          try {
            in.close();
          } catch (IOException e) {
            LOG.warn("closing the stdin of task '{}' failed: {}", taskId, e.toString());
          }
        });
  }

  /**
   * Runs the task as {@link #runContainer} does, as a pod that lives as long as its main process;
   * each step is an exec in its container (see {@link KubernetesSandbox}). A second call for the
   * same task returns the same sandbox while its pod is known.
   */
  @Override
  public Sandbox createSandbox(Task task) {
    if (task == null) {
      throw new IllegalArgumentException("task must not be null");
    }
    KubernetesContainer c = (KubernetesContainer) runContainer(task);
    String user = task.user().orElse(null);
    return c.sandbox(() -> new KubernetesSandbox(ctx, c, user, () -> closing));
  }

  @Override
  public Optional<Container> find(String taskId) {
    Names.requireText("task id", taskId);
    requireOpen();
    String podName = KubeNames.pod(ctx.namespace, taskId);
    synchronized (taskLocks[Math.floorMod(taskId.hashCode(), LOCK_STRIPES)]) {
      Pod pod = ctx.getPod(podName);
      if (pod == null) {
        return Optional.empty();
      }
      requireOurs(pod, taskId);
      return Optional.of(register(taskId, pod));
    }
  }

  @Override
  public Volume createVolume(String name, long sizeBytes) {
    Names.requireVolume(name, sizeBytes);
    requireOpen();
    return ensureClaim(name, sizeBytes, new ArrayList<>());
  }

  private KubernetesVolume ensureClaim(
      String name, long sizeBytes, List<KubernetesVolume> created) {
    String claim = KubeNames.claim(ctx.namespace, name);
    KubernetesVolume volume = new KubernetesVolume(ctx, name, claim);
    var claims = ctx.client.persistentVolumeClaims().inNamespace(ctx.settings.kubeNamespace());
    PersistentVolumeClaim existing =
        KubeContext.call("reading claim " + claim, () -> claims.withName(claim).get());
    if (existing != null) {
      requireOurClaim(existing, name);
      if (existing.getMetadata().getDeletionTimestamp() == null) {
        return volume;
      }
      awaitClaimGone(name, existing);
    }
    PersistentVolumeClaimBuilder spec =
        new PersistentVolumeClaimBuilder()
            .withNewMetadata()
            .withName(claim)
            .addToLabels(KubeNames.NAMESPACE_LABEL, ctx.namespaceLabel)
            .addToLabels(KubeNames.VOLUME_LABEL, KubeNames.labelValue(name))
            .addToAnnotations(KubeNames.NAMESPACE_ANNOTATION, ctx.namespace)
            .addToAnnotations(KubeNames.VOLUME_ANNOTATION, name)
            .endMetadata()
            .withNewSpec()
            .withAccessModes(ctx.settings.accessMode())
            .withStorageClassName(ctx.settings.storageClass().orElse(null))
            .withNewResources()
            .addToRequests(
                "storage",
                new Quantity(sizeBytes > 0 ? Long.toString(sizeBytes) : DEFAULT_CLAIM_SIZE))
            .endResources()
            .endSpec();
    try {
      claims.resource(spec.build()).create();
      created.add(volume);
      LOG.info("created claim {} for volume '{}' of namespace '{}'", claim, name, ctx.namespace);
    } catch (KubernetesClientException e) {
      KubeContext.rethrowInterruption("a call to the API server", e);
      if (e.getCode() != 409) {
        throw new OrchestraException(
            "creating claim "
                + claim
                + " for volume '"
                + name
                + "' of namespace '"
                + ctx.namespace
                + "' failed: the API server answered "
                + e.getCode()
                + ": "
                + e.getMessage(),
            e);
      }
      PersistentVolumeClaim other =
          KubeContext.call("reading claim " + claim, () -> claims.withName(claim).get());
      if (other != null) {
        requireOurClaim(other, name);
      }
    }
    return volume;
  }

  /**
   * Waits for a claim being deleted to go, so that it can be made anew: a claim with a {@code
   * deletionTimestamp} can never be mounted (a pod naming it stays Pending), and the
   * kubernetes.io/pvc-protection finalizer keeps it while any pod uses it. The wait is bounded by
   * the stop grace and a request timeout, time for the pods that used it to end and the controller
   * to release it; a claim still there then (a running pod uses it) is refused.
   *
   * @throws OrchestraException naming the volume when the claim is still being deleted
   */
  private void awaitClaimGone(String name, PersistentVolumeClaim deleting) {
    String claim = deleting.getMetadata().getName();
    String uid = deleting.getMetadata().getUid();
    Duration bound = ctx.settings.stopGrace().plus(ctx.settings.requestTimeout());
    LOG.info(
        "claim {} of volume '{}' of namespace '{}' is being deleted: waiting up to {} to make it"
            + " anew",
        claim,
        name,
        ctx.namespace,
        bound);
    var claims = ctx.client.persistentVolumeClaims().inNamespace(ctx.settings.kubeNamespace());
    PersistentVolumeClaim left =
        KubeContext.readWhilePresent(
            () -> KubeContext.call("reading claim " + claim, () -> claims.withName(claim).get()),
            now -> now != null && uid.equals(now.getMetadata().getUid()),
            bound,
            "waiting for claim " + claim + " to go");
    if (left != null) {
      throw new OrchestraException(
          "volume '"
              + name
              + "' of namespace '"
              + ctx.namespace
              + "' cannot be used: its claim "
              + claim
              + " has been deleted (deletionTimestamp "
              + deleting.getMetadata().getDeletionTimestamp()
              + ") and is still there after "
              + bound
              + ", kept by its finalizers "
              + left.getMetadata().getFinalizers()
              + " (a pod still uses it); the driver makes the volume anew once it is gone");
    }
  }

  private void requireOurClaim(PersistentVolumeClaim claim, String name) {
    Map<String, String> a = claim.getMetadata().getAnnotations();
    if (a == null
        || !ctx.namespace.equals(a.get(KubeNames.NAMESPACE_ANNOTATION))
        || !name.equals(a.get(KubeNames.VOLUME_ANNOTATION))) {
      throw new OrchestraException(
          "claim "
              + claim.getMetadata().getName()
              + " exists but is not the claim of volume '"
              + name
              + "' of namespace '"
              + ctx.namespace
              + "'; the driver leaves it alone");
    }
  }

  /**
   * Deletes the namespace's pods and claims, waits (bounded by {@link KubeContext#removalBound()})
   * for them to go, and stops the watch. Every call to the API server is bounded by the request
   * timeout; once one went unanswered the rest is not sent, as each would wait as long, so that
   * close() ends within a few request timeouts on a server that stopped answering. The driver is
   * closed in any case; what could not be done or confirmed is thrown afterwards as one {@link
   * OrchestraException} (a driver opened later on the namespace removes what is left).
   *
   * @throws OrchestraException naming what was not removed, or not confirmed removed
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closing = true;
    containers.values().forEach(KubernetesContainer::closing);
    List<RuntimeException> failures = new ArrayList<>();
    List<String> notTried = new ArrayList<>();
    String ns = ctx.settings.kubeNamespace();
    // each step rethrows an interruption: the rest is left to a later call
    closeStep(
        "deleting the pods of namespace '" + ctx.namespace + "'",
        () ->
            ctx.client
                .pods()
                .inNamespace(ns)
                .withLabel(KubeNames.NAMESPACE_LABEL, ctx.namespaceLabel)
                .withGracePeriod(ctx.settings.stopGrace().toSeconds())
                .delete(),
        failures,
        notTried);
    closeStep(
        "deleting the claims of namespace '" + ctx.namespace + "'",
        () ->
            ctx.client
                .persistentVolumeClaims()
                .inNamespace(ns)
                .withLabel(KubeNames.NAMESPACE_LABEL, ctx.namespaceLabel)
                .delete(),
        failures,
        notTried);
    if (stalled(failures)) {
      notTried.add("waiting for the pods and claims to go");
    } else {
      awaitRemoved(ns, failures);
    }
    containers.values().forEach(KubernetesContainer::forgetAfterClose);
    containers.clear();
    release(notTried);
    closed = true;
    if (!failures.isEmpty() || !notTried.isEmpty()) {
      OrchestraException e =
          new OrchestraException(
              "closing namespace '"
                  + ctx.namespace
                  + "' of the kubernetes driver could not confirm that nothing is left: "
                  + String.join("; ", failures.stream().map(Throwable::getMessage).toList())
                  + (notTried.isEmpty()
                      ? ""
                      : (failures.isEmpty() ? "" : "; ")
                          + "not tried once the API server stopped answering: "
                          + String.join(", ", notTried)));
      failures.forEach(e::addSuppressed);
      throw e;
    }
    LOG.info("kubernetes driver of namespace '{}' closed", ctx.namespace);
  }

  /** One call of close(), bounded; not sent once a call went unanswered. */
  private void closeStep(
      String what, Runnable call, List<RuntimeException> failures, List<String> notTried) {
    if (stalled(failures)) {
      notTried.add(what);
      return;
    }
    try {
      ctx.bounded(
          what,
          () -> {
            call.run();
            return null;
          });
    } catch (OrchestraInterruptedException e) {
      throw e;
    } catch (RuntimeException e) {
      LOG.warn("{}", e.getMessage());
      failures.add(e);
    }
  }

  private static boolean stalled(List<RuntimeException> failures) {
    return failures.stream().anyMatch(KubeContext::unanswered);
  }

  private void awaitRemoved(String ns, List<RuntimeException> failures) {
    long deadline = System.nanoTime() + ctx.removalBound().toNanos();
    try {
      int left;
      while ((left = remaining(ns)) > 0) {
        if (System.nanoTime() - deadline > 0) {
          failures.add(
              new OrchestraException(
                  left + " pods and claims still there after " + ctx.removalBound()));
          return;
        }
        KubeContext.sleep(Duration.ofMillis(200), "closing namespace '" + ctx.namespace + "'");
      }
    } catch (OrchestraInterruptedException e) {
      throw e;
    } catch (OrchestraException e) {
      LOG.warn("checking what is left of namespace '{}' failed: {}", ctx.namespace, e.getMessage());
      failures.add(e);
    }
  }

  /** Stops the watch and closes the client, each bounded: neither may hold close() up. */
  private void release(List<String> notTried) {
    boolean interrupted = Thread.interrupted();
    try {
      closeStep(
          "stopping the pod watch of namespace '" + ctx.namespace + "'",
          ctx.events::stop,
          new ArrayList<>(),
          notTried);
      closeStep(
          "closing the client of namespace '" + ctx.namespace + "'",
          ctx.client::close,
          new ArrayList<>(),
          notTried);
    } finally {
      // the sandbox steps' timers and recorded output: local, nothing to ask the server
      ctx.close();
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private int remaining(String ns) {
    return ctx.bounded(
        "listing what is left of namespace '" + ctx.namespace + "'", () -> count(ns));
  }

  private int count(String ns) {
    int pods =
        ctx.client
            .pods()
            .inNamespace(ns)
            .withLabel(KubeNames.NAMESPACE_LABEL, ctx.namespaceLabel)
            .list()
            .getItems()
            .size();
    int claims =
        ctx.client
            .persistentVolumeClaims()
            .inNamespace(ns)
            .withLabel(KubeNames.NAMESPACE_LABEL, ctx.namespaceLabel)
            .list()
            .getItems()
            .size();
    return pods + claims;
  }

  @Override
  public String toString() {
    return "kubernetes driver of namespace '"
        + ctx.namespace
        + "' at "
        + KubeNames.shown(ctx.client.getMasterUrl())
        + " ("
        + ctx.settings
        + ")";
  }
}
