package dev.orchestra;

/**
 * The task's container does not exist (any more): it was cleaned up, or removed behind the driver's
 * back.
 */
public class ContainerNotFoundException extends OrchestraException {

  private static final long serialVersionUID = 1L;

  /** The id of the task whose container is missing. */
  private final String taskId;

  /**
   * Creates the exception.
   *
   * @param taskId the id of the task whose container is missing
   * @param message what was attempted and what the platform answered
   * @param cause the platform's exception, or {@code null}
   */
  public ContainerNotFoundException(String taskId, String message, Throwable cause) {
    super(message, cause);
    this.taskId = taskId;
  }

  /**
   * The id of the task whose container is missing.
   *
   * @return the task id
   */
  public String taskId() {
    return taskId;
  }
}
