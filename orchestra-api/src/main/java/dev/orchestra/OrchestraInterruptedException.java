package dev.orchestra;

/**
 * A blocking call was interrupted. The interrupt flag of the thread that made the call is set again
 * before this is thrown, so that callers further up still see the interruption.
 */
public class OrchestraInterruptedException extends OrchestraException {

  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what was interrupted
   * @param cause the {@link InterruptedException} or interruption-related exception, or {@code
   *     null}
   */
  public OrchestraInterruptedException(String message, Throwable cause) {
    super(message, cause);
  }
}
