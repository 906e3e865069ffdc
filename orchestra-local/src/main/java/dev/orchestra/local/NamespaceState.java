package dev.orchestra.local;

import dev.orchestra.spi.Names;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;

/**
 * What every open driver of one namespace in this JVM shares, keyed by the namespace's root
 * directory: the namespace's tasks, so that a task id runs once whichever driver instance asks, and
 * a lock that keeps {@link LocalDriver#close()} from racing a task that is being started.
 *
 * <p>The state lives while at least one driver of the namespace is open.
 */
final class NamespaceState {

  private static final ConcurrentHashMap<Path, NamespaceState> BY_ROOT = new ConcurrentHashMap<>();

  private final Path root;
  private final ConcurrentHashMap<String, LocalContainer> tasks = new ConcurrentHashMap<>();
  private final ReadWriteLock lock = new ReentrantReadWriteLock();

  /** Open drivers using this state; only read and written inside {@code BY_ROOT.compute}. */
  private int users;

  private NamespaceState(Path root) {
    this.root = root;
  }

  /**
   * The state of the namespace rooted at {@code root}, shared with every other open driver of it.
   * Each call must be paired with one {@link #release()}.
   *
   * @param root the namespace's root directory, absolute and normalised
   * @return the shared state
   */
  static NamespaceState acquire(Path root) {
    return BY_ROOT.compute(
        root,
        (r, existing) -> {
          NamespaceState state = existing == null ? new NamespaceState(r) : existing;
          state.users++;
          return state;
        });
  }

  /** Gives up one use of {@link #acquire(Path)}; the last one forgets the state. */
  void release() {
    BY_ROOT.computeIfPresent(
        root,
        (r, existing) -> {
          if (existing != this) {
            return existing;
          }
          users--;
          return users == 0 ? null : this;
        });
  }

  /** The namespace's root directory: everything the namespace creates lives below it. */
  Path root() {
    return root;
  }

  /** Where the directory of a task lives: {@code <root>/tasks/<safe task id>}. */
  Path taskRoot(String taskId) {
    return root.resolve("tasks").resolve(Names.safe(taskId));
  }

  /** Where the data of a volume lives: {@code <root>/volumes/<safe volume name>}. */
  Path volumeDir(String volumeName) {
    return root.resolve("volumes").resolve(Names.safe(volumeName));
  }

  /** The container of a task id, made by {@code create} when the id has none. */
  LocalContainer container(String taskId, Function<String, LocalContainer> create) {
    return tasks.computeIfAbsent(taskId, create);
  }

  /** Frees a task id, if it is still held by {@code container}. */
  void forget(String taskId, LocalContainer container) {
    tasks.remove(taskId, container);
  }

  /** Every container the namespace knows now. */
  List<LocalContainer> containers() {
    return List.copyOf(tasks.values());
  }

  /** Held while starting a task or creating a volume; many at once. */
  Lock sharedLock() {
    return lock.readLock();
  }

  /** Held while closing the namespace; excludes every start. */
  Lock exclusiveLock() {
    return lock.writeLock();
  }
}
