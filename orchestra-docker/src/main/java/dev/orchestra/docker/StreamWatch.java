package dev.orchestra.docker;

import com.github.dockerjava.api.async.ResultCallback;
import dev.orchestra.OrchestraException;
import java.io.Closeable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the streams a driver keeps open (follow, the event stream, pulls) for an engine that
 * stopped answering. A stream may stay quiet as long as its task is, so quiet alone ends nothing:
 * once a stream has delivered nothing for the request timeout, the engine is pinged (one ping,
 * bounded by the request timeout, serves every quiet stream). While pings answer, quiet streams
 * wait on. When a ping gets no answer, every stream that was quiet since before it ends with an
 * {@link OrchestraException} naming the engine, so that its caller stops waiting; a later call
 * opens a new stream, which ends the same way while the engine stays silent.
 *
 * <p>A stream whose answer never began (on {@code tcp://}, where only the caller is freed by the
 * bound on that wait, see {@link DockerConnection}) holds a connection of the streams client that
 * nothing else would close: after such a ping the streams client is replaced and the old one
 * closed, which ends every stream it still carried.
 *
 * <p>The checks run on the driver's executor every half request timeout while any stream is open,
 * and cost nothing but a look at the clock while streams deliver.
 */
final class StreamWatch {

  private static final Logger LOG = LoggerFactory.getLogger(StreamWatch.class);

  private final DockerNamespace namespace;
  private final Set<Watched<?>> streams = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean scheduled = new AtomicBoolean();

  StreamWatch(DockerNamespace namespace) {
    this.namespace = namespace;
  }

  /**
   * Watches a stream until it ends.
   *
   * @param callback the stream's callback, which the caller waits on
   * @param what what the stream is for, for the message of its end, for example {@code following
   *     the logs of container x of task 'y' in namespace 'z'}
   * @return the callback to give docker-java's {@code exec}
   */
  <T> ResultCallback<T> track(StreamCallback<T> callback, String what) {
    Watched<T> watched = new Watched<>(callback, what);
    streams.add(watched);
    if (scheduled.compareAndSet(false, true)) {
      namespace.schedule(this::check, period());
    }
    return watched;
  }

  private Duration timeout() {
    return namespace.connection().requestTimeout();
  }

  private Duration period() {
    Duration half = timeout().dividedBy(2);
    return half.compareTo(Duration.ofMillis(100)) < 0 ? Duration.ofMillis(100) : half;
  }

  private void check() {
    try {
      streams.removeIf(w -> w.callback.isFinished());
      long now = System.nanoTime();
      long quietNanos = timeout().toNanos();
      List<Watched<?>> quiet = new ArrayList<>();
      for (Watched<?> w : streams) {
        if (now - Math.max(w.lastActivity, w.lastPing) >= quietNanos) {
          quiet.add(w);
        }
      }
      if (!quiet.isEmpty() && !namespace.isClosed()) {
        ping(quiet, now);
      }
    } finally {
      scheduled.set(false);
      if (!streams.isEmpty() && !namespace.isClosed() && scheduled.compareAndSet(false, true)) {
        namespace.schedule(this::check, period());
      }
    }
  }

  private void ping(List<Watched<?>> quiet, long sent) {
    try {
      LOG.debug(
          "{} stream(s) of namespace '{}' quiet for {}: pinging the engine",
          quiet.size(),
          namespace.name(),
          timeout());
      namespace.connection().ping();
      quiet.forEach(w -> w.lastPing = sent);
    } catch (RuntimeException e) {
      if (EngineErrors.interruption(e) != null || namespace.isClosed()) {
        // The driver's executor is shutting down: close() ends the streams.
        return;
      }
      String answer = EngineErrors.answer(e);
      LOG.warn(
          "the Docker engine at {} does not answer ({}); ending {} quiet stream(s) of namespace"
              + " '{}'",
          namespace.describeEngine(),
          answer,
          quiet.size(),
          namespace.name());
      boolean unstarted = false;
      for (Watched<?> w : quiet) {
        if (w.lastActivity - sent <= 0 && !w.callback.isFinished()) {
          unstarted |= !w.started;
          w.abort(e, answer);
        }
      }
      if (unstarted) {
        namespace.connection().replaceStreams();
      }
    }
  }

  /** One watched stream: forwards to its callback and notes when bytes last came. */
  private final class Watched<T> implements ResultCallback<T> {

    final StreamCallback<T> callback;
    final String what;
    volatile long lastActivity = System.nanoTime();
    volatile long lastPing = lastActivity;
    volatile boolean started;

    Watched(StreamCallback<T> callback, String what) {
      this.callback = callback;
      this.what = what;
    }

    @Override
    public void onStart(Closeable stream) {
      lastActivity = System.nanoTime();
      started = true;
      callback.onStart(stream);
    }

    @Override
    public void onNext(T item) {
      lastActivity = System.nanoTime();
      callback.onNext(item);
    }

    @Override
    public void onError(Throwable t) {
      streams.remove(this);
      callback.onError(t);
    }

    @Override
    public void onComplete() {
      streams.remove(this);
      callback.onComplete();
    }

    @Override
    public void close() {
      streams.remove(this);
      callback.close();
    }

    /** Ends the stream: its waiter gets the failure, the engine's connection is closed. */
    void abort(RuntimeException pingFailure, String answer) {
      streams.remove(this);
      Duration quiet = Duration.ofMillis((System.nanoTime() - lastActivity) / 1_000_000);
      // No cause: the failure is the engine's silence, not a cut connection that a retry mends.
      OrchestraException e =
          new OrchestraException(
              what
                  + " failed: the Docker engine at "
                  + namespace.describeEngine()
                  + " stopped answering: the stream was quiet for "
                  + quiet
                  + " and a ping got no answer ("
                  + answer
                  + ")");
      e.addSuppressed(pingFailure);
      callback.onError(e);
      callback.close();
    }
  }
}
