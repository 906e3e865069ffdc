package dev.orchestra.docker;

import static dev.orchestra.docker.DockerTesting.IMAGE;
import static dev.orchestra.docker.DockerTesting.TASK_TIMEOUT;
import static dev.orchestra.docker.DockerTesting.engine;
import static dev.orchestra.docker.DockerTesting.namespace;
import static dev.orchestra.docker.DockerTesting.open;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.model.Frame;
import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.Task;
import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Logs of hundreds of megabytes, checked line by line without keeping them (the tests run with a 64
 * MB heap). The engine rotates a container's log file every 10^8 bytes of its framing, and its own
 * follow stream skips and repeats whole files there (Docker 20.10). Slow (a minute or more on a
 * busy engine), so in a surefire execution of its own ({@code big-logs}), which the build runs.
 */
@RequiresDocker
@Tag("big-logs")
class DockerBigLogTest {

  /** The bytes of a line, its newline included: numbered lines, {@code printf "%0999d\n"}. */
  static final int WIDTH = 1000;

  /** The engine's framing costs a line of {@link #WIDTH} bytes this much more in its files. */
  static final int FRAMING = 28;

  /** The size at which the engine starts a new log file (the driver's {@code max-size}). */
  static final long FILE = 100_000_000;

  private static final Duration PATIENCE = Duration.ofMinutes(20);

  /**
   * 300,000,000 bytes of numbered lines, every fourth on stderr, in two parts: 200 MB (two log
   * files and more), then, once the test says so, 100 MB. The follower takes nothing until the
   * first part is written, so its reads start files behind the task, where the engine's own follow
   * stream jumps to the newest file and goes on from there.
   */
  @Test
  void followDeliversEveryLineOnceAndInOrderAlsoAfterFallingFilesBehind() throws Exception {
    long firstPart = 200_000;
    long lines = 300_000;
    try (Driver driver = open(namespace("bigfollow"))) {
      driver.createVolume("signal", 0);
      Container c =
          driver.runContainer(
              Task.builder()
                  .id("follow")
                  .image(IMAGE)
                  .mount("signal", "s")
                  .command(
                      "sh",
                      "-c",
                      print(1, firstPart, true)
                          + "; while [ ! -e s/go ]; do sleep 0.1; done; "
                          + print(firstPart + 1, lines, true))
                  .build());
      NumberedLines out = stdout(1);
      NumberedLines err = stderr(4);
      CountDownLatch behind = new CountDownLatch(1);
      CompletableFuture<Void> follow =
          CompletableFuture.runAsync(() -> c.follow(held(out, behind), held(err, behind)));

      await()
          .atMost(PATIENCE)
          .pollInterval(Duration.ofSeconds(1))
          .until(() -> newestNumber(c) >= firstPart - 3);
      behind.countDown();
      // The task waits until the follower has taken the first part, or for up to ten seconds:
      // the engine's own follow stream, for one, goes on from the newest file, or not at all.
      awaitQuietly(Duration.ofSeconds(10), () -> out.lines() + err.lines() >= firstPart);
      Container go =
          driver.runContainer(
              Task.builder()
                  .id("go")
                  .image(IMAGE)
                  .mount("signal", "s")
                  .command("touch", "s/go")
                  .build());
      assertThat(go.await(TASK_TIMEOUT)).isEqualTo(ContainerStatus.exited(0));
      follow.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);

      assertThat(c.status()).isEqualTo(ContainerStatus.exited(0));
      assertComplete(out, lines - lines / 4, lines % 4 == 0 ? lines - 1 : lines);
      assertComplete(err, lines / 4, lines - lines % 4);
      NumberedLines logsOut = stdout(1);
      NumberedLines logsErr = stderr(4);
      c.logs(logsOut, logsErr);
      assertComplete(logsOut, lines - lines / 4, lines % 4 == 0 ? lines - 1 : lines);
      assertComplete(logsErr, lines / 4, lines - lines % 4);
    }
  }

  /**
   * The engine keeps the newest 11 files of its log, the one being written included, and drops the
   * oldest. 1,100,000 lines of 1000 bytes fill more than 11 files: logs() delivers the newest
   * lines, each once, in order, to the last, and at least the 10 full files' worth that the
   * driver's page (docs/drivers/docker.md) promises ({@code 10 * 10^8 / (1000 + 28)} lines).
   */
  @Test
  void logsKeepsTheNewestLinesOfTenFullFilesAndMore() {
    long lines = 1_100_000;
    try (Driver driver = open(namespace("bigkeep"))) {
      Container c =
          driver.runContainer(
              Task.builder()
                  .id("keep")
                  .image(IMAGE)
                  .command("sh", "-c", print(1, lines, false))
                  .build());
      assertThat(c.await(PATIENCE)).isEqualTo(ContainerStatus.exited(0));
      NumberedLines kept = new NumberedLines("stdout", WIDTH, -1, n -> n + 1);

      c.logs(kept, OutputStream.nullOutputStream());

      assertThat(kept.anomalies()).as(kept.report()).isZero();
      assertThat(kept.last()).as(kept.report()).isEqualTo(lines);
      assertThat(kept.first())
          .as("the oldest lines were dropped: " + kept.report())
          .isGreaterThan(1);
      assertThat(kept.lines())
          .as(kept.report())
          .isGreaterThanOrEqualTo(10 * FILE / (WIDTH + FRAMING));
    }
  }

  /**
   * An awk script that prints the numbers {@code from} to {@code to}, one per line of {@link
   * #WIDTH} bytes, each multiple of 4 on stderr when {@code split}.
   */
  private static String print(long from, long to, boolean split) {
    String line = "printf \"%0" + (WIDTH - 1) + "d\\n\", i";
    return "awk 'BEGIN { for (i = "
        + from
        + "; i <= "
        + to
        + "; i++) "
        + (split ? "if (i % 4 == 0) " + line + " > \"/dev/stderr\"; else " : "")
        + line
        + " }'";
  }

  private static NumberedLines stdout(long first) {
    return new NumberedLines("stdout", WIDTH, first, n -> (n + 1) % 4 == 0 ? n + 2 : n + 1);
  }

  private static NumberedLines stderr(long first) {
    return new NumberedLines("stderr", WIDTH, first, n -> n + 4);
  }

  /** Waits until {@code done}, for at most {@code atMost}; never fails. */
  private static void awaitQuietly(Duration atMost, Callable<Boolean> done) {
    try {
      await().atMost(atMost).pollInterval(Duration.ofMillis(100)).until(done);
    } catch (ConditionTimeoutException e) {
      // Not done: go on all the same.
    }
  }

  /** A stream that takes nothing until {@code released}: a reader that fell behind. */
  private static OutputStream held(OutputStream out, CountDownLatch released) {
    return new FilterOutputStream(out) {
      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        try {
          released.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted while held");
        }
        out.write(b, off, len);
      }
    };
  }

  /** The number on the newest line of the container's log, read behind the driver; -1 if none. */
  private static long newestNumber(Container c) throws InterruptedException {
    ByteArrayOutputStream newest = new ByteArrayOutputStream();
    engine()
        .logContainerCmd(c.id())
        .withStdOut(true)
        .withStdErr(true)
        .withTail(1)
        .exec(
            new ResultCallback.Adapter<Frame>() {
              @Override
              public void onNext(Frame frame) {
                newest.writeBytes(frame.getPayload());
              }
            })
        .awaitCompletion();
    String text = newest.toString(StandardCharsets.US_ASCII).strip();
    return text.isEmpty() ? -1 : Long.parseLong(text);
  }

  private static void assertComplete(NumberedLines lines, long count, long last) {
    assertThat(lines.anomalies()).as(lines.report()).isZero();
    assertThat(lines.lines()).as(lines.report()).isEqualTo(count);
    assertThat(lines.last()).as(lines.report()).isEqualTo(last);
  }
}
