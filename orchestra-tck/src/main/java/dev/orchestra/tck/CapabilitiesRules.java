package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.fail;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.ContainerLimits;
import dev.orchestra.ContainerStatus;
import dev.orchestra.ExitReason;
import dev.orchestra.OrchestraException;
import dev.orchestra.Task;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Optional behaviour, each tested only when the driver declares it, and observed rather than
 * assumed: a driver that declares a capability and ignores the option fails. What a task cannot
 * observe on every platform (the CPU shares it got) the test class reads back through a hook
 * ({@link DriverTck#appliedCpuShares}); a test that cannot observe what it checks (no hook, a
 * platform that refuses privileged containers) is aborted with a reason starting "not verified: ",
 * so that it is reported as skipped, never as passed.
 */
abstract class CapabilitiesRules extends DriverRules {

  private static final String NO_SUCH_IMAGE = "orchestra-tck-no-such-image:0";

  /** Where a Linux task reads its own capabilities. */
  private static final String PROC_STATUS = "/proc/self/status";

  /** The bit of CAP_SYS_ADMIN in a capability set: what a privileged container has. */
  private static final int CAP_SYS_ADMIN = 21;

  /** The memory limit of the memory test's task, and what it allocates: four times as much. */
  private static final long MEMORY_LIMIT = 16L * MIB;

  private static final long ALLOCATED = 64L * MIB;

  /** How often the memory test runs its task to see an OOM_KILLED. */
  private static final int MEMORY_TRIES = 3;

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
      "PRIVILEGED: a privileged task has CAP_SYS_ADMIN, a task without privileged has not; a"
          + " platform's refusal is a clear OrchestraException that leaves nothing behind, reported"
          + " as not verified")
  void privileged() {
    requireCapability(Capability.PRIVILEGED);

    Container c;
    try {
      c = driver.runContainer(task("privileged", "cat", PROC_STATUS).privileged(true).build());
    } catch (OrchestraException refused) {
      Result r = runToEnd(task("privileged", "echo", "fresh").build());
      assertThat(r.out()).as("stdout of the task id after the refusal").isEqualTo("fresh\n");
      Assumptions.abort(
          "not verified: the platform refused privileged containers: "
              + refused.getMessage()
              + " (the refusal came back from runContainer as an OrchestraException and left"
              + " nothing behind)");
      return;
    }
    awaitDone(c);
    Output privileged = logsOf(c);
    Result plain = runToEnd(task("unprivileged", "cat", PROC_STATUS).build());

    String privilegedCaps = effectiveCapabilities(privileged.out());
    String plainCaps = effectiveCapabilities(assertSucceeded(plain));
    assertThat(hasSysAdmin(privilegedCaps))
        .as(
            "CAP_SYS_ADMIN in the effective capabilities (CapEff %s) of a privileged task",
            privilegedCaps)
        .isTrue();
    assertThat(hasSysAdmin(plainCaps))
        .as(
            "CAP_SYS_ADMIN in the effective capabilities (CapEff %s) of a task without privileged",
            plainCaps)
        .isFalse();
  }

  @Test
  @DisplayName(
      "CPU_LIMIT: a task limited to 512 CPU shares runs, and the platform holds 512 shares for"
          + " it, as the test class reads back (appliedCpuShares); without that hook, not verified")
  void cpuLimit() {
    requireCapability(Capability.CPU_LIMIT);

    Result r = runToEnd(task("cpu", "echo", "limited").limits(new ContainerLimits(512, 0)).build());
    assertThat(assertSucceeded(r)).isEqualTo("limited\n");

    OptionalLong applied = kit.appliedCpuShares(r.container());
    if (applied.isEmpty()) {
      Assumptions.abort(
          "not verified: the task limited to 512 CPU shares ran, but the test class does not read"
              + " back what the platform applied (it does not override"
              + " DriverTck.appliedCpuShares)");
    }
    assertThat(applied.getAsLong())
        .as("CPU shares the platform applied to a task limited to 512 (appliedCpuShares)")
        .isEqualTo(512);
  }

  @Test
  @DisplayName(
      "MEMORY_LIMIT: a task that allocates 64 MiB under a limit of 16 MiB does not succeed, and"
          + " reads OOM_KILLED in at least one of 3 tries (SIGNALED otherwise)")
  void memoryLimit() {
    requireCapability(Capability.MEMORY_LIMIT);

    List<String> tries = new ArrayList<>();
    for (int i = 1; i <= MEMORY_TRIES; i++) {
      Result r =
          runToEnd(
              task("memory-" + i, sh("x=$(yes | head -c " + ALLOCATED + "); echo ${#x}"))
                  .limits(new ContainerLimits(0, MEMORY_LIMIT))
                  .build());
      ContainerStatus s = r.container().status();
      String what = describe(s) + " stdout '" + r.out().strip() + "'";
      assertThat(r.exitCode())
          .as(
              "exit code of a task that allocates 64 MiB under a limit of 16 MiB (try %d: %s):"
                  + " it must not succeed",
              i, what)
          .isNotZero();
      assertThat(s.reason())
          .as("reason of a task killed over its memory limit (try %d: %s)", i, what)
          .isIn(ExitReason.OOM_KILLED, ExitReason.SIGNALED);
      if (s.reason() == ExitReason.OOM_KILLED) {
        return;
      }
      tries.add(what);
    }
    Optional<String> unreported = kit.unreportedOomKills();
    if (unreported.isPresent()) {
      Assumptions.abort(
          "not verified: OOM_KILLED, which the test class declares the platform cannot report ("
              + unreported.get()
              + "); the task over its memory limit was stopped in each of "
              + MEMORY_TRIES
              + " tries: "
              + String.join("; ", tries));
    }
    fail(
        "a task over its memory limit never read OOM_KILLED in %d tries: %s",
        MEMORY_TRIES, String.join("; ", tries));
  }

  /** The effective capabilities (hexadecimal) in the text of /proc/self/status, or aborts. */
  private static String effectiveCapabilities(String procStatus) {
    for (String line : procStatus.split("\n")) {
      if (line.startsWith("CapEff:")) {
        return line.substring("CapEff:".length()).strip();
      }
    }
    Assumptions.abort(
        "not verified: a task cannot show its capabilities: "
            + PROC_STATUS
            + " has no line CapEff (it read '"
            + procStatus.strip()
            + "')");
    return "";
  }

  private static boolean hasSysAdmin(String capEff) {
    return new BigInteger(capEff, 16).testBit(CAP_SYS_ADMIN);
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
