package dev.orchestra.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import java.io.OutputStream;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The default {@link Container#onExit()} and {@link Container#await}, polling through the watcher.
 */
class ExitWatcherTest {

  private static final Duration PATIENCE = Duration.ofSeconds(30);

  @Test
  void theDefaultAwaitTakesTimeoutsTooLongToCountAndReturnsTheFinalStatus() throws Exception {
    for (Duration unlimited :
        List.of(ChronoUnit.FOREVER.getDuration(), Duration.ofMillis(Long.MAX_VALUE))) {
      PolledContainer c = new PolledContainer(3);

      ContainerStatus s =
          CompletableFuture.supplyAsync(() -> c.await(unlimited))
              .get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);

      assertThat(s.exitCode()).as("exit code await(%s) returned", unlimited).isEqualTo(4);
    }
  }

  @Test
  void theWatcherThreadEndsOnceNothingIsWatched() throws Exception {
    PolledContainer c = new PolledContainer(2);

    assertThat(c.onExit().get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS).exitCode()).isEqualTo(4);

    await("no thread of the exit watcher left once it watches nothing")
        .atMost(PATIENCE)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> watcherThreads().isEmpty());
  }

  private static List<String> watcherThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(n -> n.startsWith("orchestra-exit-watcher"))
        .toList();
  }

  /** A container with no exit event of its own: done (exit 4) from its n-th status() on. */
  private static final class PolledContainer implements Container {
    private final int doneFrom;
    private final AtomicInteger polls = new AtomicInteger();

    PolledContainer(int doneFrom) {
      this.doneFrom = doneFrom;
    }

    @Override
    public String id() {
      return "polled";
    }

    @Override
    public ContainerStatus status() {
      return polls.incrementAndGet() >= doneFrom
          ? ContainerStatus.exited(4)
          : ContainerStatus.running();
    }

    @Override
    public void logs(OutputStream stdout, OutputStream stderr) {}

    @Override
    public void cleanup() {}
  }
}
