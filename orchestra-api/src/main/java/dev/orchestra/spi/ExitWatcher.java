package dev.orchestra.spi;

import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Completes a future when a container is done by polling its {@link Container#status()} from one
 * shared daemon thread, each container at an interval that grows from 50 ms to 2 s.
 *
 * <p>The fallback behind {@link Container#onExit()} for drivers that have no exit event of their
 * own. One thread serves every watched container, and ends 5 seconds after the last one is done
 * (see {@link Schedulers}); a status call that throws completes the future exceptionally.
 */
public final class ExitWatcher {

  private static final Logger LOG = LoggerFactory.getLogger(ExitWatcher.class);
  private static final Duration FIRST = Duration.ofMillis(50);
  private static final Duration MOST = Duration.ofSeconds(2);

  /** How long the thread outlives the last watched container: then nothing of it is left. */
  private static final Duration IDLE = Duration.ofSeconds(5);

  private static final class Shared {
    static final ExitWatcher INSTANCE = new ExitWatcher();
  }

  private final ScheduledExecutorService timer;

  private ExitWatcher() {
    this.timer = Schedulers.idleStopping(ExitWatcher.class, "orchestra-exit-watcher", 1, IDLE);
  }

  /**
   * The watcher every default {@link Container#onExit()} shares.
   *
   * @return the shared watcher
   */
  public static ExitWatcher shared() {
    return Shared.INSTANCE;
  }

  /**
   * Watches a container until it is done.
   *
   * @param container the container
   * @return a future completed with the final status, or exceptionally with what {@link
   *     Container#status()} threw; cancelling it stops the watching
   */
  public CompletableFuture<ContainerStatus> watch(Container container) {
    CompletableFuture<ContainerStatus> future = new CompletableFuture<>();
    poll(container, future, FIRST);
    return future;
  }

  private void poll(
      Container container, CompletableFuture<ContainerStatus> future, Duration interval) {
    if (future.isDone()) {
      return;
    }
    ContainerStatus status;
    try {
      status = container.status();
    } catch (RuntimeException e) {
      LOG.debug("watching container {} failed: {}", container.id(), e.toString());
      future.completeExceptionally(e);
      return;
    }
    if (status.isDone()) {
      future.complete(status);
      return;
    }
    Duration next = interval.multipliedBy(2).compareTo(MOST) > 0 ? MOST : interval.multipliedBy(2);
    timer.schedule(() -> poll(container, future, next), interval.toMillis(), TimeUnit.MILLISECONDS);
  }
}
