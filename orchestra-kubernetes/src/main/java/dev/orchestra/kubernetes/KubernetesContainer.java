package dev.orchestra.kubernetes;

import dev.orchestra.Container;
import dev.orchestra.ContainerNotFoundException;
import dev.orchestra.ContainerStatus;
import dev.orchestra.ExitReason;
import dev.orchestra.ImageNotFoundException;
import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.spi.Durations;
import dev.orchestra.spi.Exceptions;
import io.fabric8.kubernetes.api.model.ContainerState;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A task's pod, known by its name and its {@code metadata.uid}.
 *
 * <p>The exit code and reason come from the pod's status only: the {@code terminated} state of its
 * container. {@code OOMKilled} there reads {@link ExitReason#OOM_KILLED}; a pod ended by its {@code
 * activeDeadlineSeconds} (pod reason {@code DeadlineExceeded}) reads {@link ExitReason#TIMED_OUT},
 * or {@link ExitReason#STOPPED} when a driver asked it to stop (the {@value
 * KubeNames#STOPPED_ANNOTATION} annotation). Once done, the status is cached.
 */
final class KubernetesContainer implements Container {

  private static final Logger LOG = LoggerFactory.getLogger(KubernetesContainer.class);

  private final KubeContext ctx;
  private final String taskId;
  private final String podName;
  private final String uid;
  private final CompletableFuture<ContainerStatus> exit = new CompletableFuture<>();

  /** Completed with the pod that first showed the container running (or ended). */
  private final CompletableFuture<Pod> started = new CompletableFuture<>();

  private volatile ContainerStatus done;
  private volatile boolean stopRequested;
  private volatile boolean forgotten;

  /** The sandbox of this pod, if it is one; guarded by {@code this} when made. */
  private volatile KubernetesSandbox sandbox;

  KubernetesContainer(KubeContext ctx, String taskId, String podName, String uid) {
    this.ctx = ctx;
    this.taskId = taskId;
    this.podName = podName;
    this.uid = uid;
  }

  @Override
  public String id() {
    return podName;
  }

  String podName() {
    return podName;
  }

  String uid() {
    return uid;
  }

  String taskId() {
    return taskId;
  }

  boolean isForgotten() {
    return forgotten;
  }

  KubeContext context() {
    return ctx;
  }

  @Override
  public ContainerStatus status() {
    ContainerStatus d = done;
    if (d != null) {
      return d;
    }
    requireKnown();
    // the watch's copy first (no API call); a pod it does not hold (yet, or any more) is read
    Pod seen = ctx.events.cached(podName);
    if (seen != null && uid.equals(seen.getMetadata().getUid())) {
      return observed(seen);
    }
    return observed(currentPod());
  }

  /** The pod as the API server has it now; never another pod of the same name. */
  Pod currentPod() {
    Pod pod;
    try {
      pod = ctx.getPod(podName);
    } catch (KubernetesClientException e) {
      KubeContext.rethrowInterruption("a call to the API server", e);
      throw new OrchestraException(
          "reading pod " + podName + " of " + ctx.describe(taskId) + " failed: " + e.getMessage(),
          e);
    }
    if (pod == null || !uid.equals(pod.getMetadata().getUid())) {
      throw notFound(pod == null ? "was deleted" : "was replaced by another pod of that name");
    }
    return pod;
  }

  private void requireKnown() {
    if (forgotten) {
      throw new ContainerNotFoundException(
          taskId, "pod " + podName + " of " + ctx.describe(taskId) + " was cleaned up", null);
    }
  }

  ContainerNotFoundException notFound(String what) {
    return new ContainerNotFoundException(
        taskId,
        "pod "
            + podName
            + " (uid "
            + uid
            + ") of "
            + ctx.describe(taskId)
            + " "
            + what
            + " in Kubernetes namespace '"
            + ctx.settings.kubeNamespace()
            + "'",
        null);
  }

  /** Takes in the pod as seen by a read or the watch; returns the status it shows. */
  ContainerStatus observed(Pod pod) {
    if (!uid.equals(pod.getMetadata().getUid())) {
      return done != null ? done : ContainerStatus.running();
    }
    ContainerStatus now = statusOf(pod, stopRequested);
    RuntimeException refused = startFailure(pod);
    if (refused != null) {
      started.completeExceptionally(refused);
    } else if (hasStarted(pod)) {
      started.complete(pod);
    }
    if (now.isDone()) {
      synchronized (this) {
        if (done == null) {
          done = now;
          LOG.info(
              "pod {} of {} ended: exit {} ({})",
              podName,
              ctx.describe(taskId),
              now.exitCode(),
              now.reason());
        }
      }
      exit.complete(done);
      started.complete(pod);
      return done;
    }
    return now;
  }

  /** The pod of this container was deleted (seen by the watch). */
  void deleted(Pod pod) {
    if (!uid.equals(pod.getMetadata().getUid())) {
      return;
    }
    observed(pod);
    if (done == null) {
      ContainerNotFoundException e = notFound("was deleted before it ended");
      exit.completeExceptionally(e);
      started.completeExceptionally(e);
    }
  }

  /**
   * Why the kubelet cannot start the container, or null: an image it cannot pull ({@code
   * ErrImagePull}, {@code ImagePullBackOff}, {@code InvalidImageName}, {@code ErrImageNeverPull}),
   * a container it cannot create ({@code CreateContainerConfigError}, {@code CreateContainerError},
   * {@code RunContainerError}), or a process the runtime could not start (terminated with reason
   * {@code StartError} or {@code ContainerCannotRun}).
   */
  RuntimeException startFailure(Pod pod) {
    io.fabric8.kubernetes.api.model.ContainerStatus s = taskStatus(pod);
    if (s == null || s.getState() == null) {
      return null;
    }
    var waiting = s.getState().getWaiting();
    if (waiting != null && waiting.getReason() != null) {
      String what =
          waiting.getReason() + (waiting.getMessage() == null ? "" : ": " + waiting.getMessage());
      switch (waiting.getReason()) {
        case "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull" -> {
          return new ImageNotFoundException(
              image(pod),
              "the kubelet cannot pull image '"
                  + image(pod)
                  + "' of "
                  + ctx.describe(taskId)
                  + " (pod "
                  + podName
                  + "): "
                  + what,
              null);
        }
        case "CreateContainerConfigError", "CreateContainerError", "RunContainerError" -> {
          return new OrchestraException(
              "the kubelet cannot start pod "
                  + podName
                  + " of "
                  + ctx.describe(taskId)
                  + ": "
                  + what);
        }
        default -> {
          return null;
        }
      }
    }
    ContainerStateTerminated t = s.getState().getTerminated();
    if (t != null
        && ("StartError".equals(t.getReason()) || "ContainerCannotRun".equals(t.getReason()))) {
      return new OrchestraException(
          "the container runtime could not start pod "
              + podName
              + " of "
              + ctx.describe(taskId)
              + ": "
              + t.getReason()
              + (t.getMessage() == null ? "" : ": " + t.getMessage()));
    }
    return null;
  }

  private static String image(Pod pod) {
    return pod.getSpec() == null || pod.getSpec().getContainers() == null
        ? "?"
        : pod.getSpec().getContainers().stream()
            .filter(k -> KubeNames.CONTAINER.equals(k.getName()))
            .map(io.fabric8.kubernetes.api.model.Container::getImage)
            .findFirst()
            .orElse("?");
  }

  /**
   * Waits until the container runs (or has ended), at most {@code bound}.
   *
   * @throws ImageNotFoundException or {@link OrchestraException} when the kubelet cannot start it
   */
  void awaitStart(Duration bound) {
    boolean ended = waitChecking(CompletableFuture.anyOf(started, exit), bound, "to start");
    if (!ended) {
      throw new OrchestraException(
          "pod "
              + podName
              + " of "
              + ctx.describe(taskId)
              + " did not start within "
              + bound
              + " (the driver's parameter startTimeout): still pending, not scheduled or its image"
              + " not pulled");
    }
    if (started.isCompletedExceptionally()) {
      try {
        started.join();
      } catch (java.util.concurrent.CompletionException e) {
        throw Exceptions.launder("starting pod " + podName + " of " + ctx.describe(taskId), e);
      }
    }
  }

  /**
   * Waits for {@code future}, at most {@code bound}, answering interruption. Every request timeout
   * without news from the watch it reads the pod once from the API server: a missed event cannot
   * make it wait for nothing, and a server that stopped answering fails the wait within a request
   * timeout or two instead of the whole bound.
   *
   * @return whether the future completed (normally or not) within the bound
   */
  private boolean waitChecking(CompletableFuture<?> future, Duration bound, String what) {
    long deadline = System.nanoTime() + Durations.saturatedNanos(bound);
    long step = ctx.settings.requestTimeout().toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return future.isDone();
      }
      try {
        future.get(Math.min(left, step), TimeUnit.NANOSECONDS);
        return true;
      } catch (TimeoutException e) {
        if (done == null) {
          observed(currentPod());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new OrchestraInterruptedException(
            "waiting for pod "
                + podName
                + " of "
                + ctx.describe(taskId)
                + " "
                + what
                + " was interrupted",
            e);
      } catch (java.util.concurrent.ExecutionException e) {
        return true;
      }
    }
  }

  static boolean hasStarted(Pod pod) {
    io.fabric8.kubernetes.api.model.ContainerStatus s = taskStatus(pod);
    return s != null
        && s.getState() != null
        && (s.getState().getRunning() != null || s.getState().getTerminated() != null);
  }

  static io.fabric8.kubernetes.api.model.ContainerStatus taskStatus(Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
      return null;
    }
    return pod.getStatus().getContainerStatuses().stream()
        .filter(s -> KubeNames.CONTAINER.equals(s.getName()))
        .findFirst()
        .orElse(null);
  }

  /**
   * The status a pod shows: done only once its container has a {@code terminated} state (a pod that
   * failed without one, such as one whose deadline passed during its image pull, stays running
   * until the kubelet writes one).
   */
  static dev.orchestra.ContainerStatus statusOf(Pod pod, boolean stopRequested) {
    io.fabric8.kubernetes.api.model.ContainerStatus s = taskStatus(pod);
    ContainerState state = s == null ? null : s.getState();
    ContainerStateTerminated t = state == null ? null : state.getTerminated();
    if (t == null) {
      return dev.orchestra.ContainerStatus.running();
    }
    int code = t.getExitCode() == null ? 255 : t.getExitCode() & 0xff;
    boolean stopped =
        stopRequested
            || "true"
                .equals(
                    pod.getMetadata().getAnnotations() == null
                        ? null
                        : pod.getMetadata().getAnnotations().get(KubeNames.STOPPED_ANNOTATION));
    String podReason = pod.getStatus().getReason();
    if ("OOMKilled".equals(t.getReason())) {
      return dev.orchestra.ContainerStatus.done(code, ExitReason.OOM_KILLED);
    }
    if (stopped) {
      return dev.orchestra.ContainerStatus.done(code, ExitReason.STOPPED);
    }
    if ("DeadlineExceeded".equals(podReason)) {
      return dev.orchestra.ContainerStatus.done(code, ExitReason.TIMED_OUT);
    }
    return dev.orchestra.ContainerStatus.exited(code);
  }

  @Override
  public CompletableFuture<dev.orchestra.ContainerStatus> onExit() {
    return exit;
  }

  /** Completed once the container has run (or ended), exceptionally when its pod was deleted. */
  CompletableFuture<Pod> started() {
    return started;
  }

  @Override
  public void logs(OutputStream stdout, OutputStream stderr) {
    Objects.requireNonNull(stdout, "stdout");
    Objects.requireNonNull(stderr, "stderr");
    requireKnown();
    PodLogs.copy(this, stdout, stderr, false);
  }

  @Override
  public void follow(OutputStream stdout, OutputStream stderr) {
    Objects.requireNonNull(stdout, "stdout");
    Objects.requireNonNull(stderr, "stderr");
    requireKnown();
    PodLogs.copy(this, stdout, stderr, true);
  }

  @Override
  public dev.orchestra.ContainerStatus stop(Duration grace) {
    if (grace == null || grace.isNegative()) {
      throw new IllegalArgumentException(
          "grace of stop() of " + ctx.describe(taskId) + " must be zero or positive, was " + grace);
    }
    try {
      dev.orchestra.ContainerStatus now = status();
      if (now.isDone()) {
        return now;
      }
      requestStop();
    } catch (OrchestraInterruptedException e) {
      // interrupted before the stop was asked for (a server that answers slowly): the task was
      // asked to stop, so it ends all the same
      stopAfterInterrupt();
      throw e;
    }
    return awaitEnd(ctx.removalBound());
  }

  /** Asks for the stop after the stopping thread was interrupted; the flag is cleared meanwhile. */
  private void stopAfterInterrupt() {
    KubeContext.uninterrupted(
        () -> {
          try {
            requestStop();
          } catch (RuntimeException e) {
            LOG.warn(
                "stopping pod {} of {} after an interrupted stop failed: {}",
                podName,
                ctx.describe(taskId),
                e.getMessage());
          }
        });
  }

  /**
   * The container runs: shortens the pod's deadline to the task's timeout from now on ({@link
   * PodSpecs#pod}), from the starts the pod that showed it running holds. A failure leaves the
   * longer deadline of the create, with a warning.
   */
  void shortenDeadlineAfterStart(Duration timeout) {
    Pod pod = started.isCompletedExceptionally() ? null : started.getNow(null);
    if (pod == null || stopRequested) {
      return;
    }
    Long deadline = PodSpecs.deadlineAfterStart(pod, timeout);
    Long now = pod.getSpec() == null ? null : pod.getSpec().getActiveDeadlineSeconds();
    if (deadline == null || (now != null && deadline >= now)) {
      return;
    }
    String patch =
        "{\"metadata\":{\"uid\":\""
            + uid
            + "\"},\"spec\":{\"activeDeadlineSeconds\":"
            + deadline
            + "}}";
    try {
      ctx.pod(podName).patch(PatchContext.of(PatchType.JSON_MERGE), patch);
      LOG.debug(
          "pod {} of {}: deadline {} s from its start", podName, ctx.describe(taskId), deadline);
    } catch (KubernetesClientException e) {
      KubeContext.rethrowInterruption("a call to the API server", e);
      LOG.warn(
          "shortening the deadline of pod {} of {} to {} s failed, it keeps {} s: {}",
          podName,
          ctx.describe(taskId),
          deadline,
          now,
          e.getMessage());
    }
  }

  /**
   * Asks the kubelet to end the task and keep its status and logs: {@code activeDeadlineSeconds}
   * shortened to 1 (a deadline may only be shortened), and the {@value
   * KubeNames#STOPPED_ANNOTATION} annotation, in one merge patch. The kubelet then sends SIGTERM
   * and, after the pod's {@code terminationGracePeriodSeconds}, SIGKILL.
   */
  void requestStop() {
    stopRequested = true;
    String patch =
        "{\"metadata\":{\"annotations\":{\""
            + KubeNames.STOPPED_ANNOTATION
            + "\":\"true\"},\"uid\":\""
            + uid
            + "\"},\"spec\":{\"activeDeadlineSeconds\":1}}";
    try {
      ctx.pod(podName).patch(PatchContext.of(PatchType.JSON_MERGE), patch);
      LOG.debug("asked pod {} of {} to stop", podName, ctx.describe(taskId));
    } catch (KubernetesClientException e) {
      KubeContext.rethrowInterruption("a call to the API server", e);
      if (e.getCode() == 404 || e.getCode() == 409) {
        throw notFound("is gone");
      }
      throw new OrchestraException(
          "stopping pod " + podName + " of " + ctx.describe(taskId) + " failed: " + e.getMessage(),
          e);
    }
  }

  /**
   * Whether the task is done, waiting for the watch at most {@code bound}.
   *
   * @throws OrchestraInterruptedException if interrupted
   */
  boolean endsWithin(Duration bound) {
    waitChecking(exit, bound, "to end");
    return exit.isDone();
  }

  /** Waits for the end, at most {@code bound}, answering interruption. */
  dev.orchestra.ContainerStatus awaitEnd(Duration bound) {
    waitChecking(exit, bound, "to end");
    if (exit.isDone()) {
      try {
        return exit.join();
      } catch (java.util.concurrent.CompletionException e) {
        throw Exceptions.launder("waiting for pod " + podName + " of " + ctx.describe(taskId), e);
      }
    }
    throw new OrchestraException(
        "pod "
            + podName
            + " of "
            + ctx.describe(taskId)
            + " did not end within "
            + bound
            + " after it was asked to stop");
  }

  /**
   * The sandbox of this task's pod, made once: {@link KubernetesDriver#createSandbox} of the same
   * task returns it again.
   */
  synchronized KubernetesSandbox sandbox(java.util.function.Supplier<KubernetesSandbox> make) {
    if (sandbox == null) {
      sandbox = make.get();
    }
    return sandbox;
  }

  @Override
  public void cleanup() {
    if (forgotten) {
      return;
    }
    KubernetesSandbox box = sandbox;
    if (box != null) {
      box.beginRemoval();
    }
    // A task that still runs ends because the driver asked: the end the watch may see before the
    // pod goes reads STOPPED, as after stop().
    stopRequested = true;
    try {
      ctx.pod(podName).withGracePeriod(ctx.settings.stopGrace().toSeconds()).delete();
    } catch (KubernetesClientException e) {
      KubeContext.rethrowInterruption("a call to the API server", e);
      if (e.getCode() != 404) {
        throw new OrchestraException(
            "deleting pod "
                + podName
                + " of "
                + ctx.describe(taskId)
                + " failed: "
                + e.getMessage(),
            e);
      }
    }
    awaitGone();
    forgotten = true;
    ctx.events.forget(this);
    if (done == null) {
      exit.completeExceptionally(notFound("was cleaned up before it ended"));
    }
    if (box != null) {
      box.finishRemoval();
    }
    LOG.info("removed pod {} of {}", podName, ctx.describe(taskId));
  }

  private void awaitGone() {
    long deadline = System.nanoTime() + ctx.removalBound().toNanos();
    Duration pause = Duration.ofMillis(50);
    while (true) {
      Pod pod = ctx.getPod(podName);
      if (pod == null || !uid.equals(pod.getMetadata().getUid())) {
        return;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new OrchestraException(
            "pod "
                + podName
                + " of "
                + ctx.describe(taskId)
                + " was still there "
                + ctx.removalBound()
                + " after it was deleted");
      }
      KubeContext.sleep(pause, "waiting for pod " + podName + " to go");
      pause =
          pause.multipliedBy(2).compareTo(Duration.ofSeconds(1)) > 0
              ? Duration.ofSeconds(1)
              : pause.multipliedBy(2);
    }
  }

  /** The driver closes: the steps of this pod's sandbox, if any, now end as stopped. */
  void closing() {
    KubernetesSandbox box = sandbox;
    if (box != null) {
      box.beginRemoval();
    }
  }

  void forgetAfterClose() {
    forgotten = true;
    KubernetesSandbox box = sandbox;
    if (box != null) {
      box.beginRemoval();
      box.finishRemoval();
    }
    if (done == null) {
      exit.completeExceptionally(notFound("was removed when its driver closed"));
    }
  }

  @Override
  public String toString() {
    return "pod " + podName + " of " + ctx.describe(taskId);
  }

  static Map<String, String> annotations(Pod pod) {
    Map<String, String> a = pod.getMetadata().getAnnotations();
    return a == null ? Map.of() : a;
  }
}
