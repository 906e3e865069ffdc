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
 * it. The reads of a long answer share one timer task ({@link Reads}), so that a log of a hundred
 * megabytes, thousands of reads, does not cost a schedule and a cancel for each.
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

  /**
   * The bound of each read of one answer, as {@link #run} bounds one exchange, with one timer task
   * for the whole answer. One thread reads at a time; {@link Reads#close()} when the answer is
   * done.
   */
  Reads reads() {
    return new Reads();
  }

  /** The failure of an exchange that the socket's own timeout ended. */
  EngineTimeoutException timedOut(Throwable cause) {
    return new EngineTimeoutException(host, timeout, cause);
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }

  /**
   * The deadlines of the reads of one answer. Each read is bounded by the timeout from its own
   * start; one timer task looks at the read in progress when the earliest bound could pass, and
   * looks again when that read has not started early enough to be late. Between reads, and after a
   * read ended, no task waits: the next read schedules one if none is pending.
   */
  final class Reads implements AutoCloseable {

    private Thread reader;
    private long started;
    private boolean rang;
    private boolean closed;
    private ScheduledFuture<?> check;

    private Reads() {}

    /**
     * Runs one read on the calling thread, bounded by the timeout.
     *
     * @return what it returned, also if the bound passed just as it returned
     * @throws E what it threw, unless the bound had passed
     * @throws EngineTimeoutException if the bound passed before it returned
     */
    <T, E extends Exception> T run(Exchange<T, E> read) throws E, EngineTimeoutException {
      begin();
      try {
        return read.run();
      } catch (Exception e) {
        if (end()) {
          throw new EngineTimeoutException(host, timeout, e);
        }
        throw e;
      } finally {
        end();
      }
    }

    private synchronized void begin() {
      reader = Thread.currentThread();
      started = System.nanoTime();
      rang = false;
      if (check == null && !closed) {
        schedule(timeout.toNanos());
      }
    }

    /**
     * Ends the read in progress, if any: no interrupt after this. Clears the interrupt the check
     * sent (it was sent under this lock, so it has arrived).
     *
     * @return whether the bound interrupted the last read
     */
    private synchronized boolean end() {
      if (reader != null) {
        reader = null;
        if (rang) {
          Thread.interrupted();
        }
      }
      return rang;
    }

    private synchronized void check() {
      check = null;
      if (closed || reader == null) {
        return;
      }
      long left = started + timeout.toNanos() - System.nanoTime();
      if (left > 0) {
        schedule(left);
      } else if (!reader.isInterrupted()) {
        // A thread already interrupted by its own caller ends the read that way.
        rang = true;
        reader.interrupt();
      }
    }

    private void schedule(long nanos) {
      try {
        check = timer.schedule(this::check, nanos, TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException stopped) {
        // The connection is closed: so is every socket a read could block on.
      }
    }

    /** No check after this; a read in progress is no longer bounded. */
    @Override
    public synchronized void close() {
      closed = true;
      if (check != null) {
        check.cancel(false);
        check = null;
      }
    }
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
