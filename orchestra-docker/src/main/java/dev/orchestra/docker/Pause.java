package dev.orchestra.docker;

import dev.orchestra.spi.Exceptions;
import java.time.Duration;

/** Bounded, growing pauses between retries of one engine call; answers interruption. */
final class Pause {

  private final String what;
  private final long deadline;
  private long millis = 50;

  /**
   * Starts the patience.
   *
   * @param what what is retried, for the message of an interruption
   * @param patience how long retrying may go on
   */
  Pause(String what, Duration patience) {
    this.what = what;
    this.deadline = System.nanoTime() + patience.toNanos();
  }

  /**
   * Sleeps before another attempt.
   *
   * @return {@code false} when patience is exhausted (without sleeping)
   * @throws dev.orchestra.OrchestraInterruptedException if the thread is interrupted
   */
  boolean again() {
    if (System.nanoTime() - deadline > 0) {
      return false;
    }
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      throw Exceptions.launder(what, e);
    }
    millis = Math.min(millis * 2, 1000);
    return true;
  }
}
