package dev.orchestra;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;

/**
 * A named volume of one namespace, shared by the tasks that mount it (see {@link Task#mounts()}).
 *
 * <p>With {@link Capability#VOLUME_DATA} its data moves in and out as tar streams ({@link
 * #copyIn(InputStream)}, {@link #copyOut(OutputStream)}) or from and to a local directory ({@link
 * #copyIn(Path)}, {@link #copyOut(Path)}). Copies stream: their memory does not grow with the size
 * of the data, and they answer {@link Thread#interrupt()} as every blocking call does. A copy may
 * run while tasks use the volume; what a task sees of a copy in progress, and what a copy sees of a
 * task's writes in progress, is the platform's (no snapshot, no lock).
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

  /**
   * Extracts a tar stream (POSIX ustar, PAX or GNU) into the volume's root: directories are
   * created, a file of the same path is replaced, file modes (the executable bit above all),
   * directories, empty directories and symbolic links are kept. Ownership is the platform's.
   *
   * <p>An entry whose path is absolute, contains {@code ..}, or would be written through a symbolic
   * link that leads out of the volume is refused with an {@link IllegalArgumentException} naming
   * the entry, and nothing outside the volume is touched (entries before it may have been written).
   * Hard links, devices and FIFOs are refused the same way. The stream is read to its
   * end-of-archive marker and not closed.
   *
   * <p>Requires {@link Capability#VOLUME_DATA}.
   *
   * @param tar the archive to extract; not {@code null}
   * @throws IllegalArgumentException if an entry is refused or the stream is not a tar archive
   * @throws OrchestraException if the platform fails to write the data or the volume is gone
   * @throws OrchestraInterruptedException if the calling thread is interrupted
   * @throws UnsupportedOperationException if the driver lacks {@link Capability#VOLUME_DATA}
   */
  default void copyIn(InputStream tar) {
    throw new UnsupportedOperationException(
        getClass().getName() + " does not support volume data (Capability.VOLUME_DATA)");
  }

  /**
   * Writes the volume's contents as a tar stream: paths relative to the volume's root (the root
   * itself is not an entry), file modes, directories and symbolic links as links. The stream is
   * finished with the end-of-archive marker and not closed.
   *
   * <p>Requires {@link Capability#VOLUME_DATA}.
   *
   * @param tar where the archive goes; not {@code null}
   * @throws OrchestraException if the platform fails to read the data, the volume is gone, or
   *     writing to {@code tar} fails
   * @throws OrchestraInterruptedException if the calling thread is interrupted
   * @throws UnsupportedOperationException if the driver lacks {@link Capability#VOLUME_DATA}
   */
  default void copyOut(OutputStream tar) {
    throw new UnsupportedOperationException(
        getClass().getName() + " does not support volume data (Capability.VOLUME_DATA)");
  }

  /**
   * Copies a local directory's contents into the volume's root, as {@link #copyIn(InputStream)}
   * does with a tar stream of it (symbolic links are copied as links, not followed).
   *
   * <p>Requires {@link Capability#VOLUME_DATA}.
   *
   * @param directory an existing local directory; not {@code null}
   * @throws IllegalArgumentException if {@code directory} is not a directory
   * @throws OrchestraException if reading the directory or writing the volume fails
   * @throws OrchestraInterruptedException if the calling thread is interrupted
   * @throws UnsupportedOperationException if the driver lacks {@link Capability#VOLUME_DATA}
   */
  default void copyIn(Path directory) {
    throw new UnsupportedOperationException(
        getClass().getName() + " does not support volume data (Capability.VOLUME_DATA)");
  }

  /**
   * Copies the volume's contents into a local directory, which must be empty or not exist yet (it
   * is created, with its parents). The same as {@code copyOut(directory, false)}.
   *
   * <p>Requires {@link Capability#VOLUME_DATA}.
   *
   * @param directory the target directory; not {@code null}
   * @throws IllegalArgumentException if {@code directory} exists and is not an empty directory
   * @throws OrchestraException if reading the volume or writing the directory fails
   * @throws OrchestraInterruptedException if the calling thread is interrupted
   * @throws UnsupportedOperationException if the driver lacks {@link Capability#VOLUME_DATA}
   * @see #copyOut(Path, boolean)
   */
  default void copyOut(Path directory) {
    copyOut(directory, false);
  }

  /**
   * Copies the volume's contents into a local directory, created with its parents if missing.
   *
   * <p>Requires {@link Capability#VOLUME_DATA}.
   *
   * @param directory the target directory; not {@code null}
   * @param merge {@code false} to refuse a directory that is not empty; {@code true} to write into
   *     it, replacing files of the same path and keeping the others
   * @throws IllegalArgumentException if {@code directory} exists and is not a directory, or is not
   *     empty and {@code merge} is false
   * @throws OrchestraException if reading the volume or writing the directory fails
   * @throws OrchestraInterruptedException if the calling thread is interrupted
   * @throws UnsupportedOperationException if the driver lacks {@link Capability#VOLUME_DATA}
   */
  default void copyOut(Path directory, boolean merge) {
    throw new UnsupportedOperationException(
        getClass().getName() + " does not support volume data (Capability.VOLUME_DATA)");
  }
}
