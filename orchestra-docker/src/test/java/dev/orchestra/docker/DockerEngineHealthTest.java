package dev.orchestra.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.orchestra.Container;
import dev.orchestra.Driver;
import dev.orchestra.Task;
import dev.orchestra.tck.FaultProxy;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The build's check that the engine runs containers before each Docker test class. */
@RequiresDocker
class DockerEngineHealthTest {

  private static final Pattern PROBE_NAME = Pattern.compile("orchestra-health-probe-[0-9a-f]+");

  @Test
  void aHealthyEnginePassesTheProbe() {
    assertThat(EngineHealthProbe.problem(Optional.empty())).isNull();
  }

  /**
   * The probe and the restart run on the thread of the test about to start or just failed: an
   * interrupt of that thread is no engine problem, and is kept for its owner.
   */
  @Test
  void anInterruptOfTheCallingThreadNeitherFailsTheProbeNorTheRestartAndIsKept() {
    try {
      Thread.currentThread().interrupt();
      assertThat(EngineHealthProbe.problem(Optional.empty())).isNull();
      assertThat(Thread.currentThread().isInterrupted()).as("the flag after the probe").isTrue();
      assertThat(new EngineRestart("sleep 0.2", () -> "42").run()).isNull();
      assertThat(Thread.currentThread().isInterrupted()).as("the flag after the restart").isTrue();
    } finally {
      Thread.interrupted();
    }
  }

  @Test
  void anEngineThatNeverAnswersAStartFailsTheProbeWithinItsBound() throws Exception {
    try (TcpEngine tcp = TcpEngine.open()) {
      URI engine = URI.create(tcp.host());
      try (FaultProxy proxy =
          FaultProxy.start(new InetSocketAddress(engine.getHost(), engine.getPort()))) {
        proxy.stallWhenSent(Pattern.compile("POST [^ ]*/containers/[^/ ]+/start[ ?]"));
        String host = "tcp://127.0.0.1:" + proxy.address().getPort();
        Duration bound = Duration.ofSeconds(6);
        String problem =
            assertTimeoutPreemptively(
                bound.multipliedBy(2),
                () -> EngineHealthProbe.problem(Optional.of(host), Duration.ofSeconds(2), bound));
        proxy.mode(FaultProxy.Mode.PASS);
        // The probe could not remove its container through the stalled engine: the test does.
        Matcher name = PROBE_NAME.matcher(String.valueOf(problem));
        if (name.find()) {
          DockerTesting.engine().removeContainerCmd(name.group()).withForce(true).exec();
        }
        assertThat(problem).contains(host).contains("starting container");
      }
    }
  }

  /** A probe that counts its calls and answers the n-th (from 1) with {@code answer.apply(n)}. */
  private static Supplier<String> probe(AtomicInteger probes, IntFunction<String> answer) {
    return () -> answer.apply(probes.incrementAndGet());
  }

  /** A restart that counts its calls and answers with {@code answer}. */
  private static DockerEngineCondition.Restart restart(AtomicInteger restarts, String answer) {
    return () -> {
      restarts.incrementAndGet();
      return answer;
    };
  }

  @Test
  void aHungEngineFailsEveryLaterClassAtOnceNamingTheDeadlockAndTheRecovery() {
    AtomicInteger probes = new AtomicInteger();
    DockerEngineCondition.HealthGate gate =
        new DockerEngineCondition.HealthGate(
            probe(
                probes, n -> "the engine at unix:///x did not run a busybox container within PT1M"),
            Duration.ofSeconds(5));
    assertThatThrownBy(() -> gate.require("FirstTest"))
        .hasMessageContaining("did not run a busybox container")
        .hasMessageContaining("moby/moby#46661")
        .hasMessageContaining("moby/libnetwork#2649")
        .hasMessageContaining("scripts/docker-up.sh");
    assertThatThrownBy(() -> gate.require("SecondTest"))
        .hasMessageContaining("not probed again before SecondTest")
        .hasMessageContaining("moby/moby#46661");
    assertThat(probes).as("probes").hasValue(1);
  }

  @Test
  void classesStartingTogetherShareOnePassedProbe() {
    AtomicInteger probes = new AtomicInteger();
    DockerEngineCondition.HealthGate gate =
        new DockerEngineCondition.HealthGate(probe(probes, n -> null), Duration.ofHours(1));
    gate.require("FirstTest");
    gate.require("SecondTest");
    assertThat(probes).as("probes").hasValue(1);
  }

  @Test
  void aHungEngineIsRestartedAndTheTestsGoOn() {
    AtomicInteger probes = new AtomicInteger();
    AtomicInteger restarts = new AtomicInteger();
    DockerEngineCondition.HealthGate gate =
        new DockerEngineCondition.HealthGate(
            probe(probes, n -> n == 1 ? "hung" : null), Duration.ZERO, restart(restarts, null));
    long before = System.nanoTime();
    gate.require("FirstTest");
    gate.require("SecondTest");
    assertThat(restarts).as("restarts").hasValue(1);
    assertThat(probes).as("probes").hasValue(3);
    assertThat(gate.troubledSince(before, "a test that ran in the hang")).isTrue();
    assertThat(gate.troubledSince(System.nanoTime(), "a test that started after it")).isFalse();
  }

  @Test
  void anEngineThatStaysHungIsRestartedAFewTimesThenFailsEveryLaterTest() {
    AtomicInteger restarts = new AtomicInteger();
    DockerEngineCondition.HealthGate gate =
        new DockerEngineCondition.HealthGate(
            probe(new AtomicInteger(), n -> "hung"), Duration.ZERO, restart(restarts, null));
    assertThatThrownBy(() -> gate.require("FirstTest")).hasMessageContaining("moby/moby#46661");
    assertThatThrownBy(() -> gate.require("SecondTest"))
        .hasMessageContaining("not probed again before SecondTest");
    assertThat(restarts).as("restarts").hasValue(DockerEngineCondition.HealthGate.RESTARTS);
  }

  @Test
  void aRestartThatFailsIsNamedAndNotTriedAgain() {
    AtomicInteger restarts = new AtomicInteger();
    DockerEngineCondition.HealthGate gate =
        new DockerEngineCondition.HealthGate(
            probe(new AtomicInteger(), n -> "hung"),
            Duration.ZERO,
            restart(restarts, "'restart' exited with 1"));
    assertThatThrownBy(() -> gate.require("FirstTest"))
        .hasMessageContaining("restarting it failed: 'restart' exited with 1");
    assertThat(restarts).as("restarts").hasValue(1);
  }

  @Test
  void aTestThatFailsWithAHealthyEngineWasNotInTrouble() {
    AtomicInteger probes = new AtomicInteger();
    DockerEngineCondition.HealthGate gate =
        new DockerEngineCondition.HealthGate(probe(probes, n -> null), Duration.ofHours(1));
    long start = System.nanoTime();
    gate.require("FirstTest");
    assertThat(gate.troubledSince(start, "FirstTest")).isFalse();
    assertThat(probes).as("a failure probes the engine afresh").hasValue(2);
  }

  @Test
  void aTestThatFailsInAHangNobodyProbedYetFindsIt() {
    DockerEngineCondition.HealthGate gate =
        new DockerEngineCondition.HealthGate(
            probe(new AtomicInteger(), n -> n == 1 ? null : "hung"), Duration.ofHours(1));
    long start = System.nanoTime();
    gate.require("FirstTest");
    assertThat(gate.troubledSince(start, "FirstTest")).isTrue();
    assertThatThrownBy(() -> gate.require("SecondTest"))
        .hasMessageContaining("not probed again before SecondTest");
  }

  @Test
  void aRestartCommandThatLeavesTheDaemonRunningRemovesNothing() {
    String ns = DockerTesting.namespace("norestart");
    try (Driver driver = DockerTesting.open(ns)) {
      Container c =
          driver.runContainer(
              Task.builder().id("kept").image(DockerTesting.IMAGE).command("sleep", "60").build());
      assertThat(new EngineRestart("true", () -> "42").run()).isNull();
      assertThat(c.status().isDone()).as("the task of a running test, still there").isFalse();
    }
  }

  @Test
  void aRestartCommandThatFailsIsNamed() {
    assertThat(new EngineRestart("exit 3", () -> "42").run()).isEqualTo("'exit 3' exited with 3");
  }
}
