package dev.orchestra.local;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kills a process together with every process it started, and waits until all of them are gone.
 *
 * <p>Descendants are found through their parent process ids, which only link them to the root while
 * the root and the processes between are alive: a process whose parent dies is handed to init and
 * no longer looks like a descendant. So the descendants are killed first, in repeated sweeps that
 * also catch processes forked during the previous sweep, and the root last. A process that had
 * already left the tree (a daemon that detached itself) cannot be found this way.
 */
final class ProcessTree {

  private static final Logger LOG = LoggerFactory.getLogger(ProcessTree.class);

  /** Stops sweeping a tree that keeps forking faster than it can be killed. */
  private static final int MAX_SWEEPS = 50;

  private static final long MAX_PAUSE_MILLIS = 50;

  private static final Path PROC = Path.of("/proc");
  private static final boolean HAS_PROC = Files.isDirectory(PROC.resolve("self"));

  private ProcessTree() {}

  /**
   * Kills {@code root} and its descendants with SIGKILL (or the platform's equivalent) and waits up
   * to {@code timeout} for every one of them to exit.
   *
   * @param root the root of the tree; it may have exited already
   * @param timeout how long to wait for the killed processes to exit
   * @return the processes still alive when the time ran out; empty when all are gone
   * @throws InterruptedException if the calling thread is interrupted while waiting
   */
  static List<ProcessHandle> kill(ProcessHandle root, Duration timeout)
      throws InterruptedException {
    Map<Long, ProcessHandle> killed = new LinkedHashMap<>();
    for (int sweep = 0; sweep < MAX_SWEEPS && root.isAlive(); sweep++) {
      List<ProcessHandle> fresh =
          root.descendants().filter(p -> !killed.containsKey(p.pid())).toList();
      if (fresh.isEmpty()) {
        break;
      }
      for (ProcessHandle p : fresh) {
        LOG.debug("killing pid {}, a descendant of pid {}", p.pid(), root.pid());
        p.destroyForcibly();
        killed.put(p.pid(), p);
      }
    }
    if (root.isAlive()) {
      LOG.debug("killing pid {}", root.pid());
      root.destroyForcibly();
    }
    killed.put(root.pid(), root);

    return awaitExit(new ArrayList<>(killed.values()), timeout);
  }

  /**
   * Polls, with a growing pause, until none of the processes is alive. Polling rather than {@link
   * ProcessHandle#onExit()}, which for a process that is not this JVM's child first looks again
   * after 300 ms and more.
   */
  private static List<ProcessHandle> awaitExit(List<ProcessHandle> pending, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long pauseMillis = 1;
    while (true) {
      pending.removeIf(p -> !isRunning(p));
      if (pending.isEmpty() || System.nanoTime() - deadline >= 0) {
        return pending;
      }
      Thread.sleep(pauseMillis);
      pauseMillis = Math.min(pauseMillis * 2, MAX_PAUSE_MILLIS);
    }
  }

  /**
   * Whether a process still runs. {@link ProcessHandle#isAlive()} also answers {@code true} for a
   * zombie, a process that has ended but whose parent (init, for an orphan) has not collected it
   * yet, which can take a while; where {@code /proc} shows the state, a zombie counts as ended.
   *
   * @param p the process
   * @return {@code false} once it has ended
   */
  static boolean isRunning(ProcessHandle p) {
    if (!p.isAlive()) {
      return false;
    }
    if (!HAS_PROC) {
      return true;
    }
    try {
      String stat =
          new String(
              Files.readAllBytes(PROC.resolve(Long.toString(p.pid())).resolve("stat")),
              StandardCharsets.ISO_8859_1);
      // "pid (command) state ...": the command may hold anything, ')' included.
      int end = stat.lastIndexOf(')');
      char state = end >= 0 && end + 2 < stat.length() ? stat.charAt(end + 2) : '?';
      return state != 'Z' && state != 'X';
    } catch (NoSuchFileException e) {
      return false;
    } catch (IOException e) {
      LOG.debug("cannot read the state of pid {}; taking it as running: {}", p.pid(), e.toString());
      return true;
    }
  }
}
