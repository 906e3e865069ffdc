package dev.orchestra.bench;

import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import dev.orchestra.OrchestraException;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Docker driver tests' rule, through the public API: run only when an engine answers; without
 * one skip with the reason, or fail when Docker is required ({@code ORCHESTRA_REQUIRE_DOCKER=true}
 * or {@code -Dorchestra.requireDocker=true}), so that CI can never pass by skipping.
 */
final class DockerEngineCondition implements ExecutionCondition {

  private static final Logger LOG = LoggerFactory.getLogger(DockerEngineCondition.class);

  private static String unavailable;
  private static boolean probed;

  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    String reason = unavailableReason();
    if (reason == null) {
      return ConditionEvaluationResult.enabled("a Docker engine answers");
    }
    if ("true".equalsIgnoreCase(System.getenv("ORCHESTRA_REQUIRE_DOCKER"))
        || Boolean.getBoolean("orchestra.requireDocker")) {
      throw new IllegalStateException(
          "Docker benchmarks are required (ORCHESTRA_REQUIRE_DOCKER=true) but " + reason);
    }
    String message =
        "Docker benchmark smoke tests skipped: "
            + reason
            + " (set ORCHESTRA_REQUIRE_DOCKER=true to make this a failure)";
    LOG.warn(message);
    return ConditionEvaluationResult.disabled(message);
  }

  private static synchronized String unavailableReason() {
    if (!probed) {
      probed = true;
      try (Driver probe = Orchestra.open("docker", "benchprobe")) {
        LOG.debug("a Docker engine answers: {}", probe);
      } catch (OrchestraException | IllegalArgumentException e) {
        unavailable = "no Docker engine: " + e.getMessage();
      }
    }
    return unavailable;
  }
}
