package dev.orchestra.local;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one timer thread that every task of the local driver shares for its timeout and the grace
 * period after it: thousands of tasks with a timeout cost one thread, not one each. Actions must be
 * quick and must not block; they only send signals.
 */
final class TaskTimer {

  private static final Logger LOG = LoggerFactory.getLogger(TaskTimer.class);

  private static final Duration LONGEST = Duration.ofNanos(Long.MAX_VALUE);

  private static final ScheduledThreadPoolExecutor TIMER = newTimer();

  private TaskTimer() {}

  private static ScheduledThreadPoolExecutor newTimer() {
    ScheduledThreadPoolExecutor timer =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "orchestra-local-timer");
              t.setDaemon(true);
              return t;
            });
    // Most timeouts are cancelled because the task ends first: do not let them pile up.
    timer.setRemoveOnCancelPolicy(true);
    return timer;
  }

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
        saturatedNanos(delay),
        TimeUnit.NANOSECONDS);
  }

  /**
   * A duration in nanoseconds, {@link Long#MAX_VALUE} (292 years) for longer ones.
   *
   * @param duration a positive duration
   * @return its nanoseconds, saturated
   */
  static long saturatedNanos(Duration duration) {
    return duration.compareTo(LONGEST) >= 0 ? Long.MAX_VALUE : duration.toNanos();
  }
}
