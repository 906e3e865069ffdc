package dev.orchestra.docker;

import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Sandbox;
import dev.orchestra.Task;
import dev.orchestra.spi.Exceptions;
import dev.orchestra.spi.Steps;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A sandbox of the Docker driver: a container kept alive by its main process, in which each step is
 * an exec ({@link DockerStep}) in the sandbox's task directory.
 *
 * <p>A step runs in the task directory (or its {@code workDir} inside it, created if missing), with
 * the container's environment plus its own (the engine merges them, the step's value wins), as the
 * step's user or the sandbox's, with its own standard input, and its output recorded on the
 * client's disk. Steps are known to the driver instance that started them: another instance that
 * finds the sandbox's container sees its main process, not its steps.
 */
final class DockerSandbox implements Sandbox {

  private static final Logger LOG = LoggerFactory.getLogger(DockerSandbox.class);

  private final DockerNamespace namespace;
  private final DockerContainer main;
  private final String taskDir;
  private final ConcurrentHashMap<String, DockerStep> steps = new ConcurrentHashMap<>();

  /** Serialises the start of new steps, so that a step id starts once. */
  private final Object starting = new Object();

  /** Shared by exec, which starts steps; exclusive for removal, which ends them all. */
  private final ReadWriteLock lock = new ReentrantReadWriteLock();

  /** Set once removal began; guarded by {@link #lock}. */
  private boolean removed;

  DockerSandbox(DockerNamespace namespace, DockerContainer main, String taskDir) {
    this.namespace = namespace;
    this.main = main;
    this.taskDir = taskDir;
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
    Lock shared = lock.readLock();
    try {
      shared.lockInterruptibly();
    } catch (InterruptedException e) {
      throw Exceptions.launder("starting " + describeStep(step.id()), e);
    }
    try {
      if (removed || namespace.isClosed()) {
        throw new IllegalStateException(
            "starting "
                + describeStep(step.id())
                + " failed: the sandbox was closed"
                + (namespace.isClosed() ? " with its driver" : ""));
      }
      synchronized (starting) {
        DockerStep existing = steps.get(step.id());
        if (existing != null) {
          LOG.debug("{} exists: exec {}", describeStep(step.id()), existing.id());
          closeStdin(step);
          return existing;
        }
        ContainerStatus status = main.status();
        if (status.isDone()) {
          closeStdin(step);
          throw new IllegalStateException(
              "starting "
                  + describeStep(step.id())
                  + " failed: the sandbox has ended, its main process ended "
                  + status);
        }
        DockerStep started = DockerStep.start(this, step);
        steps.put(step.id(), started);
        return started;
      }
    } finally {
      shared.unlock();
    }
  }

  /** The same as {@code container().cleanup()}: steps, main process and task directory go. */
  @Override
  public void close() {
    main.cleanup();
  }

  @Override
  public String toString() {
    return "DockerSandbox[" + main + ", " + steps.size() + " step(s)]";
  }

  // ---- used by the main container, the driver and the steps

  DockerNamespace namespace() {
    return namespace;
  }

  DockerContainer main() {
    return main;
  }

  String taskDir() {
    return taskDir;
  }

  String describeStep(String stepId) {
    return "step '"
        + stepId
        + "' of sandbox '"
        + main.taskId()
        + "' in namespace '"
        + namespace.name()
        + "'";
  }

  /**
   * Refuses new steps from now on, and tells the running ones that their end is a stop: their
   * container is about to be removed. Waits for steps being started.
   */
  void beginRemoval() {
    Lock exclusive = lock.writeLock();
    exclusive.lock();
    try {
      removed = true;
      steps.values().forEach(DockerStep::sandboxRemoving);
    } finally {
      exclusive.unlock();
    }
  }

  /** The container is gone: deletes the steps' recorded output and forgets them. */
  void finishRemoval() {
    List<DockerStep> all = List.copyOf(steps.values());
    all.forEach(DockerStep::discard);
    steps.clear();
    namespace.forget(this);
    LOG.debug("removed sandbox '{}' and {} step(s)", main.taskId(), all.size());
  }

  /** A step was cleaned up: its id is free again. */
  void forget(DockerStep step) {
    steps.remove(step.stepId(), step);
  }

  private void closeStdin(Task step) {
    step.stdin()
        .ifPresent(
            in -> {
              try {
                in.close();
              } catch (IOException e) {
                LOG.warn(
                    "closing the stdin stream of {} failed: {}",
                    describeStep(step.id()),
                    e.toString());
              }
            });
  }
}
