package dev.orchestra.docker;

import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import dev.orchestra.OrchestraException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
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

  /** The containers to remove, by container name (one per task id). */
  private final Map<String, Leftover> containers = new ConcurrentHashMap<>();

  /** The volumes to remove, by Docker name. */
  private final Map<String, Leftover> volumes = new ConcurrentHashMap<>();

  DeferredRemovals(DockerNamespace namespace) {
    this.namespace = namespace;
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
            leftover.run();
            map.remove(key, leftover);
            LOG.info("removed the {} once the engine answered again", leftover.what);
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

  private void removeContainer(String name, String taskId, String containerId, String what) {
    if (containerId != null) {
      ContainerRemoval.remove(namespace.api(), containerId, what);
      return;
    }
    InspectContainerResponse found;
    try {
      found = namespace.api().inspectContainerCmd(name).exec();
    } catch (NotFoundException e) {
      LOG.debug("the engine never created {}", what);
      return;
    } catch (RuntimeException e) {
      throw EngineErrors.failure("looking up " + what, e);
    }
    if (namespace.isTask(found, taskId) && ContainerCreation.unstarted(found)) {
      ContainerRemoval.remove(namespace.api(), found.getId(), what);
    } else {
      LOG.debug("keeping {}: another run holds its name now", what);
    }
  }

  private void removeVolume(String dockerName) {
    try {
      namespace.api().removeVolumeCmd(dockerName).exec();
    } catch (NotFoundException e) {
      LOG.debug("volume {} is gone already", dockerName);
    } catch (ConflictException e) {
      if (!containers.isEmpty()) {
        // Most likely in use by the failed task's container, which is still to be removed.
        throw e;
      }
      LOG.debug("keeping volume {}: {}", dockerName, EngineErrors.answer(e));
    } catch (RuntimeException e) {
      throw EngineErrors.failure("removing volume " + dockerName, e);
    }
  }

  /** One thing to remove; its attempts are serialised. */
  private static final class Leftover {
    final String what;
    private final Runnable attempt;

    Leftover(String what, Runnable attempt) {
      this.what = what;
      this.attempt = attempt;
    }

    synchronized void run() {
      attempt.run();
    }
  }
}
