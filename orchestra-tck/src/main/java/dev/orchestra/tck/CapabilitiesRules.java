package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.ContainerLimits;
import dev.orchestra.OrchestraException;
import dev.orchestra.Task;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Optional behaviour, each tested only when the driver declares it. */
abstract class CapabilitiesRules extends DriverRules {

  private static final String NO_SUCH_IMAGE = "orchestra-tck-no-such-image:0";

  CapabilitiesRules(DriverTck kit) {
    super(kit);
  }

  @Test
  @DisplayName("USER: a task run as 'nobody' is nobody")
  void user() {
    requireCapability(Capability.USER);

    Result r = runToEnd(task("whoami", "id", "-un").user("nobody").build());

    assertThat(assertSucceeded(r)).as("id -un").isEqualTo("nobody\n");
  }

  @Test
  @DisplayName(
      "PRIVILEGED: a privileged task runs, or the platform's refusal is a clear"
          + " OrchestraException that leaves nothing behind")
  void privileged() {
    requireCapability(Capability.PRIVILEGED);

    Container c;
    try {
      c = driver.runContainer(task("privileged", "true").privileged(true).build());
    } catch (OrchestraException refused) {
      Result r = runToEnd(task("privileged", "echo", "fresh").build());
      assertThat(r.out()).as("stdout of the task id after the refusal").isEqualTo("fresh\n");
      Assumptions.abort(
          "the platform refused a privileged task: "
              + refused.getMessage()
              + " (the refusal came back from runContainer as an OrchestraException and left"
              + " nothing behind)");
      return;
    }
    assertThat(awaitDone(c).exitCode()).as("exit code of the privileged task").isZero();
  }

  @Test
  @DisplayName("CPU_LIMIT: a task limited to 512 CPU shares runs and exits 0")
  void cpuLimit() {
    requireCapability(Capability.CPU_LIMIT);

    Result r = runToEnd(task("cpu", "echo", "limited").limits(new ContainerLimits(512, 0)).build());

    assertThat(assertSucceeded(r)).isEqualTo("limited\n");
  }

  @Test
  @DisplayName("MEMORY_LIMIT: a task limited to 128 MiB runs and exits 0")
  void memoryLimit() {
    requireCapability(Capability.MEMORY_LIMIT);

    Result r =
        runToEnd(
            task("memory", "echo", "limited").limits(new ContainerLimits(0, 128L * MIB)).build());

    assertThat(assertSucceeded(r)).isEqualTo("limited\n");
  }

  @Test
  @DisplayName(
      "IMAGE: a task of a missing image fails with an OrchestraException naming it and"
          + " leaves nothing behind")
  void missingImage() {
    requireCapability(Capability.IMAGE);

    Task missing = Task.builder().id("missing").image(NO_SUCH_IMAGE).command("true").build();
    assertThat(catchThrowable(() -> driver.runContainer(missing)))
        .as("runContainer with image %s", NO_SUCH_IMAGE)
        .isInstanceOf(OrchestraException.class)
        .hasMessageContaining(NO_SUCH_IMAGE);

    Result r = runToEnd(task("missing", "echo", "fresh").build());
    assertThat(r.out()).as("stdout of the task id after the failure").isEqualTo("fresh\n");
  }
}
