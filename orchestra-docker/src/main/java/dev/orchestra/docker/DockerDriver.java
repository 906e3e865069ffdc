package dev.orchestra.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.command.CreateContainerResponse;
import com.github.dockerjava.api.command.CreateVolumeResponse;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.command.InspectVolumeResponse;
import com.github.dockerjava.api.command.ListVolumesResponse;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.LogConfig;
import com.github.dockerjava.api.model.MountType;
import com.github.dockerjava.api.model.VolumeOptions;
import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.ContainerLimits;
import dev.orchestra.Driver;
import dev.orchestra.ImageNotFoundException;
import dev.orchestra.Mount;
import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.Sandbox;
import dev.orchestra.Task;
import dev.orchestra.Volume;
import dev.orchestra.spi.Durations;
import dev.orchestra.spi.Names;
import dev.orchestra.spi.TaskPaths;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code "docker"} driver: each task is a container named {@code {namespace}-{task id}} (see
 * {@link DockerNames}), each volume a named volume {@code {namespace}-{name}}, both labelled with
 * their namespace so that {@link #close()} finds them from any driver instance.
 *
 * <p>A task runs in {@code /tmp/orchestra/{container name}}, its working directory, with its mounts
 * inside. The image's entrypoint is cleared, so the task's command is the whole argv; an init
 * process runs it, so that a task killed by a signal reads 128+N (a shell as PID 1 would ignore the
 * signal), and so that SIGTERM sent to the container reaches the task. Logs go to the engine's
 * {@code local} log driver, which keeps bytes as they were written (the default {@code json-file}
 * driver mangles bytes that are not UTF-8). Images come through {@link ImagePuller}, stdin through
 * {@link DockerConnection#attachStdin}.
 *
 * <p>The lifecycle: one object per container and instance ({@link DockerNamespace#adopt}) holds
 * what this instance knows (a stop it asked for, the final status); one event stream ({@link
 * ExitEvents}) completes every {@link Container#onExit()}; a small executor of a few threads runs
 * timeouts, retries and event handlers for the whole namespace. A task's timeout is a label ({@link
 * Labels#TIMEOUT_MILLIS}), enforced by every instance that starts or finds the container. Sandboxes
 * ({@link DockerSandbox}) run their steps as execs whose output is recorded in a client-side
 * directory ({@link DockerNamespace#scratch()}), deleted with the sandbox and by {@link #close()}.
 *
 * <p>An engine that stops answering blocks no call for long: every request that is not a stream is
 * bounded by the connection's request timeout ({@link DockerConnection}), the streams are watched
 * ({@link StreamWatch}), what a request that got no answer left is removed once the engine answers
 * again ({@link DeferredRemovals}), and {@link #close()} sends nothing more once a request of its
 * own went unanswered.
 */
final class DockerDriver implements Driver {

  private static final Logger LOG = LoggerFactory.getLogger(DockerDriver.class);

  /** Where task directories live inside containers. */
  static final String TASK_ROOT = "/tmp/orchestra";

  private static final Set<Capability> CAPABILITIES =
      Collections.unmodifiableSet(
          EnumSet.of(
              Capability.IMAGE,
              Capability.USER,
              Capability.PRIVILEGED,
              Capability.CPU_LIMIT,
              Capability.MEMORY_LIMIT,
              Capability.FOLLOW,
              Capability.STOP,
              Capability.TIMEOUT,
              Capability.REATTACH,
              Capability.SANDBOX));

  /**
   * The engine's {@code local} log driver keeps the newest {@code max-file} files of {@code
   * max-size} bytes (10^8: Docker's "m" is decimal), the one being written included: 1.0 to 1.1 GB
   * of the engine's framing, which costs each line about 27 bytes more than its own (see the
   * README). Uncompressed, because the engine (20.10) decompresses every rotated file for each read
   * of a log, and a follow reads the log's tail again and again.
   */
  private static final LogConfig LOG_CONFIG =
      new LogConfig(
          LogConfig.LoggingType.LOCAL,
          Map.of("max-size", "100m", "max-file", "11", "compress", "false"));

  private static final int LOCK_STRIPES = 64;

  private final String namespace;
  private final DockerNamespace context;
  private final DockerConnection connection;
  private final PullPolicy pullPolicy;
  private final ImagePuller images;
  private final Object[] taskLocks = new Object[LOCK_STRIPES];

  /** Held while close() works; guards {@link #closeFinished}. */
  private final Object closing = new Object();

  /** Whether close() has removed everything and released the connection. */
  private boolean closeFinished;

  private final DeferredRemovals deferred;

  DockerDriver(String namespace, DockerConnection connection, PullPolicy pullPolicy) {
    this.context = new DockerNamespace(namespace, connection);
    this.namespace = context.name();
    this.connection = connection;
    this.pullPolicy = pullPolicy;
    this.images = new ImagePuller(connection, pullPolicy, context.streamWatch());
    for (int i = 0; i < taskLocks.length; i++) {
      taskLocks[i] = new Object();
    }
    this.deferred = new DeferredRemovals(context);
    LOG.info(
        "opened namespace '{}' on the Docker engine at {} (pull policy {})",
        namespace,
        connection.describe(),
        pullPolicy);
  }

  @Override
  public String name() {
    return DockerDriverProvider.NAME;
  }

  @Override
  public Set<Capability> capabilities() {
    return CAPABILITIES;
  }

  @Override
  public Container runContainer(Task task) {
    if (task == null) {
      throw new IllegalArgumentException("task must not be null");
    }
    try {
      return run(task);
    } catch (RuntimeException e) {
      // The caller's stdin stream is ours to close, delivered or not.
      closeQuietly(task.stdin(), task.id());
      throw e;
    }
  }

  private DockerContainer run(Task task) {
    requireOpen();
    String taskId = task.id();
    String image =
        task.image()
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "task '"
                            + taskId
                            + "' has no image; the docker driver runs every task in one"));
    String name = DockerNames.of(namespace, taskId);
    String taskDir = TASK_ROOT + "/" + name;
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
          LOG.debug("{} already has container {}", describe(taskId), name);
          closeQuietly(task.stdin(), taskId);
          return existing.get();
        }
        images.ensure(image, describe(taskId));
      }
      deferred.settle(name);
      List<String> newVolumes = ensureVolumes(task.mounts());
      try {
        return createAndStart(task, name, image, workDir, hostConfig);
      } catch (RuntimeException e) {
        removeVolumesAfterFailure(newVolumes, e);
        throw e;
      }
    }
  }

  @Override
  public Volume createVolume(String name, long sizeBytes) {
    Names.requireVolumeName(name);
    if (sizeBytes < 0) {
      throw new IllegalArgumentException(
          "sizeBytes of volume '" + name + "' must be 0 or positive, was " + sizeBytes);
    }
    requireOpen();
    if (sizeBytes > 0) {
      LOG.warn(
          "the docker driver cannot limit the size of volume '{}' in namespace '{}': ignoring"
              + " sizeBytes {}",
          name,
          namespace,
          sizeBytes);
    }
    obtainVolume(name);
    return new DockerVolume(context, this, name, DockerNames.of(namespace, name));
  }

  /**
   * Finds the task's container by its name and checks its labels (namespace and task id); a
   * container of that name with other labels is not this namespace's task. The container found is
   * the one {@link #runContainer(Task)} returns for the id.
   */
  @Override
  public Optional<Container> find(String taskId) {
    Names.requireText("task id", taskId);
    requireOpen();
    String name = DockerNames.of(namespace, taskId);
    InspectContainerResponse found;
    try {
      LOG.debug("finding container {} of {}", name, describe(taskId));
      found = api().inspectContainerCmd(name).exec();
    } catch (NotFoundException e) {
      LOG.debug("{} has no container", describe(taskId));
      return Optional.empty();
    } catch (RuntimeException e) {
      throw EngineErrors.failure("finding container " + name + " of " + describe(taskId), e);
    }
    if (!context.isTask(found, taskId)) {
      LOG.debug(
          "container {} is not {}: it belongs to {}",
          name,
          describe(taskId),
          Labels.owner(Labels.of(found), Labels.TASK_ID));
      return Optional.empty();
    }
    return Optional.of(context.adopt(found, taskId, name));
  }

  /**
   * Starts a container as {@link #runContainer(Task)} does, whose command keeps it alive, and
   * returns it as a sandbox. Idempotent by task id: the sandbox of a known id is returned (with the
   * steps this instance started in it).
   */
  @Override
  public Sandbox createSandbox(Task task) {
    if (task == null) {
      throw new IllegalArgumentException("task must not be null");
    }
    DockerContainer main;
    try {
      main = run(task);
    } catch (RuntimeException e) {
      closeQuietly(task.stdin(), task.id());
      throw e;
    }
    String taskDir = TASK_ROOT + "/" + main.name();
    DockerSandbox box = context.sandbox(main, taskDir);
    main.sandbox(box);
    if (context.isClosed()) {
      throw new IllegalStateException(
          "the docker driver of namespace '" + namespace + "' is closed");
    }
    return box;
  }

  @Override
  public void close() {
    context.markClosed();
    synchronized (closing) {
      if (closeFinished) {
        return;
      }
      removeEverything();
    }
  }

  /**
   * The work of {@link #close()}. An interrupt stops it with {@link OrchestraInterruptedException}
   * and leaves the connection open, so that a later close() removes what is left.
   */
  private void removeEverything() {
    List<DockerSandbox> boxes = context.sandboxes();
    boxes.forEach(DockerSandbox::beginRemoval);
    context.events().close();
    List<RuntimeException> failures = new ArrayList<>();
    // Once the engine left a request unanswered, the rest is not sent: each would wait as long.
    List<String> notTried = new ArrayList<>();
    int containers = 0;
    int volumes = 0;
    try {
      for (String containerId : namespaceContainers(failures)) {
        if (stalled(failures)) {
          notTried.add("container " + containerId);
          continue;
        }
        try {
          if (ContainerRemoval.remove(api(), containerId, "container " + containerId)) {
            containers++;
          }
        } catch (OrchestraInterruptedException e) {
          throw e;
        } catch (RuntimeException e) {
          LOG.warn("closing namespace '{}': {}", namespace, e.getMessage());
          failures.add(e);
        }
      }
      List<String> volumeNames = List.of();
      if (stalled(failures)) {
        notTried.add("the volumes of the namespace");
      } else {
        volumeNames = namespaceVolumes(failures);
      }
      for (String volumeName : volumeNames) {
        if (stalled(failures)) {
          notTried.add("volume " + volumeName);
          continue;
        }
        try {
          if (removeVolume(volumeName, "volume " + volumeName, true)) {
            volumes++;
          }
        } catch (OrchestraInterruptedException e) {
          throw e;
        } catch (RuntimeException e) {
          LOG.warn("closing namespace '{}': {}", namespace, e.getMessage());
          failures.add(e);
        }
      }
    } catch (OrchestraInterruptedException e) {
      LOG.warn(
          "closing namespace '{}' was interrupted; close() again removes what is left", namespace);
      throw e;
    }
    if (!notTried.isEmpty()) {
      failures.add(
          new OrchestraException(
              "not removed, as the engine did not answer an earlier request of this close(): "
                  + String.join(", ", notTried)
                  + " (a driver of the namespace opened and closed once the engine answers"
                  + " removes them)"));
    }
    closeFinished = true;
    deferred.clear();
    context.shutdownExecutor();
    boxes.forEach(DockerSandbox::finishRemoval);
    context.forgetContainers();
    context.deleteScratch();
    connection.close();
    if (!failures.isEmpty()) {
      List<String> messages = new ArrayList<>();
      failures.forEach(f -> messages.add(f.getMessage()));
      OrchestraException e =
          new OrchestraException(
              "closing namespace '"
                  + namespace
                  + "' on the Docker engine at "
                  + connection.describe()
                  + " left "
                  + failures.size()
                  + " failure(s): "
                  + String.join("; ", messages));
      failures.forEach(e::addSuppressed);
      throw e;
    }
    LOG.info(
        "closed namespace '{}': removed {} container(s) and {} volume(s)",
        namespace,
        containers,
        volumes);
  }

  @Override
  public String toString() {
    return "DockerDriver[namespace=" + namespace + ", engine=" + connection.describe() + "]";
  }

  /** What this driver's parts share: for tests, which look at the event stream and scratch. */
  DockerNamespace namespace() {
    return context;
  }

  // ---- used by DockerVolume

  /**
   * Removes a volume. The engine refuses while any container references it, finished or not: the
   * finished containers of this namespace that reference it are removed first (their tasks are
   * over; only their logs go with them), while a running one makes the removal fail.
   *
   * @param patient whether to wait a little while the volume is still in use, for containers that
   *     are being removed
   * @return {@code false} if the volume did not exist
   */
  boolean removeVolume(String dockerName, String what, boolean patient) {
    Pause pause = new Pause(what, ContainerRemoval.PATIENCE);
    boolean released = false;
    while (true) {
      try {
        LOG.debug("removing {}", what);
        api().removeVolumeCmd(dockerName).exec();
        return true;
      } catch (NotFoundException e) {
        return false;
      } catch (ConflictException e) {
        if (!released) {
          released = true;
          releaseFinishedContainers(dockerName, what, e);
        } else if (!patient || !pause.again()) {
          throw EngineErrors.failure("removing " + what, e);
        }
      } catch (RuntimeException e) {
        throw EngineErrors.failure("removing " + what, e);
      }
    }
  }

  /** Removes the finished containers of this namespace that still reference a volume. */
  private void releaseFinishedContainers(String dockerName, String what, ConflictException inUse) {
    List<com.github.dockerjava.api.model.Container> users;
    try {
      LOG.debug("listing the containers that use {}", what);
      users =
          api().listContainersCmd().withShowAll(true).withVolumeFilter(List.of(dockerName)).exec();
    } catch (RuntimeException e) {
      throw EngineErrors.failure("listing the containers that use " + what, e);
    }
    List<String> busy = new ArrayList<>();
    for (com.github.dockerjava.api.model.Container user : users) {
      Map<String, String> labels = user.getLabels() == null ? Map.of() : user.getLabels();
      boolean finished = "exited".equals(user.getState()) || "dead".equals(user.getState());
      if (!finished || !namespace.equals(labels.get(Labels.NAMESPACE))) {
        busy.add(
            String.join(",", user.getNames())
                + " ("
                + user.getState()
                + (labels.containsKey(Labels.TASK_ID)
                    ? ", task '" + labels.get(Labels.TASK_ID) + "'"
                    : "")
                + ")");
      }
    }
    if (!busy.isEmpty()) {
      throw new OrchestraException(
          "removing "
              + what
              + " failed: it is in use by "
              + String.join(", ", busy)
              + "; "
              + EngineErrors.answer(inUse),
          inUse);
    }
    for (com.github.dockerjava.api.model.Container user : users) {
      LOG.info(
          "removing finished container {} of task '{}', which still references {}",
          String.join(",", user.getNames()),
          user.getLabels().get(Labels.TASK_ID),
          what);
      ContainerRemoval.remove(
          api(), user.getId(), "container " + String.join(",", user.getNames()));
    }
  }

  // ---- containers

  private HostConfig hostConfig(Task task, String taskDir) {
    List<com.github.dockerjava.api.model.Mount> mounts = new ArrayList<>();
    for (Mount m : task.mounts()) {
      mounts.add(
          new com.github.dockerjava.api.model.Mount()
              .withType(MountType.VOLUME)
              .withSource(DockerNames.of(namespace, m.name()))
              .withTarget(TaskPaths.resolve(taskDir, "mount path", m.path()))
              // Should the engine have to create the volume itself (another driver instance
              // removed it meanwhile), it still carries the labels close() looks for.
              .withVolumeOptions(new VolumeOptions().withLabels(volumeLabels(m.name()))));
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
            .withLogConfig(LOG_CONFIG);
    if (limits.cpuShares() > 0) {
      hostConfig.withCpuShares((int) limits.cpuShares());
    }
    if (limits.memoryBytes() > 0) {
      hostConfig.withMemory(limits.memoryBytes());
    }
    return hostConfig;
  }

  private Optional<DockerContainer> lookup(String name, String taskId) {
    InspectContainerResponse found;
    try {
      LOG.debug("inspecting container {} of {}", name, describe(taskId));
      found = api().inspectContainerCmd(name).exec();
    } catch (NotFoundException e) {
      return Optional.empty();
    } catch (RuntimeException e) {
      throw EngineErrors.failure("looking up container " + name + " of " + describe(taskId), e);
    }
    if (!context.isTask(found, taskId)) {
      throw new OrchestraException(
          "the container name "
              + name
              + " of "
              + describe(taskId)
              + " is taken by container "
              + found.getId()
              + ", which belongs to "
              + Labels.owner(Labels.of(found), Labels.TASK_ID)
              + "; remove that container or use another namespace");
    }
    return Optional.of(context.adopt(found, taskId, name));
  }

  private DockerContainer createAndStart(
      Task task, String name, String image, String workDir, HostConfig hostConfig) {
    String taskId = task.id();
    Optional<InputStream> stdin = task.stdin();
    boolean withStdin = stdin.isPresent();
    List<String> env = new ArrayList<>();
    task.env().forEach((k, v) -> env.add(k + "=" + v));
    Map<String, String> labels = new HashMap<>();
    labels.put(Labels.NAMESPACE, namespace);
    labels.put(Labels.TASK_ID, taskId);
    task.timeout()
        .ifPresent(
            t ->
                labels.put(
                    Labels.TIMEOUT_MILLIS,
                    Long.toString(Math.max(1, Durations.saturatedMillis(t)))));
    String containerId = null;
    Pause pause = new Pause("creating container " + name, ContainerRemoval.PATIENCE);
    boolean pulled = false;
    while (containerId == null) {
      CreateContainerCmd create =
          api()
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
      try {
        LOG.debug("creating container {} for {} from image {}", name, describe(taskId), image);
        CreateContainerResponse created = create.exec();
        containerId = created.getId();
        if (created.getWarnings() != null) {
          for (String warning : created.getWarnings()) {
            LOG.warn(
                "the engine warns about container {} of {}: {}", name, describe(taskId), warning);
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
        // may be removed meanwhile: after a short pause, create (or find) it again.
        LOG.debug("container {} is not there yet after a name conflict; trying again", name);
        if (!pause.again()) {
          throw EngineErrors.failure("creating container " + name + " for " + describe(taskId), e);
        }
      } catch (NotFoundException e) {
        Optional<DockerContainer> existing = lookup(name, taskId);
        if (existing.isPresent()) {
          closeQuietly(stdin, taskId);
          return existing.get();
        }
        if (!pulled) {
          LOG.debug("the engine has no image {} for {}", image, describe(taskId));
          images.missing(image, describe(taskId));
          pulled = true;
          continue;
        }
        throw new ImageNotFoundException(
            image,
            "creating container "
                + name
                + " for "
                + describe(taskId)
                + " failed: image '"
                + image
                + "' is gone: "
                + EngineErrors.answer(e),
            e);
      } catch (RuntimeException e) {
        String what = "creating container " + name + " for " + describe(taskId);
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
    String id = containerId;
    DockerContainer container = context.created(id, taskId, name, task.timeout().orElse(null));
    container.watchFromStart(task.limits().memoryBytes() > 0);
    StdinDelivery feeder = null;
    try {
      if (withStdin) {
        feeder = connection.attachStdin(containerId, stdin.get(), describe(taskId));
      }
      LOG.debug("starting container {} of {}", name, describe(taskId));
      api().startContainerCmd(containerId).exec();
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
              + describe(taskId);
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
        describe(taskId),
        image);
    Instant started = Instant.now();
    container.scheduleTimeout(started);
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
      ContainerRemoval.remove(api(), containerId, "container " + name + " that failed to start");
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
            InspectContainerResponse found = api().inspectContainerCmd(name).exec();
            boolean unstarted =
                context.isTask(found, taskId)
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
        LOG.debug("removing container {} of the interrupted create for {}", name, describe(taskId));
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

  private static boolean stalled(List<RuntimeException> failures) {
    return failures.stream().anyMatch(EngineErrors::isTimeout);
  }

  private List<String> namespaceContainers(List<RuntimeException> failures) {
    List<String> ids = new ArrayList<>();
    try {
      LOG.debug("listing the containers of namespace '{}'", namespace);
      for (com.github.dockerjava.api.model.Container c :
          api()
              .listContainersCmd()
              .withShowAll(true)
              .withLabelFilter(Map.of(Labels.NAMESPACE, namespace))
              .exec()) {
        ids.add(c.getId());
      }
    } catch (RuntimeException e) {
      RuntimeException failure =
          EngineErrors.failure("listing the containers of namespace '" + namespace + "'", e);
      if (failure instanceof OrchestraInterruptedException) {
        // Listing nothing would let close() finish with everything still there.
        throw failure;
      }
      LOG.warn("closing namespace '{}': {}", namespace, failure.getMessage());
      failures.add(failure);
    }
    return ids;
  }

  private List<String> namespaceVolumes(List<RuntimeException> failures) {
    List<String> names = new ArrayList<>();
    try {
      LOG.debug("listing the volumes of namespace '{}'", namespace);
      ListVolumesResponse listed =
          api()
              .listVolumesCmd()
              .withFilter("label", List.of(Labels.namespaceFilter(namespace)))
              .exec();
      if (listed.getVolumes() != null) {
        listed.getVolumes().forEach(v -> names.add(v.getName()));
      }
    } catch (RuntimeException e) {
      RuntimeException failure =
          EngineErrors.failure("listing the volumes of namespace '" + namespace + "'", e);
      if (failure instanceof OrchestraInterruptedException) {
        // Listing nothing would let close() finish with everything still there.
        throw failure;
      }
      LOG.warn("closing namespace '{}': {}", namespace, failure.getMessage());
      failures.add(failure);
    }
    return names;
  }

  // ---- volumes

  /** Creates the task's missing volumes; returns the Docker names of those it created. */
  private List<String> ensureVolumes(List<Mount> mounts) {
    Set<String> names = new LinkedHashSet<>();
    mounts.forEach(m -> names.add(m.name()));
    List<String> created = new ArrayList<>();
    try {
      for (String name : names) {
        if (obtainVolume(name)) {
          created.add(DockerNames.of(namespace, name));
        }
      }
    } catch (RuntimeException e) {
      removeVolumesAfterFailure(created, e);
      throw e;
    }
    return created;
  }

  /**
   * Creates the volume unless it exists.
   *
   * @return {@code true} if it was created by this call
   */
  private boolean obtainVolume(String name) {
    String dockerName = DockerNames.of(namespace, name);
    try {
      LOG.debug("inspecting volume {} of namespace '{}'", dockerName, namespace);
      InspectVolumeResponse existing = api().inspectVolumeCmd(dockerName).exec();
      checkVolumeOwner(name, dockerName, existing.getLabels());
      return false;
    } catch (NotFoundException e) {
      LOG.debug("volume {} does not exist yet", dockerName);
    } catch (OrchestraException e) {
      throw e;
    } catch (RuntimeException e) {
      throw EngineErrors.failure(
          "looking up volume '" + name + "' of namespace '" + namespace + "'", e);
    }
    CreateVolumeResponse created;
    try {
      LOG.debug("creating volume {} of namespace '{}'", dockerName, namespace);
      created = api().createVolumeCmd().withName(dockerName).withLabels(volumeLabels(name)).exec();
    } catch (RuntimeException e) {
      throw EngineErrors.failure(
          "creating volume '" + name + "' of namespace '" + namespace + "'", e);
    }
    // Creating an existing volume answers with the existing one: it may be another's.
    checkVolumeOwner(name, dockerName, created.getLabels());
    LOG.info("created volume '{}' ({}) in namespace '{}'", name, dockerName, namespace);
    return true;
  }

  private Map<String, String> volumeLabels(String name) {
    return Map.of(Labels.NAMESPACE, namespace, Labels.VOLUME, name);
  }

  private void checkVolumeOwner(String name, String dockerName, Map<String, String> labels) {
    Map<String, String> l = labels == null ? Map.of() : labels;
    if (!namespace.equals(l.get(Labels.NAMESPACE)) || !name.equals(l.get(Labels.VOLUME))) {
      throw new OrchestraException(
          "the Docker volume name "
              + dockerName
              + " of volume '"
              + name
              + "' in namespace '"
              + namespace
              + "' is taken by a volume of "
              + Labels.owner(l, Labels.VOLUME)
              + "; remove that volume or use another namespace");
    }
  }

  /**
   * Removes the volumes a failed run created, unless another task uses them meanwhile (a volume of
   * the namespace stays labelled, so close() removes it then).
   */
  private void removeVolumesAfterFailure(List<String> dockerNames, RuntimeException failure) {
    if (EngineErrors.isTimeout(failure)) {
      // The engine just proved stalled: removing them now would make the caller wait again.
      deferred.volumes(dockerNames);
      return;
    }
    for (String dockerName : dockerNames) {
      try {
        LOG.debug("removing volume {} created for a task that failed to start", dockerName);
        api().removeVolumeCmd(dockerName).exec();
      } catch (NotFoundException | ConflictException e) {
        LOG.debug("keeping volume {}: {}", dockerName, EngineErrors.answer(e));
      } catch (RuntimeException e) {
        LOG.warn("could not remove volume {} after a failed start: {}", dockerName, e.getMessage());
        failure.addSuppressed(e);
      }
    }
  }

  // ---- helpers

  private DockerClient api() {
    return context.api();
  }

  private String describe(String taskId) {
    return context.describe(taskId);
  }

  private void requireOpen() {
    context.requireOpen();
  }
}
