package dev.orchestra.kubernetes;

import dev.orchestra.docker.DockerEngineCondition;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs the emulated kubelet's tests only with a Docker engine. Without one they fail, unless {@code
 * -Dorchestra.requireDocker=false} is set (and {@code ORCHESTRA_REQUIRE_DOCKER} is not {@code
 * true}): then they are skipped with the reason. With one, before each class and test, the engine
 * must pass the Docker driver's tests' health probe ({@link DockerEngineCondition#requireHealthy}):
 * a hung engine fails them at once, or is restarted where the build allows it.
 */
final class EmulatedKubeletCondition implements ExecutionCondition {

  private static volatile String reason;
  private static volatile boolean probed;

  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    synchronized (EmulatedKubeletCondition.class) {
      if (!probed) {
        reason = EmulatedKubelet.unavailableReason();
        probed = true;
      }
    }
    if (reason == null) {
      DockerEngineCondition.requireHealthy(context.getDisplayName());
      return ConditionEvaluationResult.enabled("a Docker engine runs the emulated kubelet's pods");
    }
    boolean optional =
        "false".equalsIgnoreCase(System.getProperty("orchestra.requireDocker"))
            && !"true".equalsIgnoreCase(System.getenv("ORCHESTRA_REQUIRE_DOCKER"));
    if (!optional) {
      throw new IllegalStateException(
          "the emulated kubelet's tests need a Docker engine, but " + reason);
    }
    return ConditionEvaluationResult.disabled(
        "emulated kubelet tests skipped: " + reason + " (orchestra.requireDocker=false)");
  }
}
