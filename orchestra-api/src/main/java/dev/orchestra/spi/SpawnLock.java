package dev.orchestra.spi;

import java.io.IOException;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Keeps files written for tasks out of the processes a driver starts, as Go's {@code
 * syscall.ForkLock} does.
 *
 * <p>A process the JVM starts inherits every descriptor the JVM has open until its launcher closes
 * them (Java opens files without close-on-exec). A file that such a child still holds open for
 * writing cannot be run: {@code exec} fails with {@code ETXTBSY} ("Text file busy"). A task running
 * a script that a copy into its volume had just written would fail now and then, whenever another
 * process of the JVM was starting at that moment. So {@link Tar} writes each file under the shared
 * lock, and a driver that starts processes on this machine starts them under the exclusive one
 * ({@link #starting}): no such process starts while a file is open for writing, and a start waits
 * for the files being written, never for a whole copy. Processes that other code of the JVM starts
 * are not covered.
 */
public final class SpawnLock {

  private static final ReentrantReadWriteLock LOCK = new ReentrantReadWriteLock();

  private SpawnLock() {}

  /** Work that writes files and may fail with an I/O error. */
  @FunctionalInterface
  public interface Writing {
    /**
     * Does the work.
     *
     * @throws IOException if writing fails
     */
    void run() throws IOException;
  }

  /**
   * Work that starts a process.
   *
   * @param <T> what the start returns, e.g. {@link Process}
   */
  @FunctionalInterface
  public interface Starting<T> {
    /**
     * Starts it.
     *
     * @return what was started
     * @throws IOException if the start fails
     */
    T start() throws IOException;
  }

  /**
   * Runs {@code work}, which writes a file, while no process starts.
   *
   * @param what what is written, for the error of an interrupted wait
   * @param work the writing
   * @throws IOException if {@code work} does
   * @throws dev.orchestra.OrchestraInterruptedException if interrupted while waiting
   */
  public static void writing(String what, Writing work) throws IOException {
    Lock shared = LOCK.readLock();
    lock(shared, what);
    try {
      work.run();
    } finally {
      shared.unlock();
    }
  }

  /**
   * Starts a process once no file is being written.
   *
   * @param <T> what the start returns
   * @param what what is started, for the error of an interrupted wait
   * @param start the start
   * @return what {@code start} returned
   * @throws IOException if {@code start} does
   * @throws dev.orchestra.OrchestraInterruptedException if interrupted while waiting
   */
  public static <T> T starting(String what, Starting<T> start) throws IOException {
    Lock exclusive = LOCK.writeLock();
    lock(exclusive, what);
    try {
      return start.start();
    } finally {
      exclusive.unlock();
    }
  }

  private static void lock(Lock lock, String what) {
    try {
      lock.lockInterruptibly();
    } catch (InterruptedException e) {
      throw Exceptions.launder(what, e);
    }
  }
}
