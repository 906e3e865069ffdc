package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.ContainerNotFoundException;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.Sandbox;
import dev.orchestra.Task;
import dev.orchestra.Volume;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Every blocking call answers Thread.interrupt() promptly and leaves nothing half-made. */
abstract class InterruptionRules extends ReliabilityRules {

  InterruptionRules(ReliabilityTck kit) {
    super(kit);
  }

  @Test
  @DisplayName(
      "a call made by an interrupted thread keeps its interrupt flag: it completes or"
          + " throws OrchestraInterruptedException")
  void interruptFlagKept() {
    Driver driver = open(newNamespace());
    Task echo = task("echo", "echo", "hi").build();
    Container c = driver.runContainer(echo);
    awaitDone(c);

    Map<String, Runnable> calls = new LinkedHashMap<>();
    calls.put("status()", c::status);
    calls.put("logs()", () -> c.logs(new ByteArrayOutputStream(), new ByteArrayOutputStream()));
    calls.put("runContainer() of a known task", () -> driver.runContainer(echo));
    calls.put("createVolume()", () -> driver.createVolume("vol", 0));
    SoftAssertions softly = new SoftAssertions();
    calls.forEach(
        (name, call) -> {
          Thread.currentThread().interrupt();
          Throwable thrown;
          try {
            call.run();
            thrown = null;
          } catch (RuntimeException e) {
            thrown = e;
          } finally {
            softly.assertThat(Thread.interrupted()).as("interrupt flag after %s", name).isTrue();
          }
          if (thrown != null) {
            softly
                .assertThat(thrown)
                .as("%s on an interrupted thread", name)
                .isInstanceOf(OrchestraInterruptedException.class);
          }
        });
    softly.assertAll();
  }

  @Test
  @DisplayName(
      "await, follow, stop and logs answer an interrupt while they block: promptly,"
          + " OrchestraInterruptedException, flag set")
  void blockedCallsAnswer() {
    Driver driver = open(newNamespace());
    Container sleeper = driver.runContainer(task("sleeper", "sleep", "300").build());
    Container trapper =
        driver.runContainer(
            task("trapper", sh("trap 'echo term' TERM; echo ready; while :; do sleep 1; done"))
                .build());
    Container chatty =
        driver.runContainer(task("chatty", sh("yes chatty | head -c 4000000")).build());
    awaitDone(chatty);
    awaitAtMost("trapper to be ready").until(() -> logsOf(trapper).out().startsWith("ready"));

    Map<String, Callable<?>> calls = new LinkedHashMap<>();
    calls.put("await(5 minutes)", () -> sleeper.await(Duration.ofMinutes(5)));
    if (driver.capabilities().contains(Capability.FOLLOW)) {
      calls.put(
          "follow()",
          () ->
              call(() -> sleeper.follow(new ByteArrayOutputStream(), new ByteArrayOutputStream())));
    }
    BlockingStream blocking = new BlockingStream();
    calls.put(
        "logs() into a stream that blocks",
        () -> call(() -> chatty.logs(blocking, new ByteArrayOutputStream())));
    SoftAssertions softly = new SoftAssertions();
    calls.forEach(
        (name, call) -> {
          Interrupted r = interruptWhileBlocked(name, call, Duration.ofMillis(300));
          softly
              .assertThat(r.returnedBeforeInterrupt())
              .as("%s returned before the interrupt, having thrown %s", name, describe(r.thrown()))
              .isFalse();
          softly
              .assertThat(r.thrown())
              .as("what %s threw when interrupted", name)
              .isInstanceOfAny(OrchestraInterruptedException.class, InterruptedException.class);
          softly.assertThat(r.flagAtEnd()).as("interrupt flag after %s", name).isTrue();
        });
    if (driver.capabilities().contains(Capability.STOP)) {
      Interrupted r =
          interruptWhileBlocked(
              "stop(5 minutes) of a task that traps SIGTERM",
              () -> trapper.stop(Duration.ofMinutes(5)),
              Duration.ofMillis(500));
      softly
          .assertThat(r.returnedBeforeInterrupt())
          .as("stop returned before the interrupt")
          .isFalse();
      softly
          .assertThat(r.thrown())
          .as("what stop threw when interrupted")
          .isInstanceOf(OrchestraInterruptedException.class);
      softly.assertThat(r.flagAtEnd()).as("interrupt flag after stop").isTrue();
      softly
          .assertThat(awaitDone(trapper).isDone())
          .as("trapper killed by the interrupted stop")
          .isTrue();
    }
    blocking.release();
    softly.assertAll();
    assertThat(sleeper.status().isDone()).as("the sleeper runs on after the interrupts").isFalse();
  }

  @Test
  @DisplayName(
      "runContainer, createVolume, status, find, cleanup and close interrupted at random"
          + " moments: done or OrchestraInterruptedException, flag set, nothing half-made")
  void interruptedAtRandomMoments() {
    String namespace = newNamespace();
    Driver driver = open(namespace);
    boolean find = driver.capabilities().contains(Capability.REATTACH);
    String input = "0123456789abcdef\n".repeat(64 * 1024);
    SoftAssertions softly = new SoftAssertions();
    long[] delaysMicros = {0, 1_000, 20_000, 80_000};
    for (int r = 0; r < delaysMicros.length; r++) {
      int round = r;
      Duration delay = Duration.ofNanos(delaysMicros[round] * 1000);
      String id = "task-" + round;
      Task t = task(id, sh("cat; echo done")).stdin(input).mount("vol-" + round, "v").build();
      Interrupted run =
          interruptWhileBlocked("runContainer " + id, () -> driver.runContainer(t), delay);
      checkInterrupted(softly, "runContainer of " + id, run);
      Interrupted vol =
          interruptWhileBlocked(
              "createVolume", () -> driver.createVolume("other-" + round, 0), delay);
      checkInterrupted(softly, "createVolume", vol);
      Container c = driver.runContainer(t);
      checkInterrupted(softly, "status", interruptWhileBlocked("status", c::status, delay));
      if (find) {
        checkInterrupted(
            softly, "find", interruptWhileBlocked("find", () -> driver.find(id), delay));
      }
      ContainerStatus s = awaitDone(c);
      softly
          .assertThat(s.exitCode())
          .as("exit code of %s after the interrupted calls", id)
          .isZero();
      softly
          .assertThat(logsOf(c).out())
          .as("stdout of %s after the interrupted calls", id)
          .isEqualTo(input + "done\n");
      Volume v = driver.createVolume("other-" + round, 0);
      softly.assertThat(v.name()).as("the interrupted volume's name").isEqualTo("other-" + round);
      Container sleeper = driver.runContainer(task("sleeper-" + round, "sleep", "300").build());
      checkInterrupted(
          softly,
          "cleanup of a running task",
          interruptWhileBlocked("cleanup", () -> call(sleeper::cleanup), delay));
      within("cleanup after the interrupted cleanup", () -> call(sleeper::cleanup));
      Throwable status = catchThrowable(sleeper::status);
      softly
          .assertThat(
              status == null
                  ? sleeper.status().isDone()
                  : status instanceof ContainerNotFoundException)
          .as("the sleeper is done or not found after cleanup (status threw %s)", describe(status))
          .isTrue();
    }
    softly.assertAll();
  }

  @Test
  @DisplayName(
      "close() interrupted at random moments: done or OrchestraInterruptedException, flag set;"
          + " close() again leaves nothing")
  void closeInterrupted() {
    SoftAssertions softly = new SoftAssertions();
    for (int round = 0; round < 2; round++) {
      String ns = newNamespace();
      Driver d = open(ns);
      for (int i = 0; i < 2; i++) {
        d.runContainer(task("sleeper-" + i, "sleep", "300").mount("vol", "v").build());
      }
      Interrupted close =
          interruptWhileBlocked("close", () -> call(d::close), Duration.ofMillis(round * 20L));
      checkInterrupted(softly, "close", close);
      within("close after the interrupted close", () -> call(d::close));
      assertNothingLeft(ns);
    }
    softly.assertAll();
  }

  @Test
  @DisplayName(
      "createSandbox and exec interrupted at random moments: done or"
          + " OrchestraInterruptedException, flag set, the sandbox then works")
  void sandboxInterrupted() {
    Driver driver = open(newNamespace());
    Assumptions.assumeTrue(
        driver.capabilities().contains(Capability.SANDBOX),
        () -> "driver '" + driver.name() + "' does not declare capability SANDBOX");
    SoftAssertions softly = new SoftAssertions();
    long[] delaysMicros = {0, 1_000, 20_000};
    for (int round = 0; round < delaysMicros.length; round++) {
      Duration delay = Duration.ofNanos(delaysMicros[round] * 1000);
      Task box = task("box-" + round, "sleep", "300").build();
      checkInterrupted(
          softly,
          "createSandbox",
          interruptWhileBlocked("createSandbox", () -> driver.createSandbox(box), delay));
      Sandbox sandbox = driver.createSandbox(box);
      Task step = Task.builder().id("step").command(sh("cat; echo done")).stdin("in\n").build();
      checkInterrupted(
          softly, "exec", interruptWhileBlocked("exec", () -> sandbox.exec(step), delay));
      Container c = sandbox.exec(step);
      softly.assertThat(awaitDone(c).exitCode()).as("exit code of the step").isZero();
      softly.assertThat(logsOf(c).out()).as("stdout of the step").isEqualTo("in\ndone\n");
      sandbox.close();
    }
    softly.assertAll();
  }

  private void checkInterrupted(SoftAssertions softly, String what, Interrupted r) {
    if (r.thrown() != null) {
      softly
          .assertThat(r.thrown())
          .as("what the interrupted %s threw", what)
          .isInstanceOf(OrchestraInterruptedException.class);
    }
    if (r.thrown() != null || r.interruptedDuringCall()) {
      softly.assertThat(r.flagAtEnd()).as("interrupt flag after the interrupted %s", what).isTrue();
    }
  }

  /**
   * What a call did when its thread was interrupted while it ran.
   *
   * @param thrown what it threw, or null
   * @param flagAtEnd whether its thread's interrupt flag was set when it returned or threw
   * @param returnedBeforeInterrupt whether it ended before the interrupt was sent
   * @param interruptedDuringCall whether the interrupt was surely sent before it ended
   */
  private record Interrupted(
      Throwable thrown,
      boolean flagAtEnd,
      boolean returnedBeforeInterrupt,
      boolean interruptedDuringCall) {}

  /**
   * Starts the call on a thread of its own, interrupts that thread after {@code delay}, and waits
   * (at most the await timeout: promptly) for the call to end.
   */
  private Interrupted interruptWhileBlocked(String what, Callable<?> call, Duration delay) {
    // Set just before the interrupt (a call that ended earlier ended before it), and just after
    // (a call that ended later surely saw it).
    AtomicBoolean sending = new AtomicBoolean();
    AtomicBoolean sent = new AtomicBoolean();
    AtomicBoolean endedBeforeInterrupt = new AtomicBoolean();
    AtomicBoolean sentBeforeEnd = new AtomicBoolean();
    Background<?> running =
        inBackground(
            "interrupted " + what,
            () -> {
              try {
                return call.call();
              } finally {
                sentBeforeEnd.set(sent.get());
                endedBeforeInterrupt.set(!sending.get());
              }
            });
    LockSupport.parkNanos(delay.toNanos());
    sending.set(true);
    running.interrupt();
    sent.set(true);
    Throwable thrown =
        running.thrown(
            awaitTimeout(), () -> what + " did not answer an interrupt within " + awaitTimeout());
    if (thrown instanceof ExecutionException e && e.getCause() != null) {
      thrown = e.getCause();
    }
    return new Interrupted(
        thrown, running.interruptFlagAtEnd(), endedBeforeInterrupt.get(), sentBeforeEnd.get());
  }
}
