package dev.orchestra.kubernetes;

import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Sandbox;
import dev.orchestra.Task;
import dev.orchestra.spi.Exceptions;
import dev.orchestra.spi.Steps;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A sandbox of the Kubernetes driver: the pod of its task, kept alive by its main process, in which
 * each step is an exec ({@link KubernetesStep}) in the task directory.
 *
 * <p>Steps are known to the driver instance that started them: another instance that finds the
 * sandbox's pod sees its main process, not its steps. A step runs as the sandbox's user: an exec
 * cannot choose another, so a step naming another user is refused.
 */
final class KubernetesSandbox implements Sandbox {

  private static final Logger LOG = LoggerFactory.getLogger(KubernetesSandbox.class);

  private final KubeContext ctx;
  private final KubernetesContainer main;
  private final String user;
  private final BooleanSupplier driverClosed;
  private final ConcurrentHashMap<String, KubernetesStep> steps = new ConcurrentHashMap<>();

  /** Serialises the start of new steps, so that a step id starts once. */
  private final Object starting = new Object();

  /** Shared by exec, which starts steps; exclusive for removal, which ends them all. */
  private final ReadWriteLock lock = new ReentrantReadWriteLock();

  /** Set once removal began; guarded by {@link #lock}. */
  private boolean removed;

  KubernetesSandbox(
      KubeContext ctx, KubernetesContainer main, String user, BooleanSupplier driverClosed) {
    this.ctx = ctx;
    this.main = main;
    this.user = user;
    this.driverClosed = driverClosed;
  }

  @Override
  public Container container() {
    return main;
  }

  /**
   * Starts the step, or returns it if a step of that id runs or ran here and was not cleaned up.
   */
  @Override
  public Container exec(Task step) {
    Steps.requireStep(step);
    step.user()
        .filter(u -> !Objects.equals(u, user))
        .ifPresent(
            u -> {
              KubernetesStep.closeQuietly(step.stdin().orElse(null), describeStep(step.id()));
              throw new IllegalArgumentException(
                  "user of "
                      + describeStep(step.id())
                      + " is '"
                      + u
                      + "': a Kubernetes exec runs as its container's user ("
                      + (user == null ? "the image's" : "'" + user + "'")
                      + ") and cannot choose another");
            });
    Lock shared = lock.readLock();
    try {
      shared.lockInterruptibly();
    } catch (InterruptedException e) {
      throw Exceptions.launder("starting " + describeStep(step.id()), e);
    }
    try {
      boolean closedDriver = driverClosed.getAsBoolean();
      if (removed || closedDriver || main.isForgotten()) {
        KubernetesStep.closeQuietly(step.stdin().orElse(null), describeStep(step.id()));
        throw new IllegalStateException(
            "starting "
                + describeStep(step.id())
                + " failed: the sandbox was closed"
                + (closedDriver ? " with its driver" : ""));
      }
      synchronized (starting) {
        KubernetesStep existing = steps.get(step.id());
        if (existing != null) {
          KubernetesStep.closeQuietly(step.stdin().orElse(null), describeStep(step.id()));
          return existing;
        }
        ContainerStatus status = main.status();
        if (status.isDone()) {
          KubernetesStep.closeQuietly(step.stdin().orElse(null), describeStep(step.id()));
          throw new IllegalStateException(
              "starting "
                  + describeStep(step.id())
                  + " failed: the sandbox has ended, its main process ended "
                  + status);
        }
        KubernetesStep started = KubernetesStep.start(this, step);
        steps.put(step.id(), started);
        return started;
      }
    } finally {
      shared.unlock();
    }
  }

  /** The same as {@code container().cleanup()}: steps, pod and task directory go. */
  @Override
  public void close() {
    main.cleanup();
  }

  @Override
  public String toString() {
    return "KubernetesSandbox[" + main + ", " + steps.size() + " step(s)]";
  }

  // ---- used by the main container and the steps

  KubeContext context() {
    return ctx;
  }

  KubernetesContainer main() {
    return main;
  }

  String describeStep(String stepId) {
    return "step '"
        + stepId
        + "' of sandbox '"
        + main.taskId()
        + "' in namespace '"
        + ctx.namespace
        + "'";
  }

  /**
   * Refuses new steps from now on, and tells the running ones that their end is a stop: their pod
   * is about to be removed. Waits for steps being started.
   */
  void beginRemoval() {
    Lock exclusive = lock.writeLock();
    exclusive.lock();
    try {
      removed = true;
      steps.values().forEach(KubernetesStep::sandboxRemoving);
    } finally {
      exclusive.unlock();
    }
  }

  /** The pod is gone: deletes the steps' recorded output and forgets them. */
  void finishRemoval() {
    List<KubernetesStep> all = List.copyOf(steps.values());
    all.forEach(KubernetesStep::discard);
    steps.clear();
    LOG.debug("removed sandbox '{}' and {} step(s)", main.taskId(), all.size());
  }

  /** A step was cleaned up: its id is free again. */
  void forget(KubernetesStep step) {
    steps.remove(step.stepId(), step);
  }
}
