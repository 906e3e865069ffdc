package dev.orchestra.docker;

import com.github.dockerjava.api.async.ResultCallback;
import dev.orchestra.spi.Exceptions;
import java.io.Closeable;
import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The callback of one streaming engine call (attach, logs, pull). Unlike docker-java's adapter, it
 * never logs a failure at ERROR: the first failure is handed to the thread that waits, which turns
 * it into the driver's exception. Waiting answers {@link Thread#interrupt()}: the stream is closed,
 * the flag restored, and an {@link dev.orchestra.OrchestraInterruptedException} thrown.
 *
 * @param <T> the items the stream delivers
 */
class StreamCallback<T> implements ResultCallback<T> {

  private static final Logger LOG = LoggerFactory.getLogger(StreamCallback.class);

  private final CountDownLatch started = new CountDownLatch(1);
  private final CountDownLatch finished = new CountDownLatch(1);
  private final AtomicBoolean ended = new AtomicBoolean();
  private final Object lock = new Object();
  private Closeable stream;
  private boolean closed;
  private Throwable failure;

  @Override
  public void onStart(Closeable stream) {
    boolean closeNow;
    synchronized (lock) {
      this.stream = stream;
      closeNow = closed;
    }
    if (closeNow) {
      closeQuietly(stream);
    }
    started.countDown();
  }

  @Override
  public void onNext(T item) {}

  @Override
  public void onError(Throwable t) {
    synchronized (lock) {
      if (closed) {
        // The stream failed because it was closed on purpose.
        LOG.trace("stream closed: {}", t.toString());
      } else if (failure == null) {
        failure = t;
      }
    }
    end();
  }

  @Override
  public void onComplete() {
    end();
  }

  /** Closes the stream (the call stops) and releases every waiting thread. Idempotent. */
  @Override
  public void close() {
    Closeable toClose;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      toClose = stream;
    }
    if (toClose != null) {
      closeQuietly(toClose);
    }
    end();
  }

  /**
   * Waits until the engine accepted the call (or refused it).
   *
   * @param what what is being done, for messages
   * @throws RuntimeException what the call failed with, as thrown by docker-java
   */
  void awaitStarted(String what) {
    await(started, what);
    throwFailure(what);
  }

  /**
   * Waits until the stream ends.
   *
   * @param what what is being done, for messages
   * @throws RuntimeException what the call failed with, as thrown by docker-java
   */
  void awaitCompletion(String what) {
    await(finished, what);
    throwFailure(what);
  }

  /** Whether the stream has ended, normally, by failure or by {@link #close()}. */
  boolean isFinished() {
    return finished.getCount() == 0;
  }

  /** Runs once when the stream ends, whatever the reason, before waiting threads are released. */
  protected void onEnd() {}

  private void end() {
    if (!ended.compareAndSet(false, true)) {
      return;
    }
    try {
      onEnd();
    } finally {
      started.countDown();
      finished.countDown();
    }
  }

  private void await(CountDownLatch latch, String what) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      close();
      throw Exceptions.launder(what, e);
    }
  }

  private void throwFailure(String what) {
    Throwable t;
    synchronized (lock) {
      t = failure;
    }
    if (t != null) {
      throw Exceptions.launder(what, t);
    }
  }

  private static void closeQuietly(Closeable c) {
    try {
      c.close();
    } catch (IOException | RuntimeException e) {
      LOG.debug("closing an engine stream failed: {}", e.toString());
    }
  }
}
