package dev.orchestra.local;

import dev.orchestra.spi.Durations;
import dev.orchestra.spi.Schedulers;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one timer thread that every task of the local driver shares for its timeout and the grace
 * period after it: thousands of tasks with a timeout cost one thread, not one each. Actions must be
 * quick and must not block; they only send signals. The thread ends 5 seconds after the last
 * pending timeout fired or was cancelled, and comes back with the next one (see {@link
 * Schedulers}): no thread is left once no task of any local driver has a timeout pending.
 */
final class TaskTimer {

  private static final Logger LOG = LoggerFactory.getLogger(TaskTimer.class);

  /** How long the thread outlives the last pending timeout: then nothing of it is left. */
  private static final Duration IDLE = Duration.ofSeconds(5);

  private static final ScheduledThreadPoolExecutor TIMER =
      Schedulers.idleStopping(TaskTimer.class, "orchestra-local-timer", 1, IDLE);

  private TaskTimer() {}

  /**
   * Runs {@code action} once after {@code delay}; a failure is logged at WARN.
   *
   * @param what what the action does, for the log
   * @param action a quick, non-blocking action
   * @param delay how long to wait first
   * @return the handle to cancel it
   */
  static ScheduledFuture<?> schedule(String what, Runnable action, Duration delay) {
    return TIMER.schedule(
        () -> {
          try {
            action.run();
          } catch (RuntimeException e) {
            LOG.warn("{} failed: {}", what, e.toString(), e);
          }
        },
        Durations.saturatedNanos(delay),
        TimeUnit.NANOSECONDS);
  }
}
