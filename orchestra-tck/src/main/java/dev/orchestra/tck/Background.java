package dev.orchestra.tck;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * A driver call running on a thread of its own, so that a test can bound it, interrupt it, and
 * watch what it does meanwhile. Started by {@link Rules#inBackground}, which interrupts those still
 * running when the test ends.
 */
final class Background<T> {

  private final CompletableFuture<T> outcome = new CompletableFuture<>();
  private final Thread thread;
  private volatile boolean interruptFlagAtEnd;

  Background(String what, Callable<T> call) {
    thread =
        new Thread(
            () -> {
              T value = null;
              Throwable failure = null;
              try {
                value = call.call();
              } catch (Throwable t) {
                failure = t;
              }
              interruptFlagAtEnd = Thread.currentThread().isInterrupted();
              if (failure == null) {
                outcome.complete(value);
              } else {
                outcome.completeExceptionally(failure);
              }
            },
            "orchestra-tck " + what);
    thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  boolean isRunning() {
    return !outcome.isDone();
  }

  void interrupt() {
    thread.interrupt();
  }

  /**
   * Throws what the call threw, if it has thrown, so that a wait for its effects ends at once.
   * Never an {@link AssertionError}, which Awaitility would take for "not yet".
   */
  void rethrowIfFailed() {
    if (outcome.isCompletedExceptionally()) {
      Throwable cause = outcome.handle((value, thrown) -> thrown).join();
      Throwable failure = cause instanceof CompletionException ? cause.getCause() : cause;
      if (failure instanceof RuntimeException e) {
        throw e;
      }
      throw new IllegalStateException(thread.getName() + " failed: " + failure, failure);
    }
  }

  /** Whether the thread's interrupt flag was set when the call returned or threw. */
  boolean interruptFlagAtEnd() {
    return interruptFlagAtEnd;
  }

  /**
   * Waits for the call to return and returns its value. Rethrows what it threw: an unchecked
   * exception or error as it is, the cause of an {@link ExecutionException} or {@link
   * CompletionException} (a future's failure) unwrapped, any other checked exception in an {@link
   * AssertionError}.
   */
  T result(Duration limit, String what) {
    Throwable thrown = thrown(limit, what);
    while ((thrown instanceof ExecutionException || thrown instanceof CompletionException)
        && thrown.getCause() != null) {
      thrown = thrown.getCause();
    }
    if (thrown instanceof RuntimeException e) {
      throw e;
    }
    if (thrown instanceof Error e) {
      throw e;
    }
    if (thrown != null) {
      throw new AssertionError(what + " threw " + thrown, thrown);
    }
    return outcome.join();
  }

  /**
   * Waits for the call to end; returns what it threw, or null if it returned. Fails with an {@link
   * AssertionError} saying that it did not return within the limit, whose stack trace is where the
   * call is stuck.
   */
  Throwable thrown(Duration limit, String what) {
    return thrown(limit, () -> what + " did not return within " + limit);
  }

  /** As {@link #thrown(Duration, String)}, failing with the given message. */
  Throwable thrown(Duration limit, Supplier<String> stuck) {
    try {
      outcome.get(limit.toNanos(), TimeUnit.NANOSECONDS);
      return null;
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (TimeoutException e) {
      AssertionError failure = new AssertionError(stuck.get());
      failure.setStackTrace(thread.getStackTrace());
      throw failure;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("the test was interrupted while waiting for " + thread.getName(), e);
    }
  }
}
