package dev.orchestra.local;

import dev.orchestra.spi.Durations;
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
 * Signals a process together with every process it started: asks them to end (SIGTERM), kills them
 * (SIGKILL), and waits until all of them are gone.
 *
 * <p>Descendants are found through their parent process ids, which only link them to the root while
 * the root and the processes between are alive: a process whose parent dies is handed to init and
 * no longer looks like a descendant. So both ways take the list of descendants before any signal.
 *
 * <p>SIGTERM goes to the root first, then to the descendants listed: the task's own process must
 * see the request before it sees its children end. A shell that traps SIGTERM while it waits for a
 * background child ({@code trap 'echo bye; exit 7' TERM; sleep 300 & wait}) would otherwise find
 * its child gone, return from {@code wait} and exit 0 before its own SIGTERM arrived, and its trap
 * would never run. SIGKILL, which no process can handle, goes to the descendants first, in repeated
 * sweeps that also catch processes forked during the previous sweep, and the root last, so that no
 * descendant leaves the tree before it is found. A process that had already left the tree (a daemon
 * that detached itself) cannot be found this way.
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
   * Asks {@code root} and its descendants to end: lists the descendants, then sends SIGTERM (or the
   * platform's equivalent) to the root, then to each descendant listed. Does not wait.
   *
   * @param root the root of the tree; it may have exited already
   * @return every process signalled, the root first; the caller keeps them to kill the ones that
   *     outlive the request, since a descendant whose parent ends leaves the tree
   */
  static List<ProcessHandle> terminate(ProcessHandle root) {
    List<ProcessHandle> descendants = root.descendants().toList();
    List<ProcessHandle> signalled = new ArrayList<>(descendants.size() + 1);
    signalled.add(root);
    if (root.isAlive()) {
      LOG.debug("sending SIGTERM to pid {}", root.pid());
      root.destroy();
    }
    for (ProcessHandle p : descendants) {
      LOG.debug("sending SIGTERM to pid {}, a descendant of pid {}", p.pid(), root.pid());
      p.destroy();
      signalled.add(p);
    }
    return signalled;
  }

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
    return awaitExit(destroyForcibly(root, List.of()), timeout);
  }

  /**
   * Kills {@code root}, its descendants, and each of {@code others} that still runs together with
   * its own descendants, with SIGKILL. Does not wait.
   *
   * @param root the root of the tree; it may have exited already
   * @param others processes that belonged to the tree earlier (see {@link #terminate})
   * @return every process killed
   */
  static List<ProcessHandle> destroyForcibly(ProcessHandle root, List<ProcessHandle> others) {
    Map<Long, ProcessHandle> killed = new LinkedHashMap<>();
    killTree(root, killed);
    for (ProcessHandle other : others) {
      if (!killed.containsKey(other.pid()) && isRunning(other)) {
        killTree(other, killed);
      }
    }
    return new ArrayList<>(killed.values());
  }

  /** Descendants first, in sweeps that catch processes forked meanwhile, the root last. */
  private static void killTree(ProcessHandle root, Map<Long, ProcessHandle> killed) {
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
  }

  /**
   * Polls, with a growing pause, until none of the processes runs, or the time runs out. Polling
   * rather than {@link ProcessHandle#onExit()}, which for a process that is not this JVM's child
   * first looks again after 300 ms and more.
   *
   * @param processes the processes to wait for
   * @param timeout how long to wait at most
   * @return the processes still running when the time ran out; empty when all are gone
   * @throws InterruptedException if the calling thread is interrupted while waiting
   */
  static List<ProcessHandle> awaitExit(List<ProcessHandle> processes, Duration timeout)
      throws InterruptedException {
    List<ProcessHandle> pending = new ArrayList<>(processes);
    long deadline = System.nanoTime() + Durations.saturatedNanos(timeout);
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
