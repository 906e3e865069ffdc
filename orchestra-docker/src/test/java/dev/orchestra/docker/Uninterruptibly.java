package dev.orchestra.docker;

import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A bounded wait that an interrupt of the waiting thread does not cut short. The build's checks of
 * the engine ({@link EngineHealthProbe}, {@link EngineRestart}) wait this way: they run on the
 * thread of whichever test is about to start or has just failed, and an interrupt of that thread
 * says nothing about the engine. Taken for a failed probe, it would fail every later test.
 */
final class Uninterruptibly {

  private Uninterruptibly() {}

  /**
   * Waits until {@code future} is done or {@code bound} has passed. An interrupt of this thread,
   * before or during the wait, is kept: the flag is set again on return.
   *
   * @return whether {@code future} is done (completed, failed or cancelled)
   */
  static boolean await(Future<?> future, Duration bound) {
    boolean interrupted = Thread.interrupted();
    long deadline = System.nanoTime() + bound.toNanos();
    try {
      while (true) {
        try {
          future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
          return true;
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (ExecutionException | CancellationException e) {
          return true;
        } catch (TimeoutException e) {
          return false;
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
