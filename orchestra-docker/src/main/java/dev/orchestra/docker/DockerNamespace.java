package dev.orchestra.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import dev.orchestra.spi.Durations;
import dev.orchestra.spi.Names;
import dev.orchestra.spi.Schedulers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the parts of one {@link DockerDriver} share: the namespace's name, the connection, the
 * executor, the exit event stream, the stream watch, the creates in flight, the scratch directory,
 * the containers and sandboxes this instance handed out, and whether the driver is closed. The
 * containers, volumes, sandboxes and steps, and the driver's own creation and removal, receive this
 * instead of the driver.
 */
final class DockerNamespace {

  private static final Logger LOG = LoggerFactory.getLogger(DockerNamespace.class);

  private final String name;
  private final DockerConnection connection;
  private final AtomicBoolean closed = new AtomicBoolean();

  /** Every container this instance handed out, by engine id: one object per container. */
  private final ConcurrentHashMap<String, DockerContainer> known = new ConcurrentHashMap<>();

  /** The sandboxes this instance created or found, by the engine id of their container. */
  private final ConcurrentHashMap<String, DockerSandbox> sandboxes = new ConcurrentHashMap<>();

  /** Timeouts, retries and event handlers: a few threads for the whole namespace. */
  private final ScheduledThreadPoolExecutor executor;

  private final StreamWatch streamWatch;

  private final ExitEvents events;

  private final CreatesInFlight creates;

  /** Where steps record their output; created when the first step starts. */
  private Path scratch;

  DockerNamespace(String name, DockerConnection connection) {
    this.name = Names.requireNamespace(name);
    this.connection = connection;
    this.executor =
        Schedulers.idleStopping(
            DockerNamespace.class, "orchestra-docker " + name, 2, Duration.ofSeconds(30));
    this.streamWatch = new StreamWatch(this);
    this.events = new ExitEvents(this);
    this.creates = new CreatesInFlight(this);
  }

  /** The namespace, exactly as the caller gave it. */
  String name() {
    return name;
  }

  DockerConnection connection() {
    return connection;
  }

  DockerClient api() {
    return connection.api();
  }

  /** The engine, for messages. */
  String describeEngine() {
    return connection.describe();
  }

  ExitEvents events() {
    return events;
  }

  /** The creates of unnamed containers, which go on when their caller is interrupted. */
  CreatesInFlight creates() {
    return creates;
  }

  /** Ends the streams of an engine that stopped answering. */
  StreamWatch streamWatch() {
    return streamWatch;
  }

  String describe(String taskId) {
    return "task '" + taskId + "' in namespace '" + name + "'";
  }

  /**
   * Whether a container is this namespace's task {@code taskId}: its labels (see {@link Labels})
   * say so. A container that merely holds the task's name is not.
   */
  boolean isTask(InspectContainerResponse found, String taskId) {
    var labels = Labels.of(found);
    return name.equals(labels.get(Labels.NAMESPACE)) && taskId.equals(labels.get(Labels.TASK_ID));
  }

  // ---- closed

  /** Whether the driver's close() was called: it removed every container and volume. */
  boolean isClosed() {
    return closed.get();
  }

  /** From now on {@link #isClosed()}. */
  void markClosed() {
    closed.set(true);
  }

  void requireOpen() {
    if (closed.get()) {
      throw new IllegalStateException("the docker driver of namespace '" + name + "' is closed");
    }
  }

  // ---- the executor

  /**
   * Runs a task on the namespace's executor after a delay; a failure is logged. Does nothing once
   * the executor is shut down.
   */
  void schedule(Runnable task, Duration delay) {
    try {
      executor.schedule(logged(task), Durations.saturatedNanos(delay), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      LOG.debug("not scheduling work in closed namespace '{}'", name);
    }
  }

  /** Runs a task on the namespace's executor; a failure is logged. Nothing once shut down. */
  void execute(Runnable task) {
    schedule(task, Duration.ZERO);
  }

  /** Ends the executor's work: the driver closed. */
  void shutdownExecutor() {
    executor.shutdownNow();
  }

  private Runnable logged(Runnable task) {
    return () -> {
      try {
        task.run();
      } catch (RuntimeException e) {
        if (!isClosed()) {
          LOG.warn("background work in namespace '{}' failed: {}", name, e.getMessage());
        }
      }
    };
  }

  // ---- the containers and sandboxes of this instance

  /**
   * The one object of a container found on the engine: the known one, or a new one that enforces
   * the task's timeout (label {@link Labels#TIMEOUT_MILLIS}) from the engine's start time.
   */
  DockerContainer adopt(InspectContainerResponse found, String taskId, String containerName) {
    Duration timeout = timeoutOf(found, taskId);
    DockerContainer container =
        known.computeIfAbsent(
            found.getId(), id -> new DockerContainer(this, taskId, containerName, id, timeout));
    Long memory = found.getHostConfig() == null ? null : found.getHostConfig().getMemory();
    container.memoryLimited(memory != null && memory > 0);
    InspectContainerResponse.ContainerState state = found.getState();
    if (timeout != null && state != null && Boolean.TRUE.equals(state.getRunning())) {
      container.scheduleTimeout(startedAt(state));
    }
    return container;
  }

  /** The one object of a container this instance just created. */
  DockerContainer created(
      String containerId, String taskId, String containerName, Duration timeout) {
    return known.computeIfAbsent(
        containerId, id -> new DockerContainer(this, taskId, containerName, id, timeout));
  }

  /** A container was cleaned up: a later run of its task id is a new container. */
  void forget(DockerContainer container) {
    known.remove(container.id(), container);
  }

  /** The one sandbox of a main container. */
  DockerSandbox sandbox(DockerContainer main, String taskDir) {
    return sandboxes.computeIfAbsent(main.id(), id -> new DockerSandbox(this, main, taskDir));
  }

  /** A sandbox was removed. */
  void forget(DockerSandbox box) {
    sandboxes.remove(box.main().id(), box);
  }

  List<DockerSandbox> sandboxes() {
    return List.copyOf(sandboxes.values());
  }

  /** The driver closed: every container's waiters learn it, and this instance forgets them. */
  void forgetContainers() {
    known.values().forEach(DockerContainer::driverClosed);
    known.clear();
  }

  private Duration timeoutOf(InspectContainerResponse found, String taskId) {
    String value = Labels.of(found).get(Labels.TIMEOUT_MILLIS);
    if (value == null) {
      return null;
    }
    try {
      long millis = Long.parseLong(value);
      if (millis > 0) {
        return Duration.ofMillis(millis);
      }
    } catch (NumberFormatException e) {
      LOG.debug("label {}={} is not a number: {}", Labels.TIMEOUT_MILLIS, value, e.toString());
    }
    LOG.warn(
        "ignoring the timeout of {}: label {} holds '{}', not a number of milliseconds",
        describe(taskId),
        Labels.TIMEOUT_MILLIS,
        value);
    return null;
  }

  private static Instant startedAt(InspectContainerResponse.ContainerState state) {
    try {
      return Instant.parse(state.getStartedAt());
    } catch (DateTimeParseException | NullPointerException e) {
      LOG.debug("cannot read when a container started ({}); counting from now", e.toString());
      return Instant.now();
    }
  }

  // ---- the scratch directory

  /** The client-side directory where steps record their output; deleted when the driver closes. */
  synchronized Path scratch() throws IOException {
    if (scratch == null) {
      scratch = Files.createTempDirectory("orchestra-docker-" + Names.safe(name) + "-");
      LOG.debug("steps of namespace '{}' record their output in {}", name, scratch);
    }
    return scratch;
  }

  synchronized void deleteScratch() {
    if (scratch == null) {
      return;
    }
    try (var paths = Files.walk(scratch)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException | java.io.UncheckedIOException e) {
      LOG.warn(
          "closing namespace '{}': could not delete the step output in {}: {}",
          name,
          scratch,
          e.toString());
    }
  }
}
