package dev.orchestra.spi;

import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.nio.channels.ClosedByInterruptException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * Turns whatever a platform call throws into the exception a driver lets out, in one place.
 *
 * <p>Use it as {@code throw Exceptions.launder("reading logs of task " + id, e);}.
 */
public final class Exceptions {

  private Exceptions() {}

  /**
   * Launders a throwable into an unchecked exception.
   *
   * <ul>
   *   <li>an {@link Error} is thrown as it is;
   *   <li>a {@link RuntimeException} is returned as it is;
   *   <li>an interruption ({@link InterruptedException}, {@link ClosedByInterruptException}, an
   *       {@link InterruptedIOException} that is not a timeout) sets the current thread's interrupt
   *       flag again and becomes an {@link OrchestraInterruptedException};
   *   <li>{@link ExecutionException} and {@link CompletionException} are unwrapped;
   *   <li>any other checked exception is wrapped once in an {@link OrchestraException}.
   * </ul>
   *
   * @param what what was being done, for the message (for example {@code "starting task build-1"})
   * @param t the throwable
   * @return the exception to throw
   */
  public static RuntimeException launder(String what, Throwable t) {
    if (t instanceof Error e) {
      throw e;
    }
    if ((t instanceof ExecutionException || t instanceof CompletionException)
        && t.getCause() != null) {
      return launder(what, t.getCause());
    }
    if (t instanceof RuntimeException e) {
      return e;
    }
    if (isInterruption(t)) {
      Thread.currentThread().interrupt();
      return new OrchestraInterruptedException(what + " was interrupted", t);
    }
    return new OrchestraException(what + " failed: " + t, t);
  }

  /**
   * Whether a throwable reports that its thread was interrupted.
   *
   * @param t the throwable
   * @return {@code true} for an interruption, {@code false} for a timeout or another failure
   */
  public static boolean isInterruption(Throwable t) {
    return t instanceof InterruptedException
        || t instanceof ClosedByInterruptException
        || (t instanceof InterruptedIOException && !(t instanceof SocketTimeoutException));
  }
}
