package dev.orchestra.docker;

import com.github.dockerjava.api.command.EventsCmd;
import com.github.dockerjava.api.model.Event;
import com.github.dockerjava.api.model.EventType;
import dev.orchestra.OrchestraException;
import dev.orchestra.spi.Exceptions;
import java.io.Closeable;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The exit events of one driver's namespace: ONE stream of the engine's events ({@code GET
 * /events}, filtered to containers of the namespace and, where the engine's filter knows them
 * ({@link EngineFlavour#eventFilter()}), to the actions {@code die}, {@code oom} and {@code
 * destroy}) serves every container whose end someone waits for, so that thousands of waiting tasks
 * cost neither a thread nor an engine call each per poll.
 *
 * <p>A container is watched from {@link #watch(DockerContainer)} until it is done; its {@code die}
 * gives its final status ({@link DockerContainer#died}: from the event's exit code, or by reading
 * the status once), its {@code oom} tells that the engine killed something in it for memory, before
 * or after the {@code die} ({@link DockerContainer#oomReported()}), its {@code destroy} (removed
 * behind the driver's back) makes its waiters fail ({@link DockerContainer#destroyed()}). The
 * stream is opened on the first watch. Should it drop while containers are watched, it is opened
 * again after a pause (growing from 0.5 to 30 seconds while the engine does not answer), and every
 * watched container reads its status once the new stream runs, for an exit the gap hid. Handlers
 * run on the driver's executor, never on the thread that reads the stream.
 *
 * <p>An engine may also fail to deliver an event on a stream that runs (Podman did, for a container
 * that exited at once just after the first subscription). So while containers are watched, every
 * {@link #SWEEP_PERIOD} one request lists the namespace's exited containers, and each watched one
 * among them reads its status: an exit without its event is seen within that period, at the cost of
 * one engine call per driver, however many tasks wait.
 */
final class ExitEvents implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ExitEvents.class);

  private static final Duration FIRST_PAUSE = Duration.ofMillis(500);
  private static final Duration LONGEST_PAUSE = Duration.ofSeconds(30);

  /**
   * When a container's status is read after its start on an engine whose exit events lag ({@link
   * EngineFlavour#exitEventsLag()}): a task that ends within a quarter second is seen about as soon
   * as it ends, at the cost of at most three reads for each awaited task.
   */
  static final List<Duration> EARLY_READS =
      List.of(Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofMillis(150));

  /** How often, while containers are watched, the namespace's exited containers are listed. */
  static final Duration SWEEP_PERIOD = Duration.ofSeconds(10);

  private final DockerNamespace namespace;
  private final ConcurrentHashMap<String, DockerContainer> watched = new ConcurrentHashMap<>();
  private final Object lock = new Object();

  /** The current stream; guarded by {@link #lock}. */
  private EventStream stream;

  /** Set by {@link #close()}; guarded by {@link #lock}. */
  private boolean closed;

  /** The pause before the next attempt to subscribe again; guarded by {@link #lock}. */
  private Duration pause = FIRST_PAUSE;

  /** Whether a sweep is scheduled; guarded by {@link #lock}. */
  private boolean sweepScheduled;

  /** How many streams were opened: for tests, which check that one serves everyone. */
  private int opened;

  ExitEvents(DockerNamespace namespace) {
    this.namespace = namespace;
  }

  /**
   * Watches a container until it is done or forgotten. Returns once the event stream runs, so that
   * a status read after this call and the events cover every moment.
   *
   * @throws OrchestraException if the engine does not accept the subscription
   * @throws dev.orchestra.OrchestraInterruptedException if interrupted while waiting for it
   * @throws IllegalStateException if the driver is closed
   */
  void watch(DockerContainer container) {
    watched.put(container.id(), container);
    sweepLater();
    EventStream current = current();
    // The engine accepts a subscription at once: a wait as long as any request's.
    Duration patience = namespace.connection().requestTimeout();
    try {
      current.ready.get(patience.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      unwatch(container);
      throw Exceptions.launder(subscribing(), e);
    } catch (ExecutionException e) {
      unwatch(container);
      throw EngineErrors.failure(subscribing(), e.getCause());
    } catch (TimeoutException e) {
      unwatch(container);
      throw new OrchestraException(
          subscribing()
              + " failed: the engine at "
              + namespace.describeEngine()
              + " did not answer within "
              + patience,
          e);
    }
  }

  /**
   * Watches a container that has not started yet, if the event stream already runs: then its exit
   * will come as an event, and nobody needs to read its status to catch an exit that came first.
   * Costs no engine call.
   *
   * @return whether it is watched; if not, {@link #watch} must be used, followed by a status read
   */
  boolean watchBeforeStart(DockerContainer container) {
    synchronized (lock) {
      if (closed
          || stream == null
          || stream.isFinished()
          || !stream.ready.isDone()
          || stream.ready.isCompletedExceptionally()) {
        return false;
      }
      watched.put(container.id(), container);
    }
    sweepLater();
    return true;
  }

  /**
   * A container just started. On an engine whose exit events lag ({@link
   * EngineFlavour#exitEventsLag()}), its status is read at each of {@link #EARLY_READS} after now
   * while someone waits for its end, until it is done: a short task's end is then seen without
   * waiting for its event.
   */
  void started(DockerContainer container) {
    if (!namespace.connection().flavour().exitEventsLag()) {
      return;
    }
    for (Duration delay : EARLY_READS) {
      namespace.schedule(container::readEarly, delay);
    }
  }

  /** Stops watching a container (it is done, or forgotten). */
  void unwatch(DockerContainer container) {
    watched.remove(container.id(), container);
  }

  /** How many event streams this driver opened so far. */
  int streamsOpened() {
    synchronized (lock) {
      return opened;
    }
  }

  /** Ends the stream; later watches fail. Idempotent. */
  @Override
  public void close() {
    EventStream toClose;
    synchronized (lock) {
      closed = true;
      toClose = stream;
      stream = null;
    }
    watched.clear();
    if (toClose != null) {
      toClose.close();
    }
  }

  /** The running stream, opened if there is none. */
  private EventStream current() {
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException(
            "the docker driver of namespace '" + namespace.name() + "' is closed");
      }
      if (stream == null || stream.isFinished()) {
        stream = open(stream != null);
      }
      return stream;
    }
  }

  /** Opens a stream; guarded by {@link #lock}. */
  private EventStream open(boolean replacing) {
    EventStream s = new EventStream(replacing);
    opened++;
    LOG.debug(
        "subscribing to the die, oom and destroy events of namespace '{}'{}",
        namespace.name(),
        replacing ? " again" : "");
    EventsCmd events =
        namespace
            .connection()
            .streams()
            .eventsCmd()
            .withEventTypeFilter(EventType.CONTAINER)
            .withLabelFilter(Map.of(Labels.NAMESPACE, namespace.name()));
    List<String> actions = namespace.connection().flavour().eventFilter();
    if (!actions.isEmpty()) {
      events.withEventFilter(actions.toArray(String[]::new));
    }
    events.exec(namespace.streamWatch().track(s, subscribing()));
    return s;
  }

  /** A stream ended: open another after a pause if anyone still waits. */
  private void ended(EventStream s, Throwable failure) {
    Duration wait;
    synchronized (lock) {
      if (closed || stream != s) {
        return;
      }
      if (watched.isEmpty()) {
        LOG.debug("the event stream of namespace '{}' ended; nobody waits", namespace.name());
        return;
      }
      if (s.ready.isDone() && !s.ready.isCompletedExceptionally()) {
        pause = FIRST_PAUSE;
      }
      wait = pause;
      Duration doubled = pause.multipliedBy(2);
      pause = doubled.compareTo(LONGEST_PAUSE) > 0 ? LONGEST_PAUSE : doubled;
    }
    LOG.warn(
        "the event stream of namespace '{}' on the engine at {} ended ({}) while {} container(s)"
            + " are watched; subscribing again in {} ms",
        namespace.name(),
        namespace.describeEngine(),
        failure == null ? "closed by the engine" : EngineErrors.rootCause(failure),
        watched.size(),
        wait.toMillis());
    namespace.schedule(this::resubscribe, wait);
  }

  private void resubscribe() {
    synchronized (lock) {
      if (closed || watched.isEmpty() || (stream != null && !stream.isFinished())) {
        return;
      }
      stream = open(true);
    }
  }

  /** Schedules a sweep in {@link #SWEEP_PERIOD}, unless one is scheduled or the driver closed. */
  private void sweepLater() {
    synchronized (lock) {
      if (closed || sweepScheduled) {
        return;
      }
      sweepScheduled = true;
    }
    namespace.schedule(this::sweep, SWEEP_PERIOD);
  }

  /**
   * Lists the namespace's exited containers; each watched one among them reads its status, for an
   * exit whose event never came. Then schedules the next sweep, while anything is watched.
   */
  private void sweep() {
    synchronized (lock) {
      sweepScheduled = false;
      if (closed || watched.isEmpty()) {
        return;
      }
    }
    try {
      for (com.github.dockerjava.api.model.Container listed :
          namespace
              .api()
              .listContainersCmd()
              .withShowAll(true)
              .withLabelFilter(Map.of(Labels.NAMESPACE, namespace.name()))
              .withStatusFilter(List.of("exited", "dead"))
              .exec()) {
        DockerContainer container = watched.get(listed.getId());
        if (container != null) {
          LOG.debug(
              "container {} of namespace '{}' exited and its event did not come; reading its"
                  + " status",
              listed.getId(),
              namespace.name());
          namespace.execute(container::recheck);
        }
      }
    } catch (RuntimeException e) {
      LOG.debug(
          "listing the exited containers of namespace '{}' failed; trying again in {} s: {}",
          namespace.name(),
          SWEEP_PERIOD.toSeconds(),
          e.toString());
    }
    if (!watched.isEmpty()) {
      sweepLater();
    }
  }

  /** Reads every watched container's status once: an exit may have fallen into a gap. */
  private void recheckAll() {
    List<DockerContainer> all = List.copyOf(watched.values());
    LOG.debug(
        "the event stream of namespace '{}' runs again; reading {} watched container(s)",
        namespace.name(),
        all.size());
    for (DockerContainer c : all) {
      namespace.execute(c::recheck);
    }
  }

  private String subscribing() {
    return "subscribing to the exit events of namespace '" + namespace.name() + "'";
  }

  /** One subscription: dispatches each event to its container, reports its own end. */
  private final class EventStream extends StreamCallback<Event> {

    final CompletableFuture<Void> ready = new CompletableFuture<>();
    private final boolean replacing;
    private volatile Throwable failure;

    EventStream(boolean replacing) {
      this.replacing = replacing;
    }

    @Override
    public void onStart(Closeable stream) {
      super.onStart(stream);
      ready.complete(null);
      if (replacing) {
        recheckAll();
      }
    }

    @Override
    public void onNext(Event event) {
      String action =
          EngineFlavour.exitAction(
              event.getAction() != null ? event.getAction() : event.getStatus());
      String id = event.getId();
      if (id == null && event.getActor() != null) {
        id = event.getActor().getId();
      }
      DockerContainer container = id == null ? null : watched.get(id);
      LOG.debug(
          "event '{}' of container {} in namespace '{}'{}",
          action,
          id,
          namespace.name(),
          container == null ? " (not watched)" : "");
      if (container == null || action == null) {
        return;
      }
      if ("die".equals(action)) {
        String exitCode =
            event.getActor() == null || event.getActor().getAttributes() == null
                ? null
                : event.getActor().getAttributes().get("exitCode");
        namespace.execute(() -> container.died(exitCode));
      } else if ("oom".equals(action)) {
        namespace.execute(container::oomReported);
      } else if ("destroy".equals(action)) {
        namespace.execute(container::destroyed);
      }
    }

    @Override
    public void onError(Throwable t) {
      failure = t;
      super.onError(t);
    }

    @Override
    protected void onEnd() {
      Throwable t = failure;
      ready.completeExceptionally(
          t != null ? t : new OrchestraException("the engine ended the event stream at once"));
      ended(this, t);
    }
  }
}
