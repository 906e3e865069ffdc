package dev.orchestra.docker;

import dev.orchestra.spi.Schedulers;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Bounds a blocking exchange with the engine by the driver's {@code requestTimeout}, whatever the
 * socket: when the bound passes, the waiting thread is interrupted, which closes a channel-based
 * socket under a blocked read (a {@code unix://} engine: docker-java's Unix socket and the driver's
 * own are channels, and ignore {@link java.net.Socket#setSoTimeout}); a {@code tcp://} socket's
 * read is bounded by its socket timeout instead. Either way the caller gets an {@link
 * EngineTimeoutException}, and the interrupt this class sent is cleared: the thread's flag says
 * what its own callers asked, nothing else.
 *
 * <p>One timer thread per connection, started on demand and gone when idle; {@link #close()} stops
 * it.
 */
final class RequestDeadlines implements AutoCloseable {

  /** A blocking exchange. */
  interface Exchange<T, E extends Exception> {
    T run() throws E;
  }

  private final URI host;
  private final Duration timeout;
  private final ScheduledThreadPoolExecutor timer;

  RequestDeadlines(URI host, Duration timeout) {
    this.host = host;
    this.timeout = timeout;
    this.timer =
        Schedulers.idleStopping(
            RequestDeadlines.class,
            "orchestra-docker deadlines " + host,
            1,
            Duration.ofSeconds(10));
  }

  /** The bound of one exchange. */
  Duration timeout() {
    return timeout;
  }

  /**
   * Runs an exchange on the calling thread, bounded by the timeout.
   *
   * @return what it returned, also if the bound passed just as it returned
   * @throws E what it threw, unless the bound had passed
   * @throws EngineTimeoutException if the bound passed before it returned; its cause is what the
   *     exchange threw when its thread was interrupted
   */
  <T, E extends Exception> T run(Exchange<T, E> exchange) throws E, EngineTimeoutException {
    Alarm alarm = new Alarm(Thread.currentThread());
    ScheduledFuture<?> scheduled;
    try {
      scheduled = timer.schedule(alarm::ring, timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException closed) {
      // The connection is closed: so is every socket it could block on.
      return exchange.run();
    }
    try {
      return exchange.run();
    } catch (Exception e) {
      if (alarm.stop()) {
        throw new EngineTimeoutException(host, timeout, e);
      }
      throw e;
    } finally {
      scheduled.cancel(false);
      alarm.stop();
    }
  }

  /** The failure of an exchange that the socket's own timeout ended. */
  EngineTimeoutException timedOut(Throwable cause) {
    return new EngineTimeoutException(host, timeout, cause);
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }

  /** The interrupt of one exchange, sent at most once, and only while the exchange runs. */
  private static final class Alarm {

    private static final int RUNNING = 0;
    private static final int STOPPED = 1;
    private static final int RUNG = 2;
    private static final int RUNG_AND_STOPPED = 3;

    private final Thread thread;
    private int state = RUNNING;

    Alarm(Thread thread) {
      this.thread = thread;
    }

    synchronized void ring() {
      // A thread already interrupted by its own caller ends the exchange that way.
      if (state == RUNNING && !thread.isInterrupted()) {
        state = RUNG;
        thread.interrupt();
      }
    }

    /**
     * Called by the exchange's thread when it ends: no ring after this. Clears the interrupt the
     * alarm sent (it was sent under this lock, so it has arrived).
     *
     * @return whether the alarm rang
     */
    synchronized boolean stop() {
      switch (state) {
        case RUNNING -> state = STOPPED;
        case RUNG -> {
          state = RUNG_AND_STOPPED;
          Thread.interrupted();
        }
        default -> {
          // stopped before
        }
      }
      return state == RUNG_AND_STOPPED;
    }
  }
}
