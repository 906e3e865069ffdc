package dev.orchestra.docker;

import dev.orchestra.OrchestraException;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs Docker tests only when an engine answers. Without one: skipped with the reason, or a failure
 * when Docker is required ({@code ORCHESTRA_REQUIRE_DOCKER=true} or {@code
 * -Dorchestra.requireDocker=true}), so that CI can never pass by skipping them.
 */
final class DockerEngineCondition implements ExecutionCondition {

  private static final Logger LOG = LoggerFactory.getLogger(DockerEngineCondition.class);

  private static volatile String unavailable;
  private static volatile boolean probed;
  private static final Set<String> WARNED = new HashSet<>();

  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    return judge("Docker tests", unavailableReason());
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
}
