package dev.orchestra.local;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.Driver;
import dev.orchestra.Mount;
import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.Sandbox;
import dev.orchestra.Task;
import dev.orchestra.Volume;
import dev.orchestra.spi.DriverParams;
import dev.orchestra.spi.Names;
import dev.orchestra.spi.TaskPaths;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local driver: runs each task as an operating-system process of this JVM's user, in a fresh
 * directory under {@code <root>/<safe namespace>/}. Its behaviour, as users rely on it, is
 * described on its page in the repository, {@code docs/drivers/local.md}.
 */
final class LocalDriver implements Driver {

  static final String NAME = "local";
  static final String ROOT_PARAM = "root";

  /** The name of the task directory inside a task's root. */
  static final String TASK_DIR = "work";

  private static final Set<Capability> CAPABILITIES =
      Collections.unmodifiableSet(
          EnumSet.of(
              Capability.FOLLOW,
              Capability.STOP,
              Capability.TIMEOUT,
              Capability.REATTACH,
              Capability.SANDBOX,
              Capability.VOLUME_DATA));

  private static final Logger LOG = LoggerFactory.getLogger(LocalDriver.class);

  private final String namespace;
  private final NamespaceState state;
  private final Set<Capability> warnedOptions = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean warnedCharset = new AtomicBoolean();

  /** Set when close() begins; from then on this instance starts nothing. */
  private volatile boolean closed;

  /** Set when close() has finished its work; guarded by {@code this}. */
  private boolean closeDone;

  private LocalDriver(String namespace, NamespaceState state) {
    this.namespace = namespace;
    this.state = state;
  }

  /**
   * {@code ${java.io.tmpdir}/orchestra-local-<user>}: one root per user, since a directory one user
   * created in a shared temporary directory is not writable by another.
   */
  private static Path defaultRoot() {
    return Path.of(
        System.getProperty("java.io.tmpdir"),
        "orchestra-local-" + Names.safe(System.getProperty("user.name")));
  }

  /**
   * Opens the driver for a namespace.
   *
   * @param namespace the namespace, already checked
   * @param params at most {@code root}
   * @return the driver
   * @throws IllegalArgumentException if a parameter is unknown or {@code root} is not a path
   * @throws OrchestraException if the root directory cannot be created
   */
  static LocalDriver open(String namespace, Map<String, String> params) {
    Names.requireNamespace(namespace);
    DriverParams checked = DriverParams.of(NAME, params, Set.of(ROOT_PARAM));
    String rootParam = checked.get(ROOT_PARAM).orElseGet(() -> defaultRoot().toString());
    Path root;
    try {
      root = Path.of(Names.requireText(ROOT_PARAM, rootParam)).toAbsolutePath().normalize();
    } catch (InvalidPathException e) {
      throw new IllegalArgumentException(
          "parameter 'root' of driver 'local' is not a valid path: '" + rootParam + "'", e);
    }
    try {
      Files.createDirectories(root);
      root = root.toRealPath();
    } catch (IOException e) {
      throw new OrchestraException(
          "driver 'local' cannot use root directory "
              + root
              + " for namespace '"
              + namespace
              + "': "
              + e,
          e);
    }
    Path namespaceRoot = root.resolve(Names.safe(namespace));
    LOG.debug("opening driver 'local' for namespace '{}' in {}", namespace, namespaceRoot);
    return new LocalDriver(namespace, NamespaceState.acquire(namespaceRoot));
  }

  @Override
  public String name() {
    return NAME;
  }

  /**
   * Follow, stop, timeout, reattach (finished tasks also from a later JVM) and sandboxes. Image,
   * user, privileged and limits are ignored, each with one warning per driver.
   */
  @Override
  public Set<Capability> capabilities() {
    return CAPABILITIES;
  }

  @Override
  public Container runContainer(Task task) {
    if (task == null) {
      throw new IllegalArgumentException("task must not be null");
    }
    ensureOpen();
    LOG.debug("runContainer {} in namespace '{}'", task, namespace);
    return start(task);
  }

  /**
   * Runs the task's command as the sandbox's main process, in a fresh task directory with the
   * task's mounts; its steps run in that directory. A task id that already ran in the namespace (as
   * a task or a sandbox) gives the sandbox around that container.
   */
  @Override
  public Sandbox createSandbox(Task task) {
    if (task == null) {
      throw new IllegalArgumentException("task must not be null");
    }
    ensureOpen();
    LOG.debug("createSandbox {} in namespace '{}'", task, namespace);
    return start(task).sandbox(main -> new LocalSandbox(main, namespace, this::checkOptions));
  }

  private LocalContainer start(Task task) {
    checkOptions(task);
    state.sharedLock().lock();
    try {
      ensureOpen();
      LocalContainer container =
          state.container(
              task.id(),
              id ->
                  reattach(id)
                      .orElseGet(
                          () ->
                              new LocalContainer(
                                  id, describe(id), state.taskRoot(id), forget(id))));
      container.ensureStarted(() -> layOut(task, container.root()));
      return container;
    } finally {
      state.sharedLock().unlock();
    }
  }

  /**
   * Finds a task of the namespace: one that runs or ran in this JVM (through any driver instance of
   * the namespace), or one that ended while an earlier JVM ran it, from the record it left on disk.
   */
  @Override
  public Optional<Container> find(String taskId) {
    Names.requireText("task id", taskId);
    ensureOpen();
    LOG.debug("find task '{}' in namespace '{}'", taskId, namespace);
    state.sharedLock().lock();
    try {
      ensureOpen();
      return Optional.ofNullable(state.container(taskId, id -> reattach(id).orElse(null)));
    } finally {
      state.sharedLock().unlock();
    }
  }

  private Optional<LocalContainer> reattach(String taskId) {
    return LocalContainer.reattach(
        taskId, describe(taskId), state.taskRoot(taskId), forget(taskId));
  }

  private String describe(String taskId) {
    return "task '" + taskId + "' of namespace '" + namespace + "'";
  }

  private Consumer<LocalContainer> forget(String taskId) {
    return container -> state.forget(taskId, container);
  }

  /**
   * Lays out a task's directory below its root: {@code work/}, the mounts, the working directory.
   */
  private LocalContainer.Launch layOut(Task task, Path taskRoot) throws IOException {
    Path taskDir = taskRoot.resolve(TASK_DIR);
    Files.createDirectory(taskDir); // the task root is new: see LocalContainer
    mountVolumes(task, taskDir);
    Path workDir = taskDir;
    if (task.workDir().isPresent()) {
      workDir = TaskPaths.resolve(taskDir, "workDir", task.workDir().get());
      Files.createDirectories(workDir);
    }
    Map<String, String> env = new LinkedHashMap<>();
    String path = System.getenv("PATH");
    if (path != null) {
      env.put("PATH", path);
    }
    env.putAll(task.env());
    return new LocalContainer.Launch(task.command(), workDir, env, task.stdin(), task.timeout());
  }

  /** Places a link to each mounted volume, outer paths first so that nested ones land inside. */
  private void mountVolumes(Task task, Path taskDir) throws IOException {
    List<Mount> byDepth =
        task.mounts().stream().sorted(Comparator.comparingLong(m -> depth(m.path()))).toList();
    for (Mount mount : byDepth) {
      Path volume = LocalVolume.open(mount.name(), namespace, state.volumeDir(mount.name())).dir();
      Path link = TaskPaths.resolve(taskDir, "mount path", mount.path());
      Files.createDirectories(link.getParent());
      try {
        Files.createSymbolicLink(link, volume);
      } catch (FileAlreadyExistsException e) {
        // The path lies inside another volume mounted further out, where an earlier task left
        // the link of this same nested mount (or an empty directory): replace it.
        try {
          Files.delete(link);
        } catch (DirectoryNotEmptyException notEmpty) {
          throw new IllegalArgumentException(
              "mount path '"
                  + mount.path()
                  + "' of task '"
                  + task.id()
                  + "' names a non-empty directory inside another mounted volume",
              notEmpty);
        }
        Files.createSymbolicLink(link, volume);
      }
      LOG.debug("mounted volume '{}' of task '{}' at {}", mount.name(), task.id(), link);
    }
  }

  private static long depth(String mountPath) {
    return TaskPaths.requireRelativePath("mount path", mountPath, false)
        .chars()
        .filter(c -> c == '/')
        .count();
  }

  /** Warns about what the driver cannot honour in a task or step; the task runs anyway. */
  private void checkOptions(Task task) {
    warnAboutIgnoredOptions(task);
    warnAboutUnencodableText(task);
  }

  private void warnAboutIgnoredOptions(Task task) {
    task.image().ifPresent(image -> warnOnce(Capability.IMAGE, task, "image '" + image + "'"));
    task.user().ifPresent(user -> warnOnce(Capability.USER, task, "user '" + user + "'"));
    if (task.privileged()) {
      warnOnce(Capability.PRIVILEGED, task, "privileged");
    }
    if (task.limits().cpuShares() > 0) {
      warnOnce(Capability.CPU_LIMIT, task, "cpuShares " + task.limits().cpuShares());
    }
    if (task.limits().memoryBytes() > 0) {
      warnOnce(Capability.MEMORY_LIMIT, task, "memoryBytes " + task.limits().memoryBytes());
    }
  }

  private void warnOnce(Capability option, Task task, String given) {
    if (warnedOptions.add(option)) {
      LOG.warn(
          "driver 'local' ignores option {} ({} on task '{}'): tasks run as plain processes of"
              + " this JVM's user; later tasks of this driver for namespace '{}' with it are not"
              + " reported again",
          option,
          given,
          task.id(),
          namespace);
    }
  }

  /**
   * Java 17 hands a process its arguments and environment in the JVM's default charset, replacing
   * what that charset cannot encode by '?': say so, once, rather than let a task see mangled text.
   */
  private void warnAboutUnencodableText(Task task) {
    Charset charset = Charset.defaultCharset();
    if (charset.equals(StandardCharsets.UTF_8) || warnedCharset.get()) {
      return;
    }
    CharsetEncoder encoder = charset.newEncoder();
    boolean lossy =
        Stream.concat(
                task.command().stream(),
                task.env().entrySet().stream().flatMap(e -> Stream.of(e.getKey(), e.getValue())))
            .anyMatch(text -> !encoder.canEncode(text));
    if (lossy && warnedCharset.compareAndSet(false, true)) {
      LOG.warn(
          "task '{}' of namespace '{}' has a command or environment that this JVM's default"
              + " charset {} cannot encode; the process receives '?' instead. Run the JVM with"
              + " -Dfile.encoding=UTF-8 or in a UTF-8 locale",
          task.id(),
          namespace,
          charset);
    }
  }

  /** The size is ignored: a local volume is a directory, as large as its file system allows. */
  @Override
  public Volume createVolume(String name, long sizeBytes) {
    Names.requireVolume(name, sizeBytes);
    ensureOpen();
    LOG.debug(
        "createVolume '{}' ({} bytes, ignored) in namespace '{}'", name, sizeBytes, namespace);
    state.sharedLock().lock();
    try {
      ensureOpen();
      return LocalVolume.open(name, namespace, state.volumeDir(name));
    } finally {
      state.sharedLock().unlock();
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException(
          "driver 'local' of namespace '" + namespace + "' is closed; open a new one");
    }
  }

  /**
   * Cleans up every task of the namespace, whichever driver instance started it, then deletes the
   * namespace's root directory with every volume. Carries on past failures, logging each at WARN,
   * and reports them together at the end. Later calls do nothing, unless an interruption stopped
   * the first one.
   */
  @Override
  public synchronized void close() {
    closed = true;
    if (closeDone) {
      return;
    }
    LOG.debug("closing namespace '{}' ({})", namespace, state.root());
    List<OrchestraException> failures = new ArrayList<>();
    state.exclusiveLock().lock();
    try {
      for (LocalContainer container : state.containers()) {
        try {
          container.cleanup();
        } catch (OrchestraInterruptedException e) {
          throw e;
        } catch (OrchestraException e) {
          LOG.warn("closing namespace '{}': {}", namespace, e.getMessage());
          failures.add(e);
        }
      }
      try {
        FileTrees.delete(state.root());
      } catch (IOException e) {
        OrchestraException failure =
            new OrchestraException(
                "deleting the directory "
                    + state.root()
                    + " of namespace '"
                    + namespace
                    + "' failed: "
                    + e,
                e);
        LOG.warn("closing namespace '{}': {}", namespace, failure.getMessage());
        failures.add(failure);
      }
    } finally {
      state.exclusiveLock().unlock();
    }
    closeDone = true;
    state.release();
    if (!failures.isEmpty()) {
      OrchestraException e =
          new OrchestraException(
              "closing namespace '"
                  + namespace
                  + "' of driver 'local' left "
                  + failures.size()
                  + " problem(s): "
                  + failures.stream()
                      .map(OrchestraException::getMessage)
                      .collect(Collectors.joining("; ")));
      failures.forEach(e::addSuppressed);
      throw e;
    }
    LOG.info("closed namespace '{}' of driver 'local' ({} removed)", namespace, state.root());
  }

  @Override
  public String toString() {
    return "LocalDriver[" + namespace + " at " + state.root() + (closed ? ", closed" : "") + "]";
  }
}
