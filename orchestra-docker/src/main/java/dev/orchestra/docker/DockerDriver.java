package dev.orchestra.docker;

import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.Driver;
import dev.orchestra.Sandbox;
import dev.orchestra.Task;
import dev.orchestra.Volume;
import dev.orchestra.spi.Names;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code "docker"} driver: the {@link Driver} methods for one namespace on one engine. What it
 * does, as users see it (names and labels, the task directory, logs, cleanup, the lifecycle), is
 * described on its page in the repository, {@code docs/drivers/docker.md}; this comment says where
 * the code does it.
 *
 * <p>The driver checks its arguments and hands the work to its parts, which share one {@link
 * DockerNamespace}: {@link ContainerCreation} starts a task's container or finds the task's
 * existing one, {@link DockerVolumes} creates and removes volumes, {@link NamespaceRemoval} is
 * {@link #close()}. Names come from {@link DockerNames}.
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
 * again ({@link DeferredRemovals}), and {@link #close()} does not wait on such an engine twice
 * ({@link NamespaceRemoval}).
 */
final class DockerDriver implements Driver {

  private static final Logger LOG = LoggerFactory.getLogger(DockerDriver.class);

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
              Capability.SANDBOX,
              Capability.VOLUME_DATA));

  private final DockerNamespace namespace;
  private final ContainerCreation creation;
  private final DockerVolumes volumes;
  private final NamespaceRemoval removal;

  DockerDriver(String namespace, DockerConnection connection, PullPolicy pullPolicy) {
    this(namespace, connection, pullPolicy, DockerVolumeData.DEFAULT_HELPER_IMAGE);
  }

  DockerDriver(
      String namespace,
      DockerConnection connection,
      PullPolicy pullPolicy,
      String volumeHelperImage) {
    this.namespace = new DockerNamespace(namespace, connection);
    DeferredRemovals deferred = new DeferredRemovals(this.namespace);
    ImagePuller images = new ImagePuller(connection, pullPolicy, this.namespace.streamWatch());
    this.volumes = new DockerVolumes(this.namespace, deferred, volumeHelperImage);
    this.creation = new ContainerCreation(this.namespace, images, volumes, deferred);
    this.removal = new NamespaceRemoval(this.namespace, volumes, deferred);
    LOG.info(
        "opened namespace '{}' on the {} engine at {} (pull policy {})",
        namespace,
        connection.flavour() == EngineFlavour.PODMAN ? "Podman" : "Docker",
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
    return creation.run(task);
  }

  @Override
  public Volume createVolume(String name, long sizeBytes) {
    Names.requireVolume(name, sizeBytes);
    namespace.requireOpen();
    if (sizeBytes > 0) {
      LOG.warn(
          "the docker driver cannot limit the size of volume '{}' in namespace '{}': ignoring"
              + " sizeBytes {}",
          name,
          namespace.name(),
          sizeBytes);
    }
    return volumes.obtain(name);
  }

  /**
   * Finds the task's container by its name and checks its labels ({@link DockerNamespace#isTask});
   * a container of that name with other labels is not this namespace's task. The container found is
   * the one {@link #runContainer(Task)} returns for the id.
   */
  @Override
  public Optional<Container> find(String taskId) {
    Names.requireText("task id", taskId);
    namespace.requireOpen();
    String name = DockerNames.of(namespace.name(), taskId);
    InspectContainerResponse found;
    try {
      LOG.debug("finding container {} of {}", name, namespace.describe(taskId));
      found = namespace.api().inspectContainerCmd(name).exec();
    } catch (NotFoundException e) {
      LOG.debug("{} has no container", namespace.describe(taskId));
      return Optional.empty();
    } catch (RuntimeException e) {
      throw EngineErrors.failure(
          "finding container " + name + " of " + namespace.describe(taskId), e);
    }
    if (!namespace.isTask(found, taskId)) {
      LOG.debug(
          "container {} is not {}: it belongs to {}",
          name,
          namespace.describe(taskId),
          Labels.owner(Labels.of(found), Labels.TASK_ID));
      return Optional.empty();
    }
    return Optional.of(namespace.adopt(found, taskId, name));
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
    DockerContainer main = creation.run(task);
    DockerSandbox box = namespace.sandbox(main, ContainerCreation.taskDir(main.name()));
    main.sandbox(box);
    namespace.requireOpen();
    return box;
  }

  @Override
  public void close() {
    removal.close();
  }

  @Override
  public String toString() {
    return "DockerDriver[namespace="
        + namespace.name()
        + ", engine="
        + namespace.describeEngine()
        + "]";
  }

  /** What this driver's parts share: for tests, which look at the event stream and scratch. */
  DockerNamespace namespace() {
    return namespace;
  }
}
