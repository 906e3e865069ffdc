package dev.orchestra.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The bounds of exchanges and of the reads of one answer. */
class RequestDeadlinesTest {

  private static final URI HOST = URI.create("unix:///var/run/docker.sock");

  private final RequestDeadlines deadlines = new RequestDeadlines(HOST, Duration.ofMillis(300));

  @AfterEach
  void close() {
    deadlines.close();
    Thread.interrupted();
  }

  /** A read that blocks until interrupted, as a read on a channel-based socket does. */
  private static int blockedRead() throws IOException {
    try {
      new CountDownLatch(1).await(1, TimeUnit.MINUTES);
    } catch (InterruptedException e) {
      throw new InterruptedIOException("the read was interrupted");
    }
    throw new IOException("the read was never interrupted");
  }

  @Test
  void aReadThatBlocksPastTheBoundTimesOutAndLeavesNoInterrupt() {
    try (RequestDeadlines.Reads reads = deadlines.reads()) {
      assertThatThrownBy(() -> reads.run(RequestDeadlinesTest::blockedRead))
          .isInstanceOf(EngineTimeoutException.class)
          .hasCauseInstanceOf(InterruptedIOException.class);
      assertThat(Thread.currentThread().isInterrupted()).isFalse();
      // The answer's next read has a bound of its own again.
      assertThatThrownBy(() -> reads.run(RequestDeadlinesTest::blockedRead))
          .isInstanceOf(EngineTimeoutException.class);
      assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }
  }

  @Test
  void eachReadHasItsOwnBoundNotTheAnswerAsAWhole() throws Exception {
    try (RequestDeadlines.Reads reads = deadlines.reads()) {
      long start = System.nanoTime();
      int count = 0;
      // Reads of 50 ms each, for well over the bound of 300 ms in all: none times out.
      while (System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(900)) {
        count +=
            reads.run(
                () -> {
                  TimeUnit.MILLISECONDS.sleep(50);
                  return 1;
                });
      }
      assertThat(count).isGreaterThan(6);
      assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }
  }

  @Test
  void aCallersInterruptIsTheCallersNotATimeout() {
    try (RequestDeadlines.Reads reads = deadlines.reads()) {
      Thread.currentThread().interrupt();
      assertThatThrownBy(() -> reads.run(RequestDeadlinesTest::blockedRead))
          .isInstanceOf(InterruptedIOException.class)
          .isNotInstanceOf(EngineTimeoutException.class);
    }
  }

  @Test
  void aReadOfAClosedAnswerIsNoLongerBoundedButStillRuns() throws Exception {
    RequestDeadlines.Reads reads = deadlines.reads();
    reads.close();
    assertThat(reads.run(() -> 7)).isEqualTo(7);
    assertThat(Thread.currentThread().isInterrupted()).isFalse();
  }

  @Test
  void anExchangeThatBlocksPastTheBoundTimesOut() {
    assertThatThrownBy(() -> deadlines.run(RequestDeadlinesTest::blockedRead))
        .isInstanceOf(EngineTimeoutException.class);
    assertThat(Thread.currentThread().isInterrupted()).isFalse();
  }
}
