package dev.orchestra.example.minimal;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.Driver;
import dev.orchestra.Mount;
import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.Task;
import dev.orchestra.Volume;
import dev.orchestra.spi.DriverParams;
import dev.orchestra.spi.Exceptions;
import dev.orchestra.spi.Names;
import dev.orchestra.spi.TaskPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The minimal driver: the {@link Driver} methods. See {@link MinimalDriverProvider} for what it
 * does and does not do.
 */
final class MinimalDriver implements Driver {

  static final String NAME = "minimal";
  static final String ROOT = "root";

  private static final Logger LOG = LoggerFactory.getLogger(MinimalDriver.class);

  /**
   * The tasks of every namespace in use in this JVM, by the namespace's directory: all driver
   * instances of a namespace share them, so that a task id runs once whichever instance is asked.
   */
  private static final ConcurrentMap<Path, ConcurrentMap<String, MinimalContainer>> TASKS =
      new ConcurrentHashMap<>();

  private final String namespace;
  private final NamespaceDirectory dir;
  private final Set<String> warned = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;
  private boolean closeDone; // guarded by this

  private MinimalDriver(String namespace, NamespaceDirectory dir) {
    this.namespace = namespace;
    this.dir = dir;
  }

  static MinimalDriver open(String namespace, Map<String, String> params) {
    DriverParams checked = DriverParams.of(NAME, params, Set.of(ROOT));
    Path root = checked.get(ROOT).map(Path::of).orElseGet(MinimalDriver::defaultRoot);
    return new MinimalDriver(namespace, NamespaceDirectory.of(root, namespace));
  }

  /** One per user: what one user creates in a shared temporary directory, another cannot write. */
  private static Path defaultRoot() {
    String user = Names.safe(System.getProperty("user.name"));
    return Path.of(System.getProperty("java.io.tmpdir"), "orchestra-minimal-" + user);
  }

  @Override
  public String name() {
    return NAME;
  }

  /**
   * None: what the interface's defaults do is all this driver offers. Declare a capability only
   * once its method works; the kits then run its tests instead of skipping them.
   */
  @Override
  public Set<Capability> capabilities() {
    return Set.of();
  }

  @Override
  public Container runContainer(Task task) {
    if (task == null) {
      throw new IllegalArgumentException("task must not be null");
    }
    ensureOpen();
    warnAboutIgnoredOptions(task);
    ConcurrentMap<String, MinimalContainer> tasks = tasks();
    // The map starts each task id once: callers of the same id wait and get the same container.
    return tasks.computeIfAbsent(task.id(), id -> start(task, c -> tasks.remove(id, c)));
  }

  private ConcurrentMap<String, MinimalContainer> tasks() {
    return TASKS.computeIfAbsent(dir.path(), d -> new ConcurrentHashMap<>());
  }

  /** Lays out the task's directory and starts it; on failure, leaves nothing behind. */
  private MinimalContainer start(Task task, Consumer<MinimalContainer> forget) {
    String description = "task '" + task.id() + "' of namespace '" + namespace + "'";
    Path root = dir.task(task.id());
    try {
      NamespaceDirectory.delete(root); // left by a JVM that ended while the task ran
      Path taskDir = root.resolve("work");
      Files.createDirectories(taskDir);
      mountVolumes(task, taskDir);
      Path workDir = TaskPaths.resolve(taskDir, "workDir", task.workDir().orElse("."));
      Files.createDirectories(workDir);
      ProcessBuilder builder = new ProcessBuilder(task.command()).directory(workDir.toFile());
      Map<String, String> env = builder.environment();
      env.clear(); // nothing of the caller's environment...
      String path = System.getenv("PATH");
      if (path != null) {
        env.put("PATH", path); // ...but PATH, so that commands resolve
      }
      env.putAll(task.env());
      return MinimalContainer.start(task.id(), description, root, builder, task.stdin(), forget);
    } catch (IOException | RuntimeException e) {
      try {
        NamespaceDirectory.delete(root);
      } catch (IOException again) {
        e.addSuppressed(again);
      }
      throw Exceptions.launder("starting " + description, e);
    }
  }

  /** Links each mount path of the task directory to its volume, created if missing. */
  private void mountVolumes(Task task, Path taskDir) throws IOException {
    for (Mount mount : task.mounts()) {
      Path link = TaskPaths.resolve(taskDir, "mount path", mount.path());
      for (Mount other : task.mounts()) {
        if (other != mount
            && link.startsWith(TaskPaths.resolve(taskDir, "mount path", other.path()))) {
          throw new IllegalArgumentException(
              "mount path '" + mount.path() + "' lies inside mount path '" + other.path() + "'");
        }
      }
      Path volume = MinimalVolume.open(mount.name(), dir.volume(mount.name())).dir();
      Files.createDirectories(link.getParent());
      Files.createSymbolicLink(link, volume);
    }
  }

  /** The size is ignored: a volume is a directory, as large as its file system allows. */
  @Override
  public Volume createVolume(String name, long sizeBytes) {
    Names.requireVolume(name, sizeBytes);
    ensureOpen();
    return MinimalVolume.open(name, dir.volume(name));
  }

  /**
   * Cleans up every task of the namespace, whichever instance started it, then deletes the
   * namespace's directory with its volumes. Carries on past failures and reports them together.
   * Later calls do nothing, unless an interrupt stopped this one.
   */
  @Override
  public synchronized void close() {
    closed = true;
    if (closeDone) {
      return;
    }
    List<OrchestraException> failures = new ArrayList<>();
    for (MinimalContainer container : List.copyOf(tasks().values())) {
      try {
        container.cleanup();
      } catch (OrchestraInterruptedException e) {
        throw e; // the caller wants to stop; a later close() finishes the work
      } catch (OrchestraException e) {
        LOG.warn("closing namespace '{}': {}", namespace, e.getMessage());
        failures.add(e);
      }
    }
    try {
      NamespaceDirectory.delete(dir.path());
    } catch (IOException e) {
      failures.add(new OrchestraException("deleting " + dir.path() + " failed: " + e, e));
    }
    TASKS.remove(dir.path());
    closeDone = true;
    if (!failures.isEmpty()) {
      OrchestraException e =
          new OrchestraException(
              "closing namespace '" + namespace + "' left " + failures.size() + " problem(s)");
      failures.forEach(e::addSuppressed);
      throw e;
    }
    LOG.info("closed namespace '{}' ({} removed)", namespace, dir.path());
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException(
          "driver '" + NAME + "' of namespace '" + namespace + "' is closed; open a new one");
    }
  }

  /** The task options of capabilities this driver lacks: ignored, with one warning each. */
  private void warnAboutIgnoredOptions(Task task) {
    Map<String, Boolean> options =
        Map.of(
            "image", task.image().isPresent(),
            "user", task.user().isPresent(),
            "privileged", task.privileged(),
            "limits", !task.limits().isUnlimited(),
            "timeout", task.timeout().isPresent());
    options.forEach(
        (option, given) -> {
          if (given && warned.add(option)) {
            LOG.warn(
                "driver '{}' ignores the option {} (set on task '{}' of namespace '{}'); later"
                    + " tasks of this driver that set it are not reported again",
                NAME,
                option,
                task.id(),
                namespace);
          }
        });
  }
}
