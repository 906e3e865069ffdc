package dev.orchestra;

/**
 * Every failure of a driver or of the registry: the platform refused, failed or could not be
 * reached. The message says what failed, for which task, volume or namespace, and what the platform
 * answered; the cause, when there is one, is the platform's own exception.
 *
 * <p>Subtypes mark the failures a caller may want to branch on.
 */
public class OrchestraException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /**
   * A failure without an underlying cause.
   *
   * @param message what failed and why
   */
  public OrchestraException(String message) {
    super(message);
  }

  /**
   * A failure caused by another exception.
   *
   * @param message what failed and why
   * @param cause the underlying exception
   */
  public OrchestraException(String message, Throwable cause) {
    super(message, cause);
  }
}
