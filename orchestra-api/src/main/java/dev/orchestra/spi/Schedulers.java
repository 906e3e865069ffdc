package dev.orchestra.spi;

import java.time.Duration;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The background threads of Orchestra and its drivers: scheduled executors whose threads end when
 * they have been idle for a while, and come back with the next task.
 *
 * <p>A thread that never ends keeps its class loader, and every class loader it reaches, from being
 * collected: in a host that loads and unloads plug-ins with class loaders of their own (a CI
 * server, a build tool, an IDE) a shared executor kept for good would pin the plug-in that first
 * used it. An executor from here has no thread once it has had nothing to run, delayed work
 * included, for its keep-alive time, whether or not anybody shuts it down; one that belongs to a
 * driver is still shut down by the driver's {@code close()}.
 */
public final class Schedulers {

  private Schedulers() {}

  /**
   * A scheduled executor of daemon threads that end once idle. Cancelled tasks leave its queue at
   * once, so a cancelled timeout does not keep a thread alive.
   *
   * @param owner the class the executor serves: each thread's context class loader is its loader,
   *     never that of whichever caller happened to start the thread
   * @param namePrefix the threads' names, each followed by its number ({@code orchestra-local-timer
   *     1})
   * @param threads the most threads at once
   * @param keepAlive how long a thread waits for work before it ends; positive
   * @return the executor
   */
  public static ScheduledThreadPoolExecutor idleStopping(
      Class<?> owner, String namePrefix, int threads, Duration keepAlive) {
    ClassLoader loader = owner.getClassLoader();
    AtomicInteger count = new AtomicInteger();
    ScheduledThreadPoolExecutor executor =
        new ScheduledThreadPoolExecutor(
            threads,
            r -> {
              Thread t = new Thread(r, namePrefix + " " + count.incrementAndGet());
              t.setDaemon(true);
              t.setContextClassLoader(loader);
              return t;
            });
    executor.setRemoveOnCancelPolicy(true);
    executor.setKeepAliveTime(Durations.saturatedNanos(keepAlive), TimeUnit.NANOSECONDS);
    executor.allowCoreThreadTimeOut(true);
    return executor;
  }
}
