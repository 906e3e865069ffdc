package dev.orchestra.docker;

import dev.orchestra.OrchestraException;
import java.time.Duration;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs Docker tests only when an engine answers. Without one: skipped with the reason, or a failure
 * when Docker is required ({@code ORCHESTRA_REQUIRE_DOCKER=true} or {@code
 * -Dorchestra.requireDocker=true}), so that CI can never pass by skipping them.
 *
 * <p>Before each test class and each test it checks that the engine still runs containers ({@link
 * EngineHealthProbe}, bounded), at most once per {@link #HEALTH_REUSE}: those that start within it
 * of a passed probe share its result. An engine that answers but is hung fails the class or test at
 * once, naming the known deadlock and how to recover, instead of letting every test wait on it
 * until CI's time limit. Where the build may restart the engine ({@link EngineRestart}, as {@code
 * .ci/run} allows), it does so and goes on; otherwise, or when restarts do not help, every later
 * class and test fails at once without probing again.
 */
public final class DockerEngineCondition implements ExecutionCondition {

  private static final Logger LOG = LoggerFactory.getLogger(DockerEngineCondition.class);

  /**
   * How long a passed health probe stands for the classes and tests that start meanwhile: a probe
   * takes a few seconds on a loaded engine, and a hang is caught at the next start after it.
   */
  static final Duration HEALTH_REUSE = Duration.ofMinutes(1);

  private static volatile String unavailable;
  private static volatile boolean probed;
  private static final Set<String> WARNED = new HashSet<>();

  /** The health of the engine that {@code DOCKER_HOST} names, shared by every test of the JVM. */
  static final HealthGate HEALTH =
      new HealthGate(
          () -> EngineHealthProbe.problem(Optional.empty()),
          HEALTH_REUSE,
          EngineRestart.fromEnvironment().orElse(null));

  /**
   * Public for the tests of other modules whose work runs on this engine: see {@link
   * #requireHealthy}.
   */
  public DockerEngineCondition() {}

  /**
   * Checks the engine's health as this condition does before each class and test, for the tests of
   * other modules whose work runs on it (the Kubernetes driver's emulated kubelet): with the same
   * probe, its reuse, and the restart of a hung engine.
   *
   * @param what the class or test about to run, for messages
   * @throws IllegalStateException naming the deadlock and the recovery, if the engine is hung
   */
  public static void requireHealthy(String what) {
    HEALTH.require(what);
  }

  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    String reason = unavailableReason();
    if (reason == null) {
      HEALTH.require(context.getDisplayName());
    }
    return judge("Docker tests", reason);
  }

  /**
   * Enables {@code tests} when {@code reason} is {@code null}. Otherwise they are skipped with the
   * reason (logged once per JVM), or fail with it when Docker is required.
   *
   * @param tests what cannot run, e.g. {@code "Docker tests"}
   * @param reason why not, or {@code null} when they can
   */
  static ConditionEvaluationResult judge(String tests, String reason) {
    if (reason == null) {
      return ConditionEvaluationResult.enabled(tests + " can run");
    }
    if (isRequired()) {
      throw new IllegalStateException(
          tests + " are required (ORCHESTRA_REQUIRE_DOCKER=true) but " + reason);
    }
    String message =
        tests
            + " skipped: "
            + reason
            + " (set ORCHESTRA_REQUIRE_DOCKER=true to make this a failure)";
    synchronized (WARNED) {
      if (WARNED.add(message)) {
        LOG.warn(message);
      }
    }
    return ConditionEvaluationResult.disabled(message);
  }

  /** Whether a missing engine is a failure rather than a reason to skip. */
  static boolean isRequired() {
    return "true".equalsIgnoreCase(System.getenv("ORCHESTRA_REQUIRE_DOCKER"))
        || Boolean.getBoolean("orchestra.requireDocker");
  }

  /** Why no engine can be used, or {@code null} when one answers. Probed once per JVM. */
  static synchronized String unavailableReason() {
    if (!probed) {
      probed = true;
      try {
        DockerConnection.open(Optional.empty()).close();
        unavailable = null;
      } catch (OrchestraException | IllegalArgumentException e) {
        unavailable = "no Docker engine: " + e.getMessage();
      }
    }
    return unavailable;
  }

  /**
   * Fails (whether Docker is required or not: a hung engine is no reason to skip) when the engine
   * does not pass its health probe, or failed it before: then at once, without probing again.
   *
   * <p>With a {@link Restart} (in CI: {@link EngineRestart#fromEnvironment()}), an engine that
   * fails its probe is restarted, at most {@link #RESTARTS} times per JVM, and probed again; the
   * class or test then runs. Every probe that failed and every restart is a moment of trouble: a
   * test that failed while one happened may run again ({@link EngineTroubleRetries}).
   */
  static final class HealthGate {

    /** How many times one JVM restarts a hung engine before it fails every later test. */
    static final int RESTARTS = 3;

    private final Supplier<String> probe;
    private final Duration reuse;
    private final Restart restart;
    private int restartsLeft = RESTARTS;
    private String hung;
    private long healthyAt;
    private boolean everHealthy;
    private long troubleAt;
    private boolean everTroubled;

    /**
     * A gate that never restarts the engine.
     *
     * @param probe returns {@code null} when the engine is healthy, else what is wrong
     * @param reuse how long a passed probe stands for the classes and tests that start meanwhile
     */
    HealthGate(Supplier<String> probe, Duration reuse) {
      this(probe, reuse, null);
    }

    /**
     * @param probe returns {@code null} when the engine is healthy, else what is wrong
     * @param reuse how long a passed probe stands for the classes and tests that start meanwhile
     * @param restart restarts a hung engine, or {@code null} to fail at once
     */
    HealthGate(Supplier<String> probe, Duration reuse, Restart restart) {
      this.probe = probe;
      this.reuse = reuse;
      this.restart = restart;
    }

    /**
     * @param testClass the class or test about to run, for messages
     * @throws IllegalStateException naming the deadlock and the recovery, if the engine is hung
     */
    synchronized void require(String testClass) {
      if (hung != null) {
        throw new IllegalStateException("not probed again before " + testClass + ": " + hung);
      }
      if (everHealthy && System.nanoTime() - healthyAt < reuse.toNanos()) {
        return;
      }
      check(testClass);
    }

    /**
     * Whether the engine was found in trouble (a failed probe, a restart) at or after {@code
     * since}: when no trouble is known since then, the engine is probed now, so that a test that
     * failed in a hang nobody probed yet is told so.
     *
     * @param since a {@link System#nanoTime()}, when the failed test started
     * @param what the test that failed, for messages
     */
    synchronized boolean troubledSince(long since, String what) {
      if (hung != null || troubledAfter(since)) {
        return true;
      }
      try {
        check("a look at the engine after " + what + " failed");
      } catch (IllegalStateException stillHung) {
        return true;
      }
      return troubledAfter(since);
    }

    private boolean troubledAfter(long since) {
      return everTroubled && troubleAt - since >= 0;
    }

    /** Probes now; restarts a hung engine while it may; fails for good if it stays hung. */
    private void check(String testClass) {
      if (Thread.currentThread().isInterrupted()) {
        LOG.warn(
            "the thread that checks the engine before {} ({}) is interrupted: the probe and a"
                + " restart run regardless, and the flag stays set",
            testClass,
            Thread.currentThread().getName());
      }
      String problem = probe(testClass);
      while (problem != null) {
        troubled();
        if (restart == null || restartsLeft == 0) {
          break;
        }
        restartsLeft--;
        LOG.warn(
            "restarting the Docker engine before {} ({} restart(s) left after this one): {}",
            testClass,
            restartsLeft,
            problem);
        String failed = restart.run();
        troubled();
        if (failed != null) {
          problem += "; restarting it failed: " + failed;
          break;
        }
        problem = probe(testClass + ", after a restart of the engine");
      }
      if (problem != null) {
        hung = hungMessage(problem);
        LOG.error(hung);
        throw new IllegalStateException(hung);
      }
    }

    private void troubled() {
      everTroubled = true;
      troubleAt = System.nanoTime();
    }

    /** Runs the probe once; {@code null} when the engine passed it, else what is wrong. */
    private String probe(String testClass) {
      long start = System.nanoTime();
      String problem = probe.get();
      long millis = (System.nanoTime() - start) / 1_000_000;
      if (problem == null) {
        everHealthy = true;
        healthyAt = System.nanoTime();
        LOG.info("the Docker engine passed its health probe in {} ms before {}", millis, testClass);
      } else {
        LOG.error(
            "the Docker engine failed its health probe before {} in {} ms: {}",
            testClass,
            millis,
            problem);
      }
      return problem;
    }

    private static String hungMessage(String problem) {
      return "the Docker engine is not healthy: "
          + problem
          + ". An engine that still answers 'docker info' but blocks every create, start and"
          + " inspect is most likely in the libnetwork deadlock of Debian's docker.io 20.10.24"
          + " (moby/moby#46661, moby/libnetwork#2649), which only a restart of the daemon clears:"
          + " as root, kill dockerd (kill $(cat /var/run/docker.pid)), wait until it is gone, and"
          + " run scripts/docker-up.sh, which starts it and checks that it runs containers (it"
          + " restarts a hung engine by itself). Every later Docker test of this run fails at"
          + " once.";
    }
  }

  /** Restarts a hung engine. */
  @FunctionalInterface
  interface Restart {

    /**
     * Restarts the engine, bounded.
     *
     * @return {@code null} when the restart ran to its end, else what failed
     */
    String run();
  }
}
