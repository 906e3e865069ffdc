package dev.orchestra.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import dev.orchestra.OrchestraException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a failed {@code runContainer} left on an engine that did not answer in time, removed later
 * instead of at once: a clean-up sent right after a request timed out would most likely wait as
 * long again on the same stalled engine, and make the caller wait twice.
 *
 * <p>Each leftover is a task's container (by id when the create was answered and the start was not;
 * by name, when the create itself got no answer and may or may not have happened) or a volume
 * created for it. Removal is tried in the background on the driver's executor, after 1 second and
 * then at growing pauses up to 30 seconds, until the engine answers; before a new run of the same
 * task id by this driver instance, which fails clearly while the old container cannot be removed
 * (so that it never returns a container that was never started); and by {@link NamespaceRemoval}
 * with everything else of the namespace. A container found by name is removed only if it carries
 * the task's labels and never started.
 */
final class DeferredRemovals {

  private static final Logger LOG = LoggerFactory.getLogger(DeferredRemovals.class);

  private static final Duration FIRST_PAUSE = Duration.ofSeconds(1);
  private static final Duration LONGEST_PAUSE = Duration.ofSeconds(30);

  private final DockerNamespace namespace;

  /** The engine's client: the namespace's own, or in tests one that orders the engine's answers. */
  private final DockerClient api;

  /** The containers to remove, by container name (one per task id). */
  private final Map<String, Leftover> containers = new ConcurrentHashMap<>();

  /** The volumes to remove, by Docker name. */
  private final Map<String, Leftover> volumes = new ConcurrentHashMap<>();

  DeferredRemovals(DockerNamespace namespace) {
    this(namespace, namespace.api());
  }

  DeferredRemovals(DockerNamespace namespace, DockerClient api) {
    this.namespace = namespace;
    this.api = api;
  }

  /**
   * Removes a task's container later.
   *
   * @param name its name
   * @param taskId its task
   * @param containerId its id, or {@code null} when its create got no answer
   * @return a sentence for the caller's exception, saying what happens to it
   */
  String container(String name, String taskId, String containerId) {
    String what = "container " + name + " of " + namespace.describe(taskId);
    Leftover leftover = new Leftover(what, () -> removeContainer(name, taskId, containerId, what));
    containers.put(name, leftover);
    schedule(containers, name, leftover, FIRST_PAUSE);
    return "container "
        + name
        + (containerId == null ? ", if the engine created it," : "")
        + " is removed as soon as the engine answers again (and by close())";
  }

  /** Removes volumes created for a task that failed, later, unless another task uses them. */
  void volumes(List<String> dockerNames) {
    for (String dockerName : dockerNames) {
      Leftover leftover = new Leftover("volume " + dockerName, () -> removeVolume(dockerName));
      volumes.put(dockerName, leftover);
      schedule(volumes, dockerName, leftover, FIRST_PAUSE);
    }
  }

  /**
   * Before a new container of a task: removes the task's earlier container now, if it is still to
   * be removed.
   *
   * @throws OrchestraException if it cannot be removed yet, naming it and the engine's answer
   */
  void settle(String name) {
    Leftover leftover = containers.get(name);
    if (leftover == null) {
      return;
    }
    try {
      leftover.run();
      containers.remove(name, leftover);
    } catch (RuntimeException e) {
      throw new OrchestraException(
          "the "
              + leftover.what
              + ", whose start the engine did not answer in time, is not removed yet: "
              + EngineErrors.answer(e)
              + "; try again once the engine at "
              + namespace.describeEngine()
              + " answers",
          e);
    }
  }

  /** Whether a container is still to be removed. */
  boolean removingContainers() {
    return !containers.isEmpty();
  }

  /** The driver is closing: close() removes everything of the namespace itself. */
  void clear() {
    containers.clear();
    volumes.clear();
  }

  private void schedule(Map<String, Leftover> map, String key, Leftover leftover, Duration pause) {
    namespace.schedule(
        () -> {
          if (map.get(key) != leftover || namespace.isClosed()) {
            return;
          }
          try {
            boolean removed = leftover.run();
            map.remove(key, leftover);
            if (removed) {
              LOG.info("removed the {} once the engine answered again", leftover.what);
            }
          } catch (RuntimeException e) {
            Duration doubled = pause.multipliedBy(2);
            Duration next = doubled.compareTo(LONGEST_PAUSE) > 0 ? LONGEST_PAUSE : doubled;
            LOG.debug(
                "the {} is not removed yet ({}); trying again in {}",
                leftover.what,
                EngineErrors.answer(e),
                next);
            schedule(map, key, leftover, next);
          }
        },
        pause);
  }

  /** Removes a container; {@code false} if there was none to remove, or it is kept. */
  private boolean removeContainer(String name, String taskId, String containerId, String what) {
    if (containerId != null) {
      return ContainerRemoval.remove(api, containerId, what);
    }
    InspectContainerResponse found;
    try {
      found = api.inspectContainerCmd(name).exec();
    } catch (NotFoundException e) {
      LOG.debug("the engine never created {}", what);
      return false;
    } catch (RuntimeException e) {
      throw EngineErrors.failure("looking up " + what, e);
    }
    if (namespace.isTask(found, taskId) && ContainerCreation.unstarted(found)) {
      return ContainerRemoval.remove(api, found.getId(), what);
    }
    LOG.debug("keeping {}: another run holds its name now", what);
    return false;
  }

  /** Removes a volume; {@code false} if it was gone already, or is kept. */
  private boolean removeVolume(String dockerName) {
    // Looked at before the request, not after its answer: a container removed in between (most
    // likely the failed run's own, on another thread) may be what made the engine refuse.
    boolean containersPending = removingContainers();
    try {
      api.removeVolumeCmd(dockerName).exec();
      return true;
    } catch (NotFoundException e) {
      LOG.debug("volume {} is gone already", dockerName);
      return false;
    } catch (ConflictException e) {
      if (containersPending) {
        // Most likely in use by the failed task's container, still to be removed when asked.
        throw e;
      }
      LOG.debug("keeping volume {}: {}", dockerName, EngineErrors.answer(e));
      return false;
    } catch (RuntimeException e) {
      throw EngineErrors.failure("removing volume " + dockerName, e);
    }
  }

  /** One thing to remove; its attempts are serialised. */
  private static final class Leftover {
    final String what;
    private final BooleanSupplier attempt;

    Leftover(String what, BooleanSupplier attempt) {
      this.what = what;
      this.attempt = attempt;
    }

    /** {@code true} if it removed the leftover, {@code false} if there was none or it is kept. */
    synchronized boolean run() {
      return attempt.getAsBoolean();
    }
  }
}
