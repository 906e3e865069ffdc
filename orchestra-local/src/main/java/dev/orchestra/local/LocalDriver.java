package dev.orchestra.local;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.Driver;
import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.Task;
import dev.orchestra.Volume;
import dev.orchestra.spi.DriverParams;
import dev.orchestra.spi.Names;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local driver: runs each task as an operating-system process of this JVM's user, in a fresh
 * directory under {@code <root>/<safe namespace>/}. See {@link LocalDriverProvider} for the
 * behaviour users rely on.
 */
final class LocalDriver implements Driver {

  static final String NAME = "local";
  static final String ROOT_PARAM = "root";

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
    String rootParam =
        checked
            .get(ROOT_PARAM)
            .orElseGet(
                () -> Path.of(System.getProperty("java.io.tmpdir"), "orchestra-local").toString());
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

  /** None: image, user, privileged and limits are ignored, each with one warning per driver. */
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
    LOG.debug("runContainer {} in namespace '{}'", task, namespace);
    warnAboutIgnoredOptions(task);
    warnAboutUnencodableText(task);
    state.sharedLock().lock();
    try {
      ensureOpen();
      LocalContainer container =
          state.container(task.id(), id -> new LocalContainer(task, namespace, state));
      container.ensureStarted();
      return container;
    } finally {
      state.sharedLock().unlock();
    }
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
    Names.requireVolumeName(name);
    if (sizeBytes < 0) {
      throw new IllegalArgumentException(
          "sizeBytes of volume '" + name + "' must be 0 (default) or positive, was " + sizeBytes);
    }
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
