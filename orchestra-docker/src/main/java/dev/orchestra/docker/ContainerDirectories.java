package dev.orchestra.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.BadRequestException;
import com.github.dockerjava.api.exception.NotFoundException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates directories inside a running container through the engine's archive API ({@code PUT
 * /containers/{id}/archive}), so that it works whatever the image holds (no {@code mkdir} needed).
 *
 * <p>The engine answers an exec whose working directory is missing with an error, where it creates
 * the working directory of a new container itself; this makes a step's {@code workDir} behave like
 * a task's. Directories are created as the engine creates a working directory: owned by root, mode
 * 0755. Only the missing part of the path is sent: extracting an archive over an existing directory
 * would change its owner and mode, and an existing directory may be a volume with its own.
 */
final class ContainerDirectories {

  private static final Logger LOG = LoggerFactory.getLogger(ContainerDirectories.class);
  private static final int BLOCK = 512;

  /** An archive without entries: extracting it changes nothing, but the target must exist. */
  private static final byte[] EMPTY_ARCHIVE = new byte[2 * BLOCK];

  private ContainerDirectories() {}

  /**
   * Makes sure {@code base/relative} is a directory in the container, creating what is missing.
   *
   * @param api the engine
   * @param containerId a running container
   * @param base an existing directory, absolute
   * @param relative a normalised relative path ({@code a/b}, see {@link
   *     dev.orchestra.spi.TaskPaths#requireRelativePath}), or {@code .}
   * @throws IllegalArgumentException if a part of the path exists but is not a directory
   * @throws RuntimeException as docker-java throws, if the engine fails
   */
  static void ensure(DockerClient api, String containerId, String base, String relative) {
    if (relative.equals(".")) {
      return;
    }
    List<String> segments = Arrays.asList(relative.split("/"));
    int existing = segments.size();
    while (existing > 0 && !isDirectory(api, containerId, join(base, segments, existing))) {
      existing--;
    }
    if (existing == segments.size()) {
      return;
    }
    String parent = join(base, segments, existing);
    List<String> missing = segments.subList(existing, segments.size());
    LOG.debug("creating {} in {} of container {}", String.join("/", missing), parent, containerId);
    api.copyArchiveToContainerCmd(containerId)
        .withRemotePath(parent)
        .withTarInputStream(new ByteArrayInputStream(directories(missing)))
        .exec();
  }

  private static boolean isDirectory(DockerClient api, String containerId, String path) {
    try {
      api.copyArchiveToContainerCmd(containerId)
          .withRemotePath(path)
          .withTarInputStream(new ByteArrayInputStream(EMPTY_ARCHIVE))
          .exec();
      return true;
    } catch (NotFoundException e) {
      return false;
    } catch (BadRequestException e) {
      throw new IllegalArgumentException(
          path + " in container " + containerId + " is not a directory: " + EngineErrors.answer(e),
          e);
    }
  }

  private static String join(String base, List<String> segments, int count) {
    return count == 0 ? base : base + "/" + String.join("/", segments.subList(0, count));
  }

  /**
   * A tar archive (POSIX ustar, with a pax header for names that do not fit) of nested directories:
   * {@code a/}, {@code a/b/}, ..., owned by root, mode 0755.
   */
  static byte[] directories(List<String> nested) {
    ByteArrayOutputStream tar = new ByteArrayOutputStream();
    StringBuilder path = new StringBuilder();
    for (String segment : nested) {
      path.append(segment).append('/');
      byte[] name = path.toString().getBytes(StandardCharsets.UTF_8);
      boolean fits = name.length <= 100 && isAscii(name);
      if (!fits) {
        byte[] record = paxRecord("path", path.toString());
        tar.writeBytes(header("PaxHeader/dir", 'x', record.length));
        tar.writeBytes(record);
        tar.writeBytes(new byte[padding(record.length)]);
      }
      tar.writeBytes(header(fits ? path.toString() : "dir/", '5', 0));
    }
    tar.writeBytes(EMPTY_ARCHIVE);
    return tar.toByteArray();
  }

  private static byte[] header(String name, char type, long size) {
    byte[] h = new byte[BLOCK];
    put(h, 0, 100, name.getBytes(StandardCharsets.UTF_8));
    put(h, 100, 8, octal(0755, 7));
    put(h, 108, 8, octal(0, 7));
    put(h, 116, 8, octal(0, 7));
    put(h, 124, 12, octal(size, 11));
    put(h, 136, 12, octal(System.currentTimeMillis() / 1000, 11));
    Arrays.fill(h, 148, 156, (byte) ' ');
    h[156] = (byte) type;
    put(h, 257, 6, "ustar\0".getBytes(StandardCharsets.US_ASCII));
    put(h, 263, 2, "00".getBytes(StandardCharsets.US_ASCII));
    put(h, 265, 32, "root".getBytes(StandardCharsets.US_ASCII));
    put(h, 297, 32, "root".getBytes(StandardCharsets.US_ASCII));
    long sum = 0;
    for (byte b : h) {
      sum += b & 0xff;
    }
    put(h, 148, 8, (String.format("%06o", sum) + "\0 ").getBytes(StandardCharsets.US_ASCII));
    return h;
  }

  /** A pax record, {@code "<length> <key>=<value>\n"}, whose length counts itself. */
  private static byte[] paxRecord(String key, String value) {
    int body = (" " + key + "=" + value + "\n").getBytes(StandardCharsets.UTF_8).length;
    int length = body + Integer.toString(body).length();
    if (Integer.toString(length).length() != Integer.toString(body).length()) {
      length++;
    }
    return (length + " " + key + "=" + value + "\n").getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] octal(long value, int digits) {
    String s = Long.toOctalString(value);
    return ("0".repeat(Math.max(0, digits - s.length())) + s + "\0")
        .getBytes(StandardCharsets.US_ASCII);
  }

  private static void put(byte[] header, int offset, int length, byte[] value) {
    System.arraycopy(value, 0, header, offset, Math.min(length, value.length));
  }

  private static int padding(int size) {
    return (BLOCK - size % BLOCK) % BLOCK;
  }

  private static boolean isAscii(byte[] bytes) {
    for (byte b : bytes) {
      if (b < 0) {
        return false;
      }
    }
    return true;
  }
}
