package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;

import dev.orchestra.Container;
import dev.orchestra.Driver;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** runContainer is idempotent under concurrency too. */
abstract class ConcurrencyRules extends DriverRules {

  ConcurrencyRules(DriverTck kit) {
    super(kit);
  }

  @Test
  @DisplayName(
      "16 threads calling runContainer with one task id at once get one container, one run")
  void manyThreadsOneRun() throws Exception {
    List<Container> containers = concurrently(16, i -> driver.runContainer(counterTask("count")));

    assertThat(containers.stream().map(Container::id).distinct())
        .as("ids of the containers returned")
        .hasSize(1);
    for (Container c : containers) {
      assertThat(awaitDone(c).exitCode()).isZero();
    }
    assertThat(readFile(driver, "state", "runs")).as("runs recorded").isEqualTo("run\n");
  }

  @Test
  @DisplayName("two driver instances of one namespace share a task: one container, one run")
  void twoInstancesOneRun() throws Exception {
    Driver second = open(namespace);
    List<Driver> both = List.of(driver, second);

    List<Container> containers =
        concurrently(8, i -> both.get(i % 2).runContainer(counterTask("count")));
    for (Container c : containers) {
      assertThat(awaitDone(c).exitCode()).isZero();
    }
    Container later = second.runContainer(counterTask("count"));

    assertThat(containers.stream().map(Container::id).distinct())
        .as("ids of the containers returned by both instances")
        .containsExactly(later.id());
    assertThat(readFile(second, "state", "runs")).as("runs recorded").isEqualTo("run\n");
  }
}
