package dev.orchestra;

/**
 * The task's image is not available to the platform and could not be obtained (absent and not
 * pullable, or pulling is disabled). Nothing of the task is left behind.
 */
public class ImageNotFoundException extends OrchestraException {

  private static final long serialVersionUID = 1L;

  /** The image reference that could not be found. */
  private final String image;

  /**
   * Creates the exception.
   *
   * @param image the image reference that could not be found
   * @param message what was attempted and what the platform answered
   * @param cause the platform's exception, or {@code null}
   */
  public ImageNotFoundException(String image, String message, Throwable cause) {
    super(message, cause);
    this.image = image;
  }

  /**
   * The image reference that could not be found.
   *
   * @return the image reference
   */
  public String image() {
    return image;
  }
}
