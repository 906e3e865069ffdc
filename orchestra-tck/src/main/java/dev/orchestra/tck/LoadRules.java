package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;

import dev.orchestra.Driver;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Many tasks from many threads, every call in a random order, then close(): nothing lost. */
abstract class LoadRules extends ReliabilityRules {

  private static final Logger LOG = LoggerFactory.getLogger(ReliabilityTck.class);

  LoadRules(ReliabilityTck kit) {
    super(kit);
  }

  @Test
  @DisplayName(
      "tasks from many threads with random run, status, logs, cleanup: every exit code and log"
          + " exact, no undocumented exception, nothing left after close()")
  void randomInterleavings() throws Exception {
    long seed =
        Long.getLong(
            ReliabilityTck.SEED_PROPERTY, ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
    String replay =
        "seed " + seed + " (replay with -D" + ReliabilityTck.SEED_PROPERTY + "=" + seed + ")";
    LOG.info("load test: {} tasks from {} threads, {}", kit.loadTasks(), kit.loadThreads(), replay);
    String namespace = newNamespace();
    Driver driver = open(namespace);
    List<String> problems = new CopyOnWriteArrayList<>();
    SplittableRandom root = new SplittableRandom(seed);
    ExecutorService pool = Executors.newFixedThreadPool(kit.loadThreads());
    try {
      List<Future<?>> workers = new ArrayList<>();
      for (int t = 0; t < kit.loadThreads(); t++) {
        LoadWorker worker =
            new LoadWorker(
                this, driver, t, kit.loadTasks(), kit.loadThreads(), root.split(), problems);
        workers.add(pool.submit(worker::run));
      }
      for (Future<?> w : workers) {
        try {
          w.get(testTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
          problems.add("a worker failed: " + describe(e.getCause()));
        }
      }
    } finally {
      pool.shutdownNow();
    }
    try {
      driver.close();
    } catch (RuntimeException e) {
      problems.add("close() threw " + describe(e));
    }
    assertThat(problems).as("problems of the load run with %s", replay).isEmpty();
    assertNothingLeft(namespace);
  }
}
