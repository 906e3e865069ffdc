package dev.orchestra.spi;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The output of a sandbox step, recorded on the client's disk, for drivers whose platform keeps no
 * log of a command run in a running container (a Docker engine's exec, a Kubernetes exec: the
 * output is only a stream, and not in the container's log): the driver writes each stream to a file
 * of its own as it arrives, never holding it whole in memory, and reads it back for {@link
 * dev.orchestra.Container#logs} (as often as asked) and {@link dev.orchestra.Container#follow}
 * (which waits for more until the step has ended).
 *
 * <p>Thread-safe: one thread writes, any number read.
 */
public final class StepOutput {

  private static final Logger LOG = LoggerFactory.getLogger(StepOutput.class);
  private static final int CHUNK = 64 * 1024;

  private final Path dir;
  private final Path[] files;
  private final FileChannel[] writers;

  /** Bytes written to each stream so far; guarded by {@code this}. */
  private final long[] lengths = new long[2];

  /** Set once the step has ended and nothing more comes; guarded by {@code this}. */
  private boolean finished;

  private StepOutput(Path dir, Path[] files, FileChannel[] writers) {
    this.dir = dir;
    this.files = files;
    this.writers = writers;
  }

  /**
   * Creates the directory and its two files.
   *
   * @param dir a directory that does not exist yet (its parents are made)
   * @return the output, open for writing
   * @throws IOException if the directory or a file cannot be made
   */
  public static StepOutput create(Path dir) throws IOException {
    Files.createDirectories(dir.getParent());
    Files.createDirectory(dir);
    Path[] files = {dir.resolve("stdout"), dir.resolve("stderr")};
    FileChannel[] writers = new FileChannel[2];
    try {
      for (int i = 0; i < 2; i++) {
        writers[i] =
            FileChannel.open(files[i], StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      }
    } catch (IOException e) {
      for (FileChannel w : writers) {
        if (w != null) {
          w.close();
        }
      }
      throw e;
    }
    return new StepOutput(dir, files, writers);
  }

  /**
   * Records bytes of standard output, or of standard error; called by one thread only.
   *
   * @param stderr whether they come from standard error (else standard output)
   * @param bytes the bytes
   * @param offset where they start in {@code bytes}
   * @param length how many there are
   * @throws IOException if the file cannot be written
   */
  public void write(boolean stderr, byte[] bytes, int offset, int length) throws IOException {
    int stream = stderr ? 1 : 0;
    ByteBuffer buffer = ByteBuffer.wrap(bytes, offset, length);
    while (buffer.hasRemaining()) {
      writers[stream].write(buffer);
    }
    synchronized (this) {
      lengths[stream] += length;
      notifyAll();
    }
  }

  /** Nothing more is written: closes the files. */
  public void closeWriting() {
    for (FileChannel w : writers) {
      try {
        w.close();
      } catch (IOException e) {
        LOG.warn("closing the output file of a step in {} failed: {}", dir, e.toString());
      }
    }
  }

  /** The step has ended: readers that follow return once they have read everything. */
  public void finish() {
    synchronized (this) {
      finished = true;
      notifyAll();
    }
  }

  /**
   * Writes everything recorded so far, standard output first; flushes both.
   *
   * @param stdout where standard output goes
   * @param stderr where standard error goes
   * @throws IOException if reading a file or writing to a target fails
   */
  public void copyTo(OutputStream stdout, OutputStream stderr) throws IOException {
    long[] upTo;
    synchronized (this) {
      upTo = lengths.clone();
    }
    copy(0, 0, upTo[0], stdout);
    copy(1, 0, upTo[1], stderr);
    stdout.flush();
    stderr.flush();
  }

  /**
   * Writes everything, as it is recorded, until the step has ended and all is written.
   *
   * @param stdout where standard output goes
   * @param stderr where standard error goes
   * @param what the step, for the message of an interruption
   * @throws IOException if reading a file or writing to a target fails
   * @throws dev.orchestra.OrchestraInterruptedException if the thread is interrupted
   */
  public void follow(OutputStream stdout, OutputStream stderr, String what) throws IOException {
    long[] written = new long[2];
    while (true) {
      long[] upTo;
      boolean last;
      synchronized (this) {
        while (!finished && lengths[0] == written[0] && lengths[1] == written[1]) {
          try {
            wait();
          } catch (InterruptedException e) {
            throw Exceptions.launder(what, e);
          }
        }
        upTo = lengths.clone();
        last = finished;
      }
      copy(0, written[0], upTo[0], stdout);
      copy(1, written[1], upTo[1], stderr);
      stdout.flush();
      stderr.flush();
      written = upTo;
      if (last) {
        return;
      }
      if (Thread.currentThread().isInterrupted()) {
        throw Exceptions.launder(what, new InterruptedException());
      }
    }
  }

  /** Deletes the files. */
  public void delete() {
    for (Path file : files) {
      try {
        Files.deleteIfExists(file);
      } catch (IOException e) {
        LOG.warn("deleting the output file {} of a step failed: {}", file, e.toString());
      }
    }
    try {
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      LOG.warn("deleting the output directory {} of a step failed: {}", dir, e.toString());
    }
  }

  private void copy(int stream, long from, long to, OutputStream target) throws IOException {
    if (from >= to) {
      return;
    }
    try (FileChannel reader = FileChannel.open(files[stream], StandardOpenOption.READ)) {
      ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
      long position = from;
      while (position < to) {
        buffer.clear();
        buffer.limit((int) Math.min(CHUNK, to - position));
        int n = reader.read(buffer, position);
        if (n < 0) {
          throw new IOException(
              "the output file " + files[stream] + " ends at " + position + ", before " + to);
        }
        target.write(buffer.array(), 0, n);
        position += n;
      }
    }
  }
}
