package dev.orchestra.docker;

import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.command.CreateContainerResponse;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.MountType;
import com.github.dockerjava.api.model.VolumeOptions;
import dev.orchestra.ContainerLimits;
import dev.orchestra.ImageNotFoundException;
import dev.orchestra.Mount;
import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.Task;
import dev.orchestra.spi.Durations;
import dev.orchestra.spi.TaskPaths;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The creation and start of a task's container, idempotent by task id: across threads (a lock per
 * task id) and across driver instances (the engine's name conflict, 409, finds the task's existing
 * container, which is returned). A missing image (404) is pulled as the {@link ImagePuller} says,
 * and the create sent again. A create or start that fails leaves nothing behind: not the container,
 * not the volumes created for it; what a request the engine did not answer in time may have left
 * goes to {@link DeferredRemovals}, and after an interrupted create the name is settled so that no
 * unstarted container of the call can appear later.
 *
 * <p>How the container is set up (the task directory, the cleared entrypoint, the init process, the
 * log driver the engine offers, {@link EngineFlavour#logConfig()}) and why is described in {@code
 * docs/drivers/docker.md}; stdin is attached before the start ({@link
 * DockerConnection#attachStdin}).
 */
final class ContainerCreation {

  private static final Logger LOG = LoggerFactory.getLogger(ContainerCreation.class);

  /** Where task directories live inside containers. */
  private static final String TASK_ROOT = "/tmp/orchestra";

  private static final int LOCK_STRIPES = 64;

  private final DockerNamespace namespace;
  private final ImagePuller images;
  private final DockerVolumes volumes;
  private final DeferredRemovals deferred;
  private final Object[] taskLocks = new Object[LOCK_STRIPES];

  ContainerCreation(
      DockerNamespace namespace,
      ImagePuller images,
      DockerVolumes volumes,
      DeferredRemovals deferred) {
    this.namespace = namespace;
    this.images = images;
    this.volumes = volumes;
    this.deferred = deferred;
    for (int i = 0; i < taskLocks.length; i++) {
      taskLocks[i] = new Object();
    }
  }

  /** The task directory inside the container of that name: its default working directory. */
  static String taskDir(String containerName) {
    return TASK_ROOT + "/" + containerName;
  }

  /**
   * Creates and starts the task's container, or returns the container of the task if it exists. The
   * task's stdin stream is closed unless it was handed to the engine.
   *
   * @throws IllegalStateException if the driver is closed
   */
  DockerContainer run(Task task) {
    try {
      return createOrFind(task);
    } catch (RuntimeException e) {
      // The caller's stdin stream is ours to close, delivered or not.
      closeQuietly(task.stdin(), task.id());
      throw e;
    }
  }

  private DockerContainer createOrFind(Task task) {
    namespace.requireOpen();
    String taskId = task.id();
    String image =
        task.image()
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "task '"
                            + taskId
                            + "' has no image; the docker driver runs every task in one"));
    String name = DockerNames.of(namespace.name(), taskId);
    String taskDir = taskDir(name);
    String workDir =
        task.workDir().map(w -> TaskPaths.resolve(taskDir, "workDir", w)).orElse(taskDir);
    HostConfig hostConfig = hostConfig(task, taskDir);
    synchronized (taskLocks[Math.floorMod(taskId.hashCode(), LOCK_STRIPES)]) {
      // Create first: a known task is found by the name conflict, a missing image by the engine's
      // 404 (then pulled as the policy says), so a new task costs no lookups before its create.
      // Only pull=always looks first, so as not to pull for a task that exists already.
      if (images.pullsFirst()) {
        Optional<DockerContainer> existing = lookup(name, taskId);
        if (existing.isPresent()) {
          LOG.debug("{} already has container {}", namespace.describe(taskId), name);
          closeQuietly(task.stdin(), taskId);
          return existing.get();
        }
        images.ensure(image, namespace.describe(taskId));
      }
      deferred.settle(name);
      List<String> newVolumes = volumes.ensure(task.mounts());
      try {
        return createAndStart(task, name, image, workDir, hostConfig);
      } catch (RuntimeException e) {
        volumes.removeAfterFailure(newVolumes, e);
        throw e;
      }
    }
  }

  private HostConfig hostConfig(Task task, String taskDir) {
    List<com.github.dockerjava.api.model.Mount> mounts = new ArrayList<>();
    for (Mount m : task.mounts()) {
      mounts.add(
          new com.github.dockerjava.api.model.Mount()
              .withType(MountType.VOLUME)
              .withSource(DockerNames.of(namespace.name(), m.name()))
              .withTarget(TaskPaths.resolve(taskDir, "mount path", m.path()))
              // Should the engine have to create the volume itself (another driver instance
              // removed it meanwhile), it still carries the labels close() looks for.
              .withVolumeOptions(new VolumeOptions().withLabels(volumes.labels(m.name()))));
    }
    ContainerLimits limits = task.limits();
    if (limits.cpuShares() > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "cpuShares of task '"
              + task.id()
              + "' must be at most "
              + Integer.MAX_VALUE
              + " for Docker, was "
              + limits.cpuShares());
    }
    HostConfig hostConfig =
        HostConfig.newHostConfig()
            .withMounts(mounts)
            .withPrivileged(task.privileged())
            .withInit(true)
            .withLogConfig(namespace.connection().flavour().logConfig());
    if (limits.cpuShares() > 0) {
      hostConfig.withCpuShares((int) limits.cpuShares());
    }
    if (limits.memoryBytes() > 0) {
      hostConfig.withMemory(limits.memoryBytes());
    }
    return hostConfig;
  }

  /**
   * The task's container if it exists and has been started. One that was created and never started
   * is returned once it starts: its creator, another thread or driver instance, starts it in a
   * moment. One that stays unstarted for {@link ContainerRemoval#PATIENCE} was abandoned (its
   * creator was cut off between create and start, and could not remove it): it is removed, and the
   * caller creates the task's container anew.
   *
   * @throws OrchestraException if a container that is not the task's holds its name
   */
  private Optional<DockerContainer> lookup(String name, String taskId) {
    Pause pause = null;
    InspectContainerResponse found;
    while (true) {
      found = inspect(name, taskId);
      if (found == null) {
        return Optional.empty();
      }
      requireTasks(found, name, taskId);
      if (!unstarted(found)) {
        return Optional.of(namespace.adopt(found, taskId, name));
      }
      if (pause == null) {
        LOG.debug(
            "container {} of {} exists and was not started yet: waiting for it to start",
            name,
            namespace.describe(taskId));
        pause =
            new Pause(
                "waiting for container " + name + " of " + namespace.describe(taskId) + " to start",
                ContainerRemoval.PATIENCE);
      }
      if (!pause.again()) {
        break;
      }
    }
    LOG.warn(
        "container {} of {} was created and not started within {}: removing it to create it anew",
        name,
        namespace.describe(taskId),
        ContainerRemoval.PATIENCE);
    ContainerRemoval.remove(
        namespace.api(),
        found.getId(),
        "container " + name + " of " + namespace.describe(taskId) + " that was never started");
    return Optional.empty();
  }

  /** Whether the engine created the container and nobody started it yet (nor failed to). */
  static boolean unstarted(InspectContainerResponse found) {
    InspectContainerResponse.ContainerState state = found.getState();
    return state != null
        && "created".equals(state.getStatus())
        && (state.getError() == null || state.getError().isBlank());
  }

  /** The container that holds the name, or null if none does. */
  private InspectContainerResponse inspect(String name, String taskId) {
    try {
      LOG.debug("inspecting container {} of {}", name, namespace.describe(taskId));
      return namespace.api().inspectContainerCmd(name).exec();
    } catch (NotFoundException e) {
      return null;
    } catch (RuntimeException e) {
      throw EngineErrors.failure(
          "looking up container " + name + " of " + namespace.describe(taskId), e);
    }
  }

  private void requireTasks(InspectContainerResponse found, String name, String taskId) {
    if (!namespace.isTask(found, taskId)) {
      throw new OrchestraException(
          "the container name "
              + name
              + " of "
              + namespace.describe(taskId)
              + " is taken by container "
              + found.getId()
              + ", which belongs to "
              + Labels.owner(Labels.of(found), Labels.TASK_ID)
              + "; remove that container or use another namespace");
    }
  }

  private DockerContainer createAndStart(
      Task task, String name, String image, String workDir, HostConfig hostConfig) {
    String taskId = task.id();
    Optional<InputStream> stdin = task.stdin();
    String containerId = null;
    Pause pause = null;
    boolean pulled = false;
    while (containerId == null) {
      CreateContainerCmd create = createCommand(task, name, image, workDir, hostConfig);
      try {
        LOG.debug(
            "creating container {} for {} from image {}", name, namespace.describe(taskId), image);
        CreateContainerResponse created = create.exec();
        containerId = created.getId();
        if (created.getWarnings() != null) {
          for (String warning : created.getWarnings()) {
            LOG.warn(
                "the engine warns about container {} of {}: {}",
                name,
                namespace.describe(taskId),
                warning);
          }
        }
      } catch (ConflictException e) {
        // Another thread or driver instance holds the name: its container is this task's.
        Optional<DockerContainer> existing = lookup(name, taskId);
        if (existing.isPresent()) {
          closeQuietly(stdin, taskId);
          return existing.get();
        }
        // The engine reserves the name before the container can be inspected, and the holder
        // may be removed meanwhile: after a short pause, create (or find) it again. The patience
        // counts from the first lookup's end, which waits for an unstarted container.
        if (pause == null) {
          pause = new Pause("creating container " + name, ContainerRemoval.PATIENCE);
        }
        LOG.debug("container {} is not there yet after a name conflict; trying again", name);
        if (!pause.again()) {
          throw EngineErrors.failure(
              "creating container " + name + " for " + namespace.describe(taskId), e);
        }
      } catch (NotFoundException e) {
        Optional<DockerContainer> existing = lookup(name, taskId);
        if (existing.isPresent()) {
          closeQuietly(stdin, taskId);
          return existing.get();
        }
        if (!pulled) {
          LOG.debug("the engine has no image {} for {}", image, namespace.describe(taskId));
          images.missing(image, namespace.describe(taskId));
          pulled = true;
          continue;
        }
        throw new ImageNotFoundException(
            image,
            "creating container "
                + name
                + " for "
                + namespace.describe(taskId)
                + " failed: image '"
                + image
                + "' is gone: "
                + EngineErrors.answer(e),
            e);
      } catch (RuntimeException e) {
        String what = "creating container " + name + " for " + namespace.describe(taskId);
        if (EngineErrors.isTimeout(e)) {
          // The engine may still create it: left in state created, a later runContainer of the
          // id would return it, never started.
          throw unanswered(what, e, deferred.container(name, taskId, null));
        }
        RuntimeException failure = EngineErrors.failure(what, e);
        if (failure instanceof OrchestraInterruptedException) {
          // The engine may create the container after the interrupt cut the call off: left in
          // state created, a later runContainer of the id would return it, never started.
          removeCreatedAfterInterrupt(create, name, taskId, failure);
        }
        throw failure;
      }
    }
    return start(task, name, image, containerId);
  }

  /** The create request of the task's container; the same for each attempt. */
  private CreateContainerCmd createCommand(
      Task task, String name, String image, String workDir, HostConfig hostConfig) {
    boolean withStdin = task.stdin().isPresent();
    List<String> env = new ArrayList<>();
    task.env().forEach((k, v) -> env.add(k + "=" + v));
    Map<String, String> labels = new HashMap<>();
    labels.put(Labels.NAMESPACE, namespace.name());
    labels.put(Labels.TASK_ID, task.id());
    task.timeout()
        .ifPresent(
            t ->
                labels.put(
                    Labels.TIMEOUT_MILLIS,
                    Long.toString(Math.max(1, Durations.saturatedMillis(t)))));
    CreateContainerCmd create =
        namespace
            .api()
            .createContainerCmd(image)
            .withName(name)
            .withLabels(labels)
            .withEntrypoint("")
            .withCmd(task.command())
            .withEnv(env)
            .withWorkingDir(workDir)
            .withTty(false)
            .withAttachStdin(withStdin)
            .withStdinOpen(withStdin)
            .withStdInOnce(withStdin)
            .withAttachStdout(false)
            .withAttachStderr(false)
            .withHostConfig(hostConfig);
    task.user().ifPresent(create::withUser);
    return create;
  }

  /** Starts the created container, with the task's stdin attached first; removes it on failure. */
  private DockerContainer start(Task task, String name, String image, String containerId) {
    String taskId = task.id();
    Optional<InputStream> stdin = task.stdin();
    DockerContainer container =
        namespace.created(containerId, taskId, name, task.timeout().orElse(null));
    container.watchFromStart(task.limits().memoryBytes() > 0);
    StdinDelivery feeder = null;
    try {
      if (stdin.isPresent()) {
        feeder =
            namespace
                .connection()
                .attachStdin(containerId, stdin.get(), namespace.describe(taskId));
      }
      LOG.debug("starting container {} of {}", name, namespace.describe(taskId));
      namespace.api().startContainerCmd(containerId).exec();
    } catch (RuntimeException e) {
      if (feeder != null) {
        feeder.abandon();
      }
      container.startFailed();
      String what =
          "starting "
              + (task.privileged() ? "privileged " : "")
              + "container "
              + name
              + " of "
              + namespace.describe(taskId);
      if (EngineErrors.isTimeout(e)) {
        throw unanswered(what, e, deferred.container(name, taskId, containerId));
      }
      RuntimeException failure = EngineErrors.failure(what, e);
      removeAfterFailure(containerId, name, failure);
      throw failure;
    }
    LOG.info(
        "started container {} ({}) of {} from image {}",
        name,
        containerId.substring(0, Math.min(12, containerId.length())),
        namespace.describe(taskId),
        image);
    Instant started = Instant.now();
    container.scheduleTimeout(started);
    namespace.events().started(container);
    return container;
  }

  /**
   * The failure of a request the engine accepted and did not answer in time, with what becomes of
   * what it left.
   */
  private static OrchestraException unanswered(String what, RuntimeException e, String leftBehind) {
    return new OrchestraException(
        what + " failed: " + EngineErrors.answer(e) + "; " + leftBehind, e);
  }

  /**
   * Removes a container that failed to start. With the interrupt flag cleared meanwhile: after an
   * interrupted start the removal must still reach the engine, or the created container stays and a
   * later runContainer of its id returns it without ever starting it.
   */
  private void removeAfterFailure(String containerId, String name, RuntimeException failure) {
    boolean interrupted = Thread.interrupted();
    try {
      ContainerRemoval.remove(
          namespace.api(), containerId, "container " + name + " that failed to start");
    } catch (RuntimeException e) {
      LOG.warn("could not remove container {} that failed to start: {}", name, e.getMessage());
      failure.addSuppressed(e);
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * After an interrupted create, whose request the engine may still be working on: creates the
   * container again, with the interrupt flag cleared meanwhile, and removes whichever container
   * then holds the name for this task unstarted. The engine reserves names one at a time, so
   * afterwards no created container of the interrupted call can appear any more.
   */
  private void removeCreatedAfterInterrupt(
      CreateContainerCmd create, String name, String taskId, RuntimeException failure) {
    boolean interrupted = Thread.interrupted();
    try {
      Pause pause =
          new Pause(
              "settling the interrupted create of container " + name, ContainerRemoval.PATIENCE);
      String id = null;
      boolean settled = false;
      while (!settled) {
        try {
          id = create.exec().getId();
          settled = true;
        } catch (ConflictException e) {
          try {
            InspectContainerResponse found = namespace.api().inspectContainerCmd(name).exec();
            boolean unstarted =
                namespace.isTask(found, taskId)
                    && found.getState() != null
                    && "created".equals(found.getState().getStatus());
            id = unstarted ? found.getId() : null;
            settled = true;
          } catch (NotFoundException notYet) {
            // The interrupted request holds the name, its container not yet inspectable: once
            // it is, it must go.
            if (!pause.again()) {
              throw EngineErrors.failure("settling the interrupted create of " + name, e);
            }
          }
        }
      }
      if (id != null) {
        LOG.debug(
            "removing container {} of the interrupted create for {}",
            name,
            namespace.describe(taskId));
        removeAfterFailure(id, name, failure);
      }
    } catch (RuntimeException e) {
      LOG.warn(
          "could not clean up after the interrupted create of container {}: {}",
          name,
          e.getMessage());
      failure.addSuppressed(e);
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static void closeQuietly(Optional<InputStream> stdin, String taskId) {
    if (stdin.isEmpty()) {
      return;
    }
    try {
      stdin.get().close();
    } catch (IOException e) {
      LOG.warn("closing the stdin stream of task '{}' failed: {}", taskId, e.toString());
    }
  }
}
