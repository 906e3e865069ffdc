package dev.orchestra.docker;

import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import dev.orchestra.Container;
import dev.orchestra.ContainerNotFoundException;
import dev.orchestra.ContainerStatus;
import dev.orchestra.ExitReason;
import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.spi.Durations;
import dev.orchestra.spi.Exceptions;
import java.io.OutputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A task's container. One object per container and driver instance (see {@link
 * DockerNamespace#adopt}), so that every handle of a task shares what the driver knows about it.
 *
 * <p>The status comes from inspecting the container until it is done, then from a cache. The end is
 * observed through the driver's one event stream ({@link ExitEvents}), never by polling. The reason
 * a task ended: {@link ExitReason#OOM_KILLED} when the engine reports an OOM kill (its state's
 * {@code OOMKilled}, or its {@code oom} event) and a non-zero exit code; {@link ExitReason#STOPPED}
 * or {@link ExitReason#TIMED_OUT} when this driver instance asked it to end (a stop, a cleanup, a
 * timeout); otherwise derived from the engine's state, see {@link EngineStates#statusOf}.
 *
 * <p>The engine reports an OOM kill and the exit separately, in either order, and Docker 20.10 sets
 * {@code OOMKilled} only when the OOM came first; its {@code oom} event may come seconds after the
 * {@code die}, or never. So a memory-limited task that this instance saw die of SIGKILL (137)
 * without any OOM report yet stays running for up to {@link #LATE_OOM} longer: an {@code oom} event
 * meanwhile makes it {@link ExitReason#OOM_KILLED}, otherwise it reads {@link ExitReason#SIGNALED}
 * after the state is read once more.
 */
final class DockerContainer implements Container {

  private static final Logger LOG = LoggerFactory.getLogger(DockerContainer.class);

  /** The grace a timed-out task gets between SIGTERM and SIGKILL, as {@link dev.orchestra.Task}. */
  static final Duration TIMEOUT_GRACE = Duration.ofSeconds(10);

  /** How long a stop waits for the engine to report the end after SIGKILL. */
  private static final Duration AFTER_KILL = Duration.ofSeconds(30);

  /**
   * How long a memory-limited task that died of SIGKILL waits for the engine's report of an OOM
   * kill: measured on Docker 20.10 under load, the {@code oom} event came up to 3.1 s after the
   * {@code die}.
   */
  static final Duration LATE_OOM = Duration.ofSeconds(5);

  /** The pause before reading the status again after a failed read. */
  private static final Duration RECHECK_PAUSE = Duration.ofSeconds(2);

  private final DockerNamespace namespace;
  private final String taskId;
  private final String name;
  private final String containerId;
  private final Duration timeout;
  private final ContainerLogs logs;

  private final Object lock = new Object();

  /** Serialises the first {@link #onExit()}: subscribing, then reading the status once. */
  private final Object registration = new Object();

  private volatile ContainerStatus done;

  /** The future of {@link #onExit()}, once someone waits; guarded by {@link #lock}. */
  private CompletableFuture<ContainerStatus> exit;

  /** Why this driver instance asked the task to end: STOPPED or TIMED_OUT; null if it did not. */
  private final AtomicReference<ExitReason> requested = new AtomicReference<>();

  /** Set while this driver removes the container: its die and destroy events are expected. */
  private volatile boolean removing;

  /**
   * Whether the engine reported the container's removal behind the driver's back before its end was
   * recorded; guarded by {@link #lock}.
   */
  private boolean destroyed;

  /**
   * Whether the event stream watched this container from before its start: its exit cannot have
   * come unseen, so the first {@link #onExit()} needs no status read.
   */
  private volatile boolean watchedSinceStart;

  /**
   * Whether a {@code die} event's exit code is the whole story: true for a container this instance
   * started without a memory limit, where the engine cannot report {@code OOMKilled}. Then an exit
   * code other than 137 and 143 (which may mean an OOM kill or a timeout) needs no status read.
   */
  private volatile boolean exitCodeFromEvent;

  /** Whether the task has a memory limit: only then can the engine kill it for memory. */
  private volatile boolean memoryLimited;

  /** When this instance received the engine's die event, or null. */
  private volatile Instant diedAt;

  /** When this instance received the engine's oom event, or null. */
  private volatile Instant oomReportedAt;

  /** Until when (System.nanoTime) a SIGKILL waits for a late oom event; 0 before it started. */
  private long lateOomUntil;

  private final AtomicBoolean timerSet = new AtomicBoolean();
  private volatile DockerSandbox sandbox;

  DockerContainer(
      DockerNamespace namespace, String taskId, String name, String containerId, Duration timeout) {
    this.namespace = namespace;
    this.taskId = taskId;
    this.name = name;
    this.containerId = containerId;
    this.timeout = timeout;
    this.logs = new ContainerLogs(namespace, this);
  }

  /** The engine's id of the container (64 hex digits). */
  @Override
  public String id() {
    return containerId;
  }

  String taskId() {
    return taskId;
  }

  String name() {
    return name;
  }

  @Override
  public ContainerStatus status() {
    ContainerStatus cached = done;
    if (cached != null) {
      return cached;
    }
    requireDriverOpen("reading the status of");
    return refresh(inspect("reading the status of"));
  }

  @Override
  public void logs(OutputStream stdout, OutputStream stderr) {
    logs.read(stdout, stderr);
  }

  /** See {@link ContainerLogs#follow}. */
  @Override
  public void follow(OutputStream stdout, OutputStream stderr) {
    logs.follow(stdout, stderr);
  }

  /**
   * Completes once the engine reports the container's end through the driver's event stream: no
   * thread and no engine call per waiting task. The first call subscribes (once per driver) and
   * reads the status once, for an end that came before. Each call returns its own copy of the
   * future, so that cancelling one leaves the others.
   */
  @Override
  public CompletableFuture<ContainerStatus> onExit() {
    ContainerStatus cached = done;
    if (cached != null) {
      return CompletableFuture.completedFuture(cached);
    }
    if (namespace.isClosed()) {
      return CompletableFuture.failedFuture(closedDriver("waiting for"));
    }
    synchronized (registration) {
      CompletableFuture<ContainerStatus> f;
      synchronized (lock) {
        f = exit;
      }
      if (f == null) {
        f = register();
      }
      return f.copy();
    }
  }

  /** Subscribes, publishes the future, then reads the status once; under {@link #registration}. */
  private CompletableFuture<ContainerStatus> register() {
    try {
      namespace.events().watch(this);
    } catch (IllegalStateException e) {
      return CompletableFuture.failedFuture(closedDriver("waiting for"));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    CompletableFuture<ContainerStatus> f = new CompletableFuture<>();
    synchronized (lock) {
      exit = f;
      if (done != null) {
        f.complete(done);
      }
    }
    if (watchedSinceStart) {
      return f;
    }
    try {
      refresh(inspect("waiting for"));
    } catch (ContainerNotFoundException e) {
      fail(e);
    } catch (RuntimeException e) {
      // The events still come; read again later in case the end came before the subscription.
      LOG.debug(
          "reading the status of container {} of {} failed ({}); reading it again in {} ms",
          name,
          describe(),
          e.toString(),
          RECHECK_PAUSE.toMillis());
      namespace.schedule(this::recheck, RECHECK_PAUSE);
    }
    return f;
  }

  /**
   * Waits on {@link #onExit()} without reading the status first: the first {@code onExit()} reads
   * it once itself, so a running task costs one engine call here, not two.
   */
  @Override
  public ContainerStatus await(Duration timeout) {
    if (timeout == null) {
      throw new IllegalArgumentException("timeout must not be null");
    }
    ContainerStatus cached = done;
    if (cached != null) {
      return cached;
    }
    if (timeout.isZero() || timeout.isNegative()) {
      return status();
    }
    requireDriverOpen("waiting for");
    try {
      return onExit().get(Durations.saturatedNanos(timeout), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      return status();
    } catch (InterruptedException | ExecutionException e) {
      throw Exceptions.launder("waiting for container " + name + " of " + describe(), e);
    }
  }

  /**
   * Stops the task as {@code docker stop} does, with the wait on the client side: SIGTERM to the
   * container's init (which forwards it to the task), the end awaited through the event stream for
   * up to {@code grace} (to the nanosecond, where {@code docker stop} counts whole seconds), then
   * SIGKILL. A grace of zero sends SIGKILL at once.
   */
  @Override
  public ContainerStatus stop(Duration grace) {
    if (grace == null || grace.isNegative()) {
      throw new IllegalArgumentException("grace must be zero or positive, was " + grace);
    }
    ContainerStatus cached = done;
    if (cached != null) {
      return cached;
    }
    requireDriverOpen("stopping");
    ContainerStatus now;
    try {
      now = status();
    } catch (OrchestraInterruptedException e) {
      // Interrupted before the first signal (an engine that answers slowly): the task was asked
      // to stop, so it ends all the same.
      requested.compareAndSet(null, ExitReason.STOPPED);
      killAfterInterrupt();
      throw e;
    }
    if (now.isDone()) {
      return now;
    }
    String what = "stopping container " + name + " of " + describe();
    CompletableFuture<ContainerStatus> end = onExit();
    requested.compareAndSet(null, ExitReason.STOPPED);
    LOG.info("stopping container {} of {} (grace {})", name, describe(), grace);
    try {
      if (!grace.isZero()) {
        signal("TERM");
        try {
          return end.get(Durations.saturatedNanos(grace), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
          LOG.info(
              "container {} of {} still runs after a grace of {}: killing it",
              name,
              describe(),
              grace);
        }
      }
      signal("KILL");
      try {
        return end.get(AFTER_KILL.toNanos(), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        ContainerStatus last = status();
        if (last.isDone()) {
          return last;
        }
        throw new OrchestraException(
            what + " failed: it still runs " + AFTER_KILL + " after SIGKILL", e);
      }
    } catch (InterruptedException e) {
      killAfterInterrupt();
      throw Exceptions.launder(what, e);
    } catch (OrchestraInterruptedException e) {
      // Interrupted during an engine call: the task was asked to stop, so it ends all the same.
      killAfterInterrupt();
      throw e;
    } catch (ExecutionException e) {
      throw Exceptions.launder(what, e);
    }
  }

  @Override
  public void cleanup() {
    if (namespace.isClosed()) {
      LOG.debug("container {} of {} went with its closed namespace", name, describe());
      return;
    }
    DockerSandbox box = sandbox;
    if (box != null) {
      box.beginRemoval();
    }
    ContainerStatus before = done;
    if (before == null) {
      try {
        before = refresh(inspect("removing"));
      } catch (ContainerNotFoundException e) {
        LOG.debug("container {} of {} is already gone", name, describe());
      }
    }
    boolean running = before != null && !before.isDone();
    if (running) {
      requested.compareAndSet(null, ExitReason.STOPPED);
    }
    removing = true;
    boolean removed;
    try {
      removed =
          ContainerRemoval.remove(
              namespace.api(), containerId, "container " + name + " of " + describe());
    } catch (RuntimeException e) {
      removing = false;
      throw e;
    }
    if (running && done == null) {
      // Removing a running container kills it: SIGKILL, exit code 137.
      record(ContainerStatus.done(137, requested.get()));
    } else if (done == null) {
      fail(notFound("waiting for", null));
    }
    namespace.forget(this);
    if (box != null) {
      box.finishRemoval();
    }
    if (removed) {
      LOG.info("removed container {} of {}", name, describe());
    } else {
      LOG.debug("container {} of {} was already gone", name, describe());
    }
  }

  @Override
  public String toString() {
    return "DockerContainer[" + name + ", task=" + taskId + ", id=" + containerId + "]";
  }

  // ---- used by the driver, the event stream and the sandbox

  /**
   * Called before the start: watches the container through the event stream if it runs already, so
   * that waiting for it needs no status read (see {@link ExitEvents#watchBeforeStart}). Without a
   * memory limit, its die event's exit code can serve as its final status.
   */
  void watchFromStart(boolean memoryLimited) {
    this.memoryLimited = memoryLimited;
    exitCodeFromEvent = !memoryLimited;
    watchedSinceStart = namespace.events().watchBeforeStart(this);
    if (!watchedSinceStart && memoryLimited) {
      // The engine may tell of an OOM kill by its event only: watch from the start, so that it is
      // seen even by a caller who only polls the status.
      try {
        namespace.events().watch(this);
        watchedSinceStart = true;
      } catch (RuntimeException e) {
        LOG.debug("watching container {} of {} failed: {}", name, describe(), e.toString());
      }
    }
  }

  /** Notes a found container's memory limit (from its inspection). */
  void memoryLimited(boolean limited) {
    memoryLimited |= limited;
  }

  /** The start failed: stop watching. */
  void startFailed() {
    watchedSinceStart = false;
    namespace.events().unwatch(this);
    namespace.forget(this);
  }

  /** Makes this container a sandbox's main process: its cleanup removes the sandbox. */
  void sandbox(DockerSandbox box) {
    this.sandbox = box;
  }

  /**
   * Enforces the task's timeout in this driver instance, once: at {@code startedAt} plus the
   * timeout, {@link #expire()} runs.
   */
  void scheduleTimeout(Instant startedAt) {
    if (timeout == null || !timerSet.compareAndSet(false, true)) {
      return;
    }
    // No Instant arithmetic: startedAt plus a timeout of FOREVER lies beyond Instant.MAX.
    Duration ran = Duration.between(startedAt, Instant.now());
    Duration left =
        ran.isNegative()
            ? timeout
            : ran.compareTo(timeout) >= 0 ? Duration.ZERO : timeout.minus(ran);
    LOG.debug("container {} of {} times out in {}", name, describe(), left);
    namespace.schedule(this::expire, left);
  }

  /**
   * The task ran out of time: SIGTERM now, SIGKILL after {@link #TIMEOUT_GRACE}, reason {@link
   * ExitReason#TIMED_OUT}. Runs on the driver's executor and never blocks for the grace.
   */
  void expire() {
    if (done != null || removing || namespace.isClosed()) {
      return;
    }
    if (status().isDone() || !requested.compareAndSet(null, ExitReason.TIMED_OUT)) {
      return;
    }
    LOG.info(
        "container {} of {} ran longer than its timeout of {}: stopping it",
        name,
        describe(),
        timeout);
    onExit();
    signal("TERM");
    namespace.schedule(
        () -> {
          if (done == null && !removing && !namespace.isClosed() && !status().isDone()) {
            LOG.info(
                "container {} of {} still runs {} after its timeout: killing it",
                name,
                describe(),
                TIMEOUT_GRACE);
            signal("KILL");
          }
        },
        TIMEOUT_GRACE);
  }

  /** Reads the status once (the engine reported a death, or the event stream had a gap). */
  void recheck() {
    if (done != null || removing || namespace.isClosed()) {
      namespace.events().unwatch(this);
      return;
    }
    try {
      refresh(inspect("reading the status of"));
    } catch (ContainerNotFoundException e) {
      if (!removing) {
        fail(e);
      }
    } catch (RuntimeException e) {
      LOG.warn(
          "reading the status of container {} of {} failed; trying again in {} ms: {}",
          name,
          describe(),
          RECHECK_PAUSE.toMillis(),
          e.getMessage());
      namespace.schedule(this::recheck, RECHECK_PAUSE);
    }
  }

  /**
   * Reads the status once, soon after the start ({@link ExitEvents#started}), if someone waits for
   * the end ({@link #onExit()}) and it is not known already: a caller of {@link #status()} reads it
   * anyway. A failed read is not tried again: the exit event and the sweep still come.
   */
  void readEarly() {
    if (done != null || removing || namespace.isClosed()) {
      return;
    }
    synchronized (lock) {
      if (exit == null) {
        return;
      }
    }
    try {
      refresh(inspect("reading the status of"));
    } catch (RuntimeException e) {
      LOG.debug(
          "an early status read of container {} of {} failed: {}", name, describe(), e.toString());
    }
  }

  /**
   * The engine reported the container's death with this exit code (the event's {@code exitCode},
   * null if it had none): final at once when the code tells everything, else read the status.
   */
  void died(String exitCode) {
    if (done != null || removing || namespace.isClosed()) {
      namespace.events().unwatch(this);
      return;
    }
    diedAt = Instant.now();
    int code = -1;
    try {
      code = exitCode == null ? -1 : Integer.parseInt(exitCode.strip());
    } catch (NumberFormatException e) {
      LOG.debug("the die event of container {} has exit code '{}': {}", name, exitCode, e);
    }
    if (!exitCodeFromEvent || code < 0 || code > 255 || code == 137 || code == 143) {
      recheck();
      return;
    }
    ExitReason reason = requested.get();
    record(reason == null ? ContainerStatus.exited(code) : ContainerStatus.done(code, reason));
  }

  /**
   * The engine reported an OOM kill in the container (its {@code oom} event): before its death, or
   * after it, while the status waits for such a report.
   */
  void oomReported() {
    oomReportedAt = Instant.now();
    LOG.debug("the engine reports an OOM kill in container {} of {}", name, describe());
    boolean waiting;
    synchronized (lock) {
      waiting = lateOomUntil != 0;
    }
    if (waiting) {
      recheck();
    }
  }

  /** When this instance received the engine's die event of the container, or null. */
  Instant diedAt() {
    return diedAt;
  }

  /** When this instance received the engine's oom event of the container, or null. */
  Instant oomReportedAt() {
    return oomReportedAt;
  }

  /** The engine removed the container, and not on this driver's request. */
  void destroyed() {
    synchronized (lock) {
      if (removing || done != null) {
        return;
      }
      destroyed = true;
    }
    fail(
        new ContainerNotFoundException(
            taskId,
            "container "
                + name
                + " of "
                + describe()
                + " was removed behind the driver's back before it was seen to end",
            null));
  }

  /** The driver closed: whoever still waits learns that the container went with the namespace. */
  void driverClosed() {
    fail(closedDriver("waiting for"));
  }

  // ---- status

  private InspectContainerResponse inspect(String action) {
    try {
      LOG.debug("inspecting container {} of {}", name, describe());
      return namespace.api().inspectContainerCmd(containerId).exec();
    } catch (NotFoundException e) {
      throw notFound(action, e);
    } catch (RuntimeException e) {
      throw EngineErrors.failure(action + " container " + name + " of " + describe(), e);
    }
  }

  /** Turns an inspection into the status, recording it once it is final. */
  private ContainerStatus refresh(InspectContainerResponse inspected) {
    ContainerStatus status =
        EngineStates.statusOf(
            inspected.getState(), requested.get(), timeout, oomReportedAt != null);
    if (!status.isDone()) {
      return status;
    }
    return awaitsLateOom(status) ? ContainerStatus.running() : record(status);
  }

  /**
   * Whether a SIGKILL may still turn out to be the engine's OOM kill: for a memory-limited task
   * whose death this instance watched, the first such status starts a wait of {@link #LATE_OOM}
   * (then the state is read once more), during which the task still reads as running.
   */
  private boolean awaitsLateOom(ContainerStatus status) {
    if (status.exitCode() != 137
        || status.reason() != ExitReason.SIGNALED
        || !memoryLimited
        || !(watchedSinceStart || diedAt != null)) {
      return false;
    }
    long now = System.nanoTime();
    synchronized (lock) {
      if (lateOomUntil != 0) {
        return now - lateOomUntil < 0;
      }
      lateOomUntil = now + LATE_OOM.toNanos();
    }
    LOG.debug(
        "container {} of {} died of SIGKILL without an OOM report from the engine yet; waiting up"
            + " to {} for one",
        name,
        describe(),
        LATE_OOM);
    namespace.schedule(this::recheck, LATE_OOM);
    return true;
  }

  /** Records the final status, the first one wins, and completes the waiters with it. */
  private ContainerStatus record(ContainerStatus status) {
    CompletableFuture<ContainerStatus> waiting;
    ContainerStatus recorded;
    synchronized (lock) {
      if (done == null && destroyed) {
        // A status read that raced the removal: the waiters learned that the container is gone,
        // and status() says so too (it reads the engine, which no longer has it).
        return status;
      }
      if (done == null) {
        done = status;
        LOG.debug("container {} of {} ended {}", name, describe(), status);
      }
      recorded = done;
      waiting = exit;
    }
    if (waiting != null) {
      waiting.complete(recorded);
    }
    namespace.events().unwatch(this);
    return recorded;
  }

  private void fail(RuntimeException e) {
    CompletableFuture<ContainerStatus> waiting;
    synchronized (lock) {
      waiting = exit;
    }
    if (waiting != null) {
      waiting.completeExceptionally(e);
    }
    namespace.events().unwatch(this);
  }

  private void signal(String signal) {
    try {
      LOG.debug("sending SIG{} to container {} of {}", signal, name, describe());
      namespace.api().killContainerCmd(containerId).withSignal(signal).exec();
    } catch (NotFoundException e) {
      throw notFound("stopping", e);
    } catch (ConflictException e) {
      LOG.debug("container {} of {} no longer runs: {}", name, describe(), EngineErrors.answer(e));
    } catch (RuntimeException e) {
      throw EngineErrors.failure(
          "sending SIG" + signal + " to container " + name + " of " + describe(), e);
    }
  }

  /** Kills the task after the stopping thread was interrupted; the flag is cleared meanwhile. */
  private void killAfterInterrupt() {
    boolean interrupted = Thread.interrupted();
    try {
      signal("KILL");
    } catch (RuntimeException e) {
      LOG.warn(
          "killing container {} of {} after an interrupted stop failed: {}",
          name,
          describe(),
          e.getMessage());
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** After close() the namespace's containers are gone, and so is the connection. */
  void requireDriverOpen(String action) {
    if (namespace.isClosed()) {
      throw closedDriver(action);
    }
  }

  private ContainerNotFoundException closedDriver(String action) {
    return new ContainerNotFoundException(
        taskId,
        action
            + " container "
            + name
            + " of "
            + describe()
            + " failed: the driver was closed, which removed every container of the namespace",
        null);
  }

  /** The container is gone: what {@code action} throws. */
  ContainerNotFoundException notFound(String action, NotFoundException e) {
    return new ContainerNotFoundException(
        taskId,
        action
            + " container "
            + name
            + " of "
            + describe()
            + " failed: it no longer exists (cleaned up, or removed outside the driver)"
            + (e == null ? "" : "; " + EngineErrors.answer(e)),
        e);
  }

  /** The task, for messages. */
  String describe() {
    return namespace.describe(taskId);
  }

  /** Whether the status is final (and cached). */
  boolean isDone() {
    return done != null;
  }

  /** Whether this driver is removing the container. */
  boolean isRemoving() {
    return removing;
  }
}
