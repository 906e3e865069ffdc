package dev.orchestra.local;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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

    long deadline = System.nanoTime() + timeout.toNanos();
    List<ProcessHandle> survivors = new ArrayList<>();
    for (ProcessHandle p : killed.values()) {
      long left = Math.max(0, deadline - System.nanoTime());
      try {
        p.onExit().get(left, TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        survivors.add(p);
      } catch (ExecutionException e) {
        throw new IllegalStateException("onExit of pid " + p.pid() + " cannot fail", e);
      }
    }
    return survivors;
  }
}
