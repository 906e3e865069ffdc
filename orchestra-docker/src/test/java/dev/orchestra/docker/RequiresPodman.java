package dev.orchestra.docker;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Marks a test class that needs Podman's Docker-compatible service ({@link PodmanTesting#host()}).
 * Without one the class is skipped with the reason, or fails when {@code
 * ORCHESTRA_REQUIRE_DOCKER=true}, as in CI (see {@link DockerEngineCondition#judge}).
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Inherited
@ExtendWith(RequiresPodman.Condition.class)
public @interface RequiresPodman {

  /** Enables the class when Podman answers. */
  final class Condition implements ExecutionCondition {

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
      return DockerEngineCondition.judge("Podman tests", PodmanTesting.unavailableReason());
    }
  }
}
