package dev.orchestra.docker;

import dev.orchestra.OrchestraException;
import java.util.Optional;
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
  private static boolean warned;

  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    String reason = unavailableReason();
    if (reason == null) {
      return ConditionEvaluationResult.enabled("a Docker engine answers");
    }
    if (isRequired()) {
      throw new IllegalStateException(
          "Docker tests are required (ORCHESTRA_REQUIRE_DOCKER=true) but " + reason);
    }
    String message =
        "Docker tests skipped: "
            + reason
            + " (set ORCHESTRA_REQUIRE_DOCKER=true to make this a failure)";
    synchronized (DockerEngineCondition.class) {
      if (!warned) {
        warned = true;
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
