package dev.orchestra.local;

import com.sun.jna.LastErrorException;
import com.sun.jna.ptr.IntByReference;
import dev.orchestra.local.PosixSpawn.LibC;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Collects the exit status of the children {@link PosixSpawn} starts, all of them on one daemon
 * thread, whatever their number.
 *
 * <p>Each child is watched through a process file descriptor ({@code pidfd_open}), which becomes
 * readable when the child ends; the thread waits for any of them, and for a wake-up of its own when
 * a child is added, in one {@code poll}. A child that ended is then reaped with {@code waitpid} of
 * its own pid only, so children that the JDK started (and reaps) are never touched. The exit value
 * follows the JDK's {@link Process#exitValue()}: the exit code, or 128 plus the signal that killed
 * the process.
 */
final class ChildReaper implements Runnable {

  private static final Logger LOG = LoggerFactory.getLogger(ChildReaper.class);

  /** {@code SYS_pidfd_open}: the same number on every architecture since Linux 5.3. */
  private static final long SYS_PIDFD_OPEN = 434;

  private static final int EFD_NONBLOCK = 04000;
  private static final short POLLIN = 1;
  private static final int POLLFD_BYTES = 8;

  /** How long the thread waits, with nothing to watch, before it ends. */
  static final int IDLE_MILLIS = 2000;

  /** What a write adds to the wake-up counter: 1, as eight bytes in the machine's order. */
  private static final byte[] ONE =
      ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putLong(1).array();

  private static volatile ChildReaper instance;

  private final LibC libc;
  private final int wakeFd;
  private final ConcurrentLinkedQueue<Child> added = new ConcurrentLinkedQueue<>();

  /** Whether the thread runs; guarded by this reaper's lock, as is its decision to end. */
  private boolean running;

  private record Child(int pid, int pidFd, CompletableFuture<Integer> exit) {}

  private ChildReaper(LibC libc, int wakeFd) {
    this.libc = libc;
    this.wakeFd = wakeFd;
  }

  /**
   * Checks that this kernel lets a process watch another through a descriptor.
   *
   * @throws IOException if it does not
   */
  static void probe(LibC libc) throws IOException {
    int fd = pidFd(libc, (int) ProcessHandle.current().pid());
    PosixSpawn.closeQuietly(libc, fd);
  }

  /**
   * Watches a child of this process until it ends: through a descriptor on the shared thread, or,
   * when no descriptor can be opened (too many open files), on a thread of its own.
   *
   * @param pid the child, not yet reaped
   * @return completed with its exit value once it has been reaped
   */
  static CompletableFuture<Integer> watch(int pid) {
    CompletableFuture<Integer> exit = new CompletableFuture<>();
    try {
      ChildReaper reaper = instance();
      reaper.add(new Child(pid, pidFd(reaper.libc, pid), exit));
    } catch (IOException e) {
      LOG.warn("waiting for pid {} on a thread of its own: {}", pid, e.getMessage());
      LibC libc = PosixSpawn.libc();
      Thread thread =
          new Thread(
              null,
              () -> exit.complete(reap(libc, pid)),
              "orchestra-local-reaper-" + pid,
              64 * 1024);
      thread.setDaemon(true);
      thread.setContextClassLoader(ChildReaper.class.getClassLoader());
      thread.start();
    }
    return exit;
  }

  private static ChildReaper instance() throws IOException {
    ChildReaper reaper = instance;
    return reaper != null ? reaper : start();
  }

  private static synchronized ChildReaper start() throws IOException {
    ChildReaper reaper = instance;
    if (reaper == null) {
      LibC libc = PosixSpawn.libc();
      int wake;
      try {
        wake = libc.eventfd(0, EFD_NONBLOCK | PosixSpawn.O_CLOEXEC);
      } catch (LastErrorException e) {
        throw new IOException("eventfd failed: " + e.getMessage(), e);
      }
      reaper = new ChildReaper(libc, wake);
      instance = reaper;
    }
    return reaper;
  }

  private static int pidFd(LibC libc, int pid) throws IOException {
    try {
      return (int) libc.syscall(SYS_PIDFD_OPEN, (long) pid, 0L);
    } catch (LastErrorException e) {
      throw new IOException("pidfd_open of pid " + pid + " failed: " + e.getMessage(), e);
    }
  }

  private synchronized void add(Child child) {
    added.add(child);
    if (running) {
      wake();
    } else {
      Thread thread = new Thread(null, this, "orchestra-local-reaper", 256 * 1024);
      thread.setDaemon(true);
      thread.setContextClassLoader(ChildReaper.class.getClassLoader());
      thread.start();
      running = true;
    }
  }

  /** Ends the thread unless a child arrived meanwhile. */
  private synchronized boolean end() {
    if (added.isEmpty()) {
      running = false;
      return true;
    }
    return false;
  }

  private void wake() {
    try {
      libc.write(wakeFd, ONE, 8);
    } catch (LastErrorException e) {
      // EAGAIN: the counter is full, so the thread is awake already.
      if (e.getErrorCode() != LibC.EAGAIN) {
        LOG.error("waking the child reaper failed: {}", e.getMessage());
      }
    }
  }

  @Override
  public void run() {
    List<Child> watched = new ArrayList<>();
    ByteBuffer fds = ByteBuffer.allocateDirect(64 * POLLFD_BYTES).order(ByteOrder.nativeOrder());
    byte[] drain = new byte[8];
    while (true) {
      try {
        for (Child c; (c = added.poll()) != null; ) {
          watched.add(c);
        }
        int count = watched.size() + 1;
        if (fds.capacity() < count * POLLFD_BYTES) {
          fds = ByteBuffer.allocateDirect(2 * count * POLLFD_BYTES).order(ByteOrder.nativeOrder());
        }
        put(fds, 0, wakeFd);
        for (int i = 0; i < watched.size(); i++) {
          put(fds, i + 1, watched.get(i).pidFd());
        }
        try {
          if (libc.poll(fds, count, count == 1 ? IDLE_MILLIS : -1) == 0 && end()) {
            return;
          }
        } catch (LastErrorException e) {
          if (e.getErrorCode() != LibC.EINTR) {
            throw e;
          }
          continue;
        }
        if (fds.getShort(6) != 0) {
          try {
            libc.read(wakeFd, drain, 8);
          } catch (LastErrorException e) {
            if (e.getErrorCode() != LibC.EAGAIN) {
              throw e;
            }
          }
        }
        for (int i = watched.size() - 1; i >= 0; i--) {
          if (fds.getShort((i + 1) * POLLFD_BYTES + 6) != 0) {
            Child ended = watched.get(i);
            watched.set(i, watched.get(watched.size() - 1));
            watched.remove(watched.size() - 1);
            PosixSpawn.closeQuietly(libc, ended.pidFd());
            ended.exit().complete(reap(libc, ended.pid()));
          }
        }
      } catch (RuntimeException | Error e) {
        // Never seen; the thread must not die with children still to reap.
        LOG.error("the child reaper failed; it goes on in a second", e);
        pause();
      }
    }
  }

  private static void pause() {
    try {
      Thread.sleep(1000);
    } catch (InterruptedException e) {
      // A daemon thread of its own: nobody interrupts it to stop it.
      Thread.interrupted();
    }
  }

  private static void put(ByteBuffer fds, int index, int fd) {
    int at = index * POLLFD_BYTES;
    fds.putInt(at, fd);
    fds.putShort(at + 4, POLLIN);
    fds.putShort(at + 6, (short) 0);
  }

  /** Waits for the child with {@code waitpid}; returns the JDK's exit value. */
  private static int reap(LibC libc, int pid) {
    IntByReference status = new IntByReference();
    while (true) {
      try {
        libc.waitpid(pid, status, 0);
        break;
      } catch (LastErrorException e) {
        if (e.getErrorCode() == LibC.EINTR) {
          continue;
        }
        // ECHILD: someone else reaped it (a SIGCHLD handler set to ignore, say); nothing else is
        // expected. Either way the waiters must hear of the end.
        LOG.error(
            "waiting for pid {} failed ({}); its exit code is unknown, reporting 255",
            pid,
            e.getMessage());
        return 255;
      }
    }
    int s = status.getValue();
    int signal = s & 0x7f;
    return signal == 0 ? (s >> 8) & 0xff : 0x80 + signal;
  }
}
