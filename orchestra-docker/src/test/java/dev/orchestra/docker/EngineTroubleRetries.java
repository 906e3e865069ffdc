package dev.orchestra.docker;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.LifecycleMethodExecutionExceptionHandler;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets a test of this module run a second time only when its first run failed while the Docker
 * engine was in trouble. Registered for every test of the module (by the JUnit Platform's extension
 * auto-detection); Surefire runs each failed test once more ({@code rerunFailingTestsCount}), and
 * this extension fails that second run at once, with the first failure's reason, unless the engine
 * failed its health probe or was restarted during the first run ({@link
 * DockerEngineCondition.HealthGate#troubledSince}).
 *
 * <p>Why: the engine CI installs can deadlock for good under container churn (Debian's docker.io
 * 20.10.24, moby/moby#46661). The build restarts it then ({@link EngineRestart}); the tests that
 * were running fail in the hang or in the restart through no fault of the driver, and run again on
 * the restarted engine. Surefire reports them as flakes, with their first failure. A failure with a
 * healthy engine stays a failure: it is never retried.
 */
public final class EngineTroubleRetries
    implements ExecutionCondition,
        TestExecutionExceptionHandler,
        LifecycleMethodExecutionExceptionHandler {

  private static final Logger LOG = LoggerFactory.getLogger(EngineTroubleRetries.class);

  private static final ExtensionContext.Namespace STORE =
      ExtensionContext.Namespace.create(EngineTroubleRetries.class);

  /** The tests and classes that failed with a healthy engine: a second run fails at once. */
  private static final Set<String> FAILED_WITH_A_HEALTHY_ENGINE = ConcurrentHashMap.newKeySet();

  /** Public for the JUnit Platform's auto-detection. */
  public EngineTroubleRetries() {}

  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    if (FAILED_WITH_A_HEALTHY_ENGINE.contains(context.getUniqueId())) {
      throw new IllegalStateException(
          "not run again: "
              + context.getDisplayName()
              + " failed before while the Docker engine was healthy; only a failure during an"
              + " engine hang or restart is retried (see its first run)");
    }
    context.getStore(STORE).put("start", System.nanoTime());
    return ConditionEvaluationResult.enabled("not failed before with a healthy engine");
  }

  @Override
  public void handleTestExecutionException(ExtensionContext context, Throwable failure)
      throws Throwable {
    judge(context, failure);
    throw failure;
  }

  @Override
  public void handleBeforeAllMethodExecutionException(ExtensionContext context, Throwable failure)
      throws Throwable {
    judge(context, failure);
    throw failure;
  }

  @Override
  public void handleBeforeEachMethodExecutionException(ExtensionContext context, Throwable failure)
      throws Throwable {
    judge(context, failure);
    throw failure;
  }

  @Override
  public void handleAfterEachMethodExecutionException(ExtensionContext context, Throwable failure)
      throws Throwable {
    judge(context, failure);
    throw failure;
  }

  @Override
  public void handleAfterAllMethodExecutionException(ExtensionContext context, Throwable failure)
      throws Throwable {
    judge(context, failure);
    throw failure;
  }

  /** Notes whether the failure may be retried: only if the engine was in trouble meanwhile. */
  private static void judge(ExtensionContext context, Throwable failure) {
    Long start = context.getStore(STORE).get("start", Long.class);
    boolean engineTrouble =
        start != null
            && DockerEngineCondition.unavailableReason() == null
            && DockerEngineCondition.HEALTH.troubledSince(start, context.getDisplayName());
    if (engineTrouble) {
      LOG.warn(
          "{} failed while the Docker engine was hung or restarted; it may run again: {}",
          context.getDisplayName(),
          String.valueOf(failure));
    } else {
      FAILED_WITH_A_HEALTHY_ENGINE.add(context.getUniqueId());
    }
  }
}
