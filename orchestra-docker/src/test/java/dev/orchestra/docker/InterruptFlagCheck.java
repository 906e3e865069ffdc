package dev.orchestra.docker;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test or class of this module that ends with its thread's interrupt flag set, and clears
 * the flag. Registered for every test of the module (by the JUnit Platform's extension
 * auto-detection).
 *
 * <p>Why: a driver call must leave the flag as its caller set it (an interrupt the driver sends
 * itself, such as a request's deadline, is cleared before the call returns), and a test that
 * interrupts its own thread clears the flag before it ends. JUnit clears a flag left behind
 * silently; this check names the test instead, so that a driver that interrupts its callers'
 * threads cannot go unseen.
 */
public final class InterruptFlagCheck implements AfterEachCallback, AfterAllCallback {

  /** Public for the JUnit Platform's auto-detection. */
  public InterruptFlagCheck() {}

  @Override
  public void afterEach(ExtensionContext context) {
    check(context);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    check(context);
  }

  private static void check(ExtensionContext context) {
    if (Thread.interrupted()) {
      throw new AssertionError(
          context.getDisplayName()
              + " ended with the interrupt flag of its thread ("
              + Thread.currentThread().getName()
              + ") set: a driver call set it on a thread nobody interrupted, or the test did not"
              + " clear an interrupt of its own (the flag is cleared now)");
    }
  }
}
