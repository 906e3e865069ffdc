package dev.orchestra.tck;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;

/**
 * Bounds every test method, parameterized invocation, {@code @BeforeEach} and {@code @AfterEach}
 * method of either kit by its {@link KitBase#testTimeout()}.
 *
 * <p>The method runs on a thread of its own, so that a driver call that never returns (and ignores
 * interruption) cannot hang the build: at the deadline the thread is interrupted, given a short
 * grace to stop (half the timeout, at most 10 seconds), and the test fails with a {@link
 * TimeoutException} whose stack trace is where the method was stuck.
 */
final class TckTimeoutExtension implements InvocationInterceptor {

  /** The longest a timed-out method is given to stop once interrupted, before tear-down runs. */
  private static final Duration MAX_GRACE = Duration.ofSeconds(10);

  @Override
  public void interceptTestMethod(
      Invocation<Void> invocation,
      ReflectiveInvocationContext<Method> invocationContext,
      ExtensionContext extensionContext)
      throws Throwable {
    bounded(invocation, extensionContext, "test");
  }

  @Override
  public void interceptTestTemplateMethod(
      Invocation<Void> invocation,
      ReflectiveInvocationContext<Method> invocationContext,
      ExtensionContext extensionContext)
      throws Throwable {
    bounded(invocation, extensionContext, "test");
  }

  @Override
  public void interceptBeforeEachMethod(
      Invocation<Void> invocation,
      ReflectiveInvocationContext<Method> invocationContext,
      ExtensionContext extensionContext)
      throws Throwable {
    bounded(invocation, extensionContext, "@BeforeEach " + invocationContext.getExecutable());
  }

  @Override
  public void interceptAfterEachMethod(
      Invocation<Void> invocation,
      ReflectiveInvocationContext<Method> invocationContext,
      ExtensionContext extensionContext)
      throws Throwable {
    bounded(invocation, extensionContext, "@AfterEach " + invocationContext.getExecutable());
  }

  private static void bounded(Invocation<Void> invocation, ExtensionContext context, String what)
      throws Throwable {
    Duration limit = limitFor(context);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread worker =
        new Thread(
            () -> {
              try {
                invocation.proceed();
              } catch (Throwable t) {
                failure.set(t);
              }
            },
            "orchestra-tck " + context.getUniqueId());
    worker.setDaemon(true);
    worker.start();
    try {
      worker.join(limit.toMillis());
    } catch (InterruptedException e) {
      worker.interrupt();
      throw e;
    }
    if (worker.isAlive()) {
      StackTraceElement[] stuckAt = worker.getStackTrace();
      worker.interrupt();
      Duration half = limit.dividedBy(2);
      worker.join((half.compareTo(MAX_GRACE) < 0 ? half : MAX_GRACE).toMillis());
      TimeoutException timeout =
          new TimeoutException(
              what
                  + " of '"
                  + context.getDisplayName()
                  + "' did not finish within "
                  + limit
                  + " (set system property "
                  + TckSettings.TIMEOUT_PROPERTY
                  + " or override testTimeout() to change it); stack trace: where it"
                  + " was stuck");
      timeout.setStackTrace(stuckAt);
      if (failure.get() != null) {
        timeout.addSuppressed(failure.get());
      }
      throw timeout;
    }
    if (failure.get() != null) {
      throw failure.get();
    }
  }

  /** The bound of the kit instance among the test's instances (the outermost one). */
  private static Duration limitFor(ExtensionContext context) {
    return context
        .getTestInstances()
        .flatMap(instances -> instances.findInstance(KitBase.class))
        .map(KitBase::testTimeout)
        .orElseGet(TckSettings::testTimeout);
  }
}
