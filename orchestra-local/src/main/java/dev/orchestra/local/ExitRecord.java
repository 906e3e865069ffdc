package dev.orchestra.local;

import dev.orchestra.ContainerStatus;
import dev.orchestra.ExitReason;
import dev.orchestra.spi.Names;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Properties;
import java.util.Set;

/**
 * What the local driver keeps on disk about a task that ended, so that a driver in a later JVM
 * finds it: the task's original id (directory names are only its {@link Names#safe(String)} form),
 * the pid it ran as, its exit code and why it ended.
 *
 * <p>Stored as {@code <task root>/exit} in properties format (ASCII, read as UTF-8, so a record
 * written by {@link Properties#store(java.io.Writer, String)} reads too), written to a temporary
 * file first and moved into place, so a reader sees the whole record or none. Reading trusts
 * nothing: the file must be a regular file (never followed through a symbolic link), small, and
 * hold exactly the expected keys with valid values.
 */
record ExitRecord(String taskId, long pid, int exitCode, ExitReason reason) {

  /** The record's file name inside the task root. */
  static final String FILE = "exit";

  private static final String FORMAT = "1";
  private static final int MAX_BYTES = 16 * 1024;
  private static final Set<String> KEYS = Set.of("format", "task", "pid", "exitCode", "reason");

  /**
   * Checks the values.
   *
   * @throws IllegalArgumentException if the id is not a valid task id, the pid not positive, or the
   *     exit code and reason not those of a done status
   */
  ExitRecord {
    Names.requireText("task id", taskId);
    if (pid <= 0) {
      throw new IllegalArgumentException("pid must be positive, was " + pid);
    }
    ContainerStatus.done(exitCode, reason);
  }

  /** The final status this record holds. */
  ContainerStatus status() {
    return ContainerStatus.done(exitCode, reason);
  }

  /**
   * Writes the record into a task root, replacing an earlier one.
   *
   * @param taskRoot the task's root directory
   * @throws IOException if writing fails; no partial record is left in place
   */
  void write(Path taskRoot) throws IOException {
    // The text Properties.store writes, without its date comment: each task's end writes a record,
    // and the date's formatting and store's writers cost more than the file itself.
    String text =
        "format="
            + FORMAT
            + "\ntask="
            + escape(taskId)
            + "\npid="
            + pid
            + "\nexitCode="
            + exitCode
            + "\nreason="
            + reason.name()
            + "\n";
    Path temporary = taskRoot.resolve(FILE + ".tmp");
    // Truncates what an interrupted earlier write left; never follows a link put in its place.
    Files.write(
        temporary,
        text.getBytes(StandardCharsets.US_ASCII),
        StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.WRITE,
        LinkOption.NOFOLLOW_LINKS);
    Files.move(
        temporary,
        taskRoot.resolve(FILE),
        StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
  }

  /**
   * A value as {@link Properties#load(java.io.Reader)} reads it back exactly: ASCII only, with the
   * properties format's escapes, every other character as a Unicode escape (a lone surrogate too).
   */
  private static String escape(String value) {
    StringBuilder out = new StringBuilder(value.length() + 8);
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '\\' -> out.append("\\\\");
        case '=', ':', '#', '!' -> out.append('\\').append(c);
        case ' ' -> out.append(i == 0 ? "\\ " : " ");
        default -> {
          if (c < 0x20 || c > 0x7e) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.toString();
  }

  /**
   * Reads the record of a task root.
   *
   * @param taskRoot the task's root directory
   * @return the record
   * @throws java.nio.file.NoSuchFileException if the task root has no record
   * @throws IOException if the record cannot be read or is not valid; the message says why
   */
  static ExitRecord read(Path taskRoot) throws IOException {
    Path file = taskRoot.resolve(FILE);
    BasicFileAttributes attributes =
        Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    if (!attributes.isRegularFile()) {
      throw new IOException(file + " is not a regular file");
    }
    byte[] bytes;
    try (InputStream in =
        Files.newInputStream(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
      bytes = in.readNBytes(MAX_BYTES + 1);
    }
    if (bytes.length > MAX_BYTES) {
      throw new IOException(file + " is larger than " + MAX_BYTES + " bytes");
    }
    Properties values = new Properties();
    try {
      values.load(
          new StringReader(
              StandardCharsets.UTF_8
                  .newDecoder()
                  .onMalformedInput(CodingErrorAction.REPORT)
                  .onUnmappableCharacter(CodingErrorAction.REPORT)
                  .decode(ByteBuffer.wrap(bytes))
                  .toString()));
    } catch (CharacterCodingException | IllegalArgumentException e) {
      throw new IOException(file + " is not a valid record: " + e, e);
    }
    if (!values.stringPropertyNames().equals(KEYS)) {
      throw new IOException(
          file + " holds the keys " + values.stringPropertyNames() + ", expected " + KEYS);
    }
    if (!FORMAT.equals(values.getProperty("format"))) {
      throw new IOException(
          file + " has format '" + values.getProperty("format") + "', expected " + FORMAT);
    }
    try {
      return new ExitRecord(
          values.getProperty("task"),
          Long.parseLong(values.getProperty("pid")),
          Integer.parseInt(values.getProperty("exitCode")),
          ExitReason.valueOf(values.getProperty("reason")));
    } catch (IllegalArgumentException e) {
      throw new IOException(file + " is not a valid record: " + e.getMessage(), e);
    }
  }
}
