package dev.orchestra.local;

import static dev.orchestra.local.LocalTesting.TIMEOUT;
import static dev.orchestra.local.LocalTesting.logs;
import static dev.orchestra.local.LocalTesting.open;
import static dev.orchestra.local.LocalTesting.sh;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.orchestra.Container;
import dev.orchestra.Driver;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Cleanup and close leave no process of a task's tree behind. */
class ProcessTreeCleanupTest {

  /** Prints, in some order, its own pid and those of two sleeps, a nested shell and its sleep. */
  private static final String TREE =
      "sleep 300 & echo $!; sleep 300 & echo $!;"
          + " sh -c 'sleep 300 & echo $!; wait' & echo $!;"
          + " echo $$; wait";

  @TempDir Path root;

  @Test
  void cleanupKillsTheWholeTree() {
    try (Driver driver = open(root, "tree")) {
      Container c = driver.runContainer(sh("tree", TREE).build());
      List<ProcessHandle> tree = awaitTree(c);

      c.cleanup();

      await().atMost(TIMEOUT).untilAsserted(() -> assertThat(tree).noneMatch(LocalTesting::alive));
      // The root shell may end on its own once its children are killed: any exit code will do.
      assertThat(c.status().isDone()).isTrue();
    }
  }

  @Test
  void closeKillsTheWholeTreeOfEveryTask() {
    Driver driver = open(root, "trees");
    List<ProcessHandle> first;
    List<ProcessHandle> second;
    try {
      first = awaitTree(driver.runContainer(sh("first", TREE).build()));
      second = awaitTree(driver.runContainer(sh("second", TREE).build()));
    } finally {
      driver.close();
    }
    await()
        .atMost(TIMEOUT)
        .untilAsserted(
            () -> {
              assertThat(first).noneMatch(LocalTesting::alive);
              assertThat(second).noneMatch(LocalTesting::alive);
            });
  }

  /** The processes of the tree, each checked to run. */
  private static List<ProcessHandle> awaitTree(Container c) {
    await().atMost(TIMEOUT).until(() -> logs(c).outLines().size() == 5);
    return LocalTesting.processes(logs(c).outLines());
  }
}
