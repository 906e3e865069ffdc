package dev.orchestra;

/**
 * A named volume of one namespace, shared by the tasks that mount it (see {@link Task#mounts()}).
 *
 * <p>Thread-safe.
 */
public interface Volume {

  /**
   * The name the caller gave to {@link Driver#createVolume(String, long)} or to a {@link Mount},
   * not the platform's name for it.
   *
   * @return the caller's name
   */
  String name();

  /**
   * Deletes the volume and its data. Idempotent: deleting a deleted volume does nothing.
   *
   * @throws OrchestraException if the platform fails to delete it (for example while a running
   *     container still uses it)
   */
  void cleanup();
}
