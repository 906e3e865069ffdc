package dev.orchestra.local;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.BooleanSupplier;

/**
 * The two files a process of the local driver writes its standard output and standard error to, and
 * the two ways of reading them: a copy of what is there ({@link #copy}) and a tail that follows
 * them until the process has ended ({@link #follow}). Both stream through one small buffer, never
 * the whole log, and neither follows a symbolic link.
 */
final class LogFiles {

  private static final int BUFFER_BYTES = 64 * 1024;

  /** How long {@link #follow} pauses when neither file has grown. */
  private static final long POLL_MILLIS = 15;

  private final Path stdout;
  private final Path stderr;

  /**
   * The log files of a process.
   *
   * @param dir the directory holding {@code stdout} and {@code stderr}
   */
  LogFiles(Path dir) {
    this.stdout = dir.resolve("stdout");
    this.stderr = dir.resolve("stderr");
  }

  Path stdout() {
    return stdout;
  }

  Path stderr() {
    return stderr;
  }

  /**
   * Copies both files, each as far as it was written when its copy began.
   *
   * @throws java.nio.file.NoSuchFileException if a file is missing
   * @throws IOException if reading a file or writing to a stream fails
   */
  void copy(OutputStream out, OutputStream err) throws IOException {
    copy(stdout, out);
    copy(stderr, err);
  }

  private static void copy(Path file, OutputStream to) throws IOException {
    try (FileChannel channel = open(file)) {
      long remaining = channel.size();
      ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(BUFFER_BYTES, remaining));
      while (remaining > 0) {
        buffer.clear().limit((int) Math.min(buffer.capacity(), remaining));
        int n = channel.read(buffer);
        if (n < 0) {
          break;
        }
        to.write(buffer.array(), 0, n);
        remaining -= n;
      }
    }
  }

  /**
   * Writes both files from their first byte, then what is appended to them, until {@code ended} has
   * answered {@code true} and both files are read to their end after that answer: as the process
   * wrote nothing after it ended, nothing is lost or written twice. Chunks of the two files
   * alternate, so a chatty stream does not hold back the other; each stream is flushed after each
   * chunk.
   *
   * @param ended whether the process has ended
   * @param out receives the standard output
   * @param err receives the standard error
   * @throws InterruptedException if the calling thread is interrupted; following stops at once
   * @throws java.nio.file.NoSuchFileException if a file is missing
   * @throws IOException if reading a file or writing to a stream fails
   */
  void follow(BooleanSupplier ended, OutputStream out, OutputStream err)
      throws IOException, InterruptedException {
    try (FileChannel outFile = open(stdout);
        FileChannel errFile = open(stderr)) {
      ByteBuffer buffer = ByteBuffer.allocate(BUFFER_BYTES);
      while (true) {
        boolean last = ended.getAsBoolean();
        boolean moved;
        do {
          if (Thread.interrupted()) {
            throw new InterruptedException();
          }
          int fromOut = transfer(outFile, out, buffer);
          int fromErr = transfer(errFile, err, buffer);
          moved = fromOut > 0 || fromErr > 0;
        } while (moved);
        if (last) {
          return;
        }
        Thread.sleep(POLL_MILLIS);
      }
    }
  }

  /** Moves one chunk, if there is one; reading on from the channel's position. */
  private static int transfer(FileChannel from, OutputStream to, ByteBuffer buffer)
      throws IOException {
    buffer.clear();
    int n = from.read(buffer);
    if (n <= 0) {
      return 0;
    }
    to.write(buffer.array(), 0, n);
    to.flush();
    return n;
  }

  private static FileChannel open(Path file) throws IOException {
    return FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
  }
}
