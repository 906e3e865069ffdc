package dev.orchestra.spi;

import java.util.Objects;

/**
 * One entry of a tar archive, as {@link TarReader} reads it and {@link TarWriter} writes it.
 *
 * @param name the path inside the archive, as written ({@code a/b}, a directory may end in {@code
 *     /}); see {@link Tar#checkedPath(String)} for the form an extraction accepts
 * @param type what the entry is
 * @param mode the permission bits ({@code 0755}); setuid, setgid and sticky bits are kept here but
 *     never applied by {@link Tar#extract(TarReader, java.nio.file.Path)}
 * @param size the length of a {@link Type#FILE}'s content in bytes, 0 for every other type
 * @param mtimeSeconds the modification time, in seconds since the epoch
 * @param linkTarget the target of a {@link Type#SYMLINK} or {@link Type#HARDLINK}, {@code ""}
 *     otherwise
 * @param uid the numeric owner
 * @param gid the numeric group
 */
public record TarEntry(
    String name,
    Type type,
    int mode,
    long size,
    long mtimeSeconds,
    String linkTarget,
    long uid,
    long gid) {

  /** The kinds of entry a tar archive holds. */
  public enum Type {
    /** A regular file, with content. */
    FILE,
    /** A directory. */
    DIRECTORY,
    /** A symbolic link. */
    SYMLINK,
    /** A hard link to an earlier entry. */
    HARDLINK,
    /** A character device. */
    CHARACTER_DEVICE,
    /** A block device. */
    BLOCK_DEVICE,
    /** A named pipe. */
    FIFO,
    /** Anything else (sparse files, volume labels, vendor types). */
    OTHER
  }

  /**
   * Checks the fields: a size only where content follows, a file (or an unknown type, skipped).
   *
   * @param name see the record
   * @param type see the record
   * @param mode see the record
   * @param size see the record
   * @param mtimeSeconds see the record
   * @param linkTarget see the record
   * @param uid see the record
   * @param gid see the record
   * @throws IllegalArgumentException if {@code size} is negative, or not 0 for a directory or link
   */
  public TarEntry {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(linkTarget, "linkTarget");
    if (size < 0 || (size != 0 && type != Type.FILE && type != Type.OTHER)) {
      throw new IllegalArgumentException(
          "tar entry '" + name + "' of type " + type + " has size " + size);
    }
  }

  /**
   * The same entry under another name.
   *
   * @param newName the new name
   * @return the renamed entry
   */
  public TarEntry withName(String newName) {
    return new TarEntry(newName, type, mode, size, mtimeSeconds, linkTarget, uid, gid);
  }
}
