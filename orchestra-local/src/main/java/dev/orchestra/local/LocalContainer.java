package dev.orchestra.local;

import dev.orchestra.Container;
import dev.orchestra.ContainerNotFoundException;
import dev.orchestra.ContainerStatus;
import dev.orchestra.ExitReason;
import dev.orchestra.OrchestraException;
import dev.orchestra.spi.Exceptions;
import dev.orchestra.spi.SpawnLock;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One operating-system process of the local driver: a task, the main process of a sandbox, or a
 * step of a sandbox.
 *
 * <p>Its files live in its own root directory: {@code stdout} and {@code stderr} receive the
 * process's output directly, outside the task's reach, and {@code exit} records how it ended (see
 * {@link ExitRecord}) as soon as the end is seen, so that a driver in a later JVM finds it. The
 * owner lays out the rest (a task's {@code work/} directory with its mounts) when the process
 * starts, through a {@link Layout}.
 *
 * <p>The end of the process is observed through {@link Process#onExit()}; a timeout and the grace
 * period after it run on the shared {@link TaskTimer}. No thread of this driver waits for a task.
 *
 * <p>After {@link #cleanup()}, {@link #status()} keeps answering the final status and {@link #logs}
 * throws {@link ContainerNotFoundException}.
 */
final class LocalContainer implements Container {

  private static final Logger LOG = LoggerFactory.getLogger(LocalContainer.class);

  /** Whether processes start through {@link PosixSpawn}: not where it cannot, nor without JNA. */
  private static final boolean POSIX_SPAWN = posixSpawn();

  /** How long cleanup and stop wait for killed processes to exit. */
  private static final Duration KILL_TIMEOUT = Duration.ofSeconds(10);

  /** How long a task that ran out of time may take to end after SIGTERM. */
  static final Duration TIMEOUT_GRACE = Duration.ofSeconds(10);

  /**
   * What a process runs with, once its owner has laid out its directories.
   *
   * @param command the argv
   * @param workDir the working directory, existing
   * @param env the whole environment of the process
   * @param stdin the input, if any
   * @param timeout the longest it may run, if limited
   */
  record Launch(
      List<String> command,
      Path workDir,
      Map<String, String> env,
      Optional<InputStream> stdin,
      Optional<Duration> timeout) {}

  /** Lays out what a process needs below its root directory, which exists already. */
  @FunctionalInterface
  interface Layout {
    Launch prepare() throws IOException;
  }

  private enum Phase {
    NEW,
    FAILED,
    STARTED,
    REMOVED
  }

  private final String taskId;
  private final String description;
  private final Path root;
  private final LogFiles logFiles;
  private final Consumer<LocalContainer> forget;

  /** Serialises start and cleanup; status, logs, follow and stop never take it. */
  private final ReentrantLock lifecycle = new ReentrantLock();

  private final CompletableFuture<ContainerStatus> exit = new CompletableFuture<>();

  /** Why the driver ended the process (stop, cleanup, timeout); the first request wins. */
  private final AtomicReference<ExitReason> endRequest = new AtomicReference<>();

  private volatile Phase phase = Phase.NEW;
  private volatile Process process;
  private volatile String id;
  private volatile ContainerStatus done;
  private volatile Launch launch;
  private volatile ScheduledFuture<?> timeout;
  private volatile ScheduledFuture<?> graceKill;
  private volatile LocalSandbox sandbox;
  private RuntimeException startFailure;
  private StdinPump stdinPump;

  /**
   * A container whose process is yet to start.
   *
   * @param taskId the id of the task (or step) as the caller gave it
   * @param description who it is, for messages: {@code task 'x' of namespace 'y'}
   * @param root its own directory; created at start, deleted by cleanup
   * @param forget called once when cleanup (or a failed start) frees the id
   */
  LocalContainer(String taskId, String description, Path root, Consumer<LocalContainer> forget) {
    this.taskId = taskId;
    this.description = description;
    this.root = root;
    this.logFiles = new LogFiles(root);
    this.forget = forget;
  }

  /**
   * The container of a task that ended while another JVM ran it, from what that JVM left in the
   * task's root directory. Loading trusts nothing on disk: links are never followed, the record is
   * validated, and a task root that does not hold a valid record of this very task id is reported
   * and ignored.
   *
   * @param taskId the task id asked for
   * @param description who it is, for messages
   * @param root the task's root directory
   * @param forget called once when cleanup frees the id
   * @return the ended task's container, or empty when the root holds no valid record of it
   */
  static Optional<LocalContainer> reattach(
      String taskId, String description, Path root, Consumer<LocalContainer> forget) {
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      return Optional.empty();
    }
    ExitRecord record;
    try {
      requireRegular(root.getParent(), true);
      requireRegular(root, true);
      record = ExitRecord.read(root);
      if (!record.taskId().equals(taskId)) {
        throw new IOException(
            root.resolve(ExitRecord.FILE) + " belongs to task '" + record.taskId() + "'");
      }
      LogFiles logs = new LogFiles(root);
      requireRegular(logs.stdout(), false);
      requireRegular(logs.stderr(), false);
    } catch (NoSuchFileException e) {
      LOG.info(
          "{} left a directory {} without a record of its end ({}): the JVM that ran it ended"
              + " first, or it never started; it is not found, and running it again replaces"
              + " the directory",
          description,
          root,
          e.getFile());
      return Optional.empty();
    } catch (IOException e) {
      LOG.warn(
          "{} left a directory {} that cannot be trusted, so it is not found, and running it"
              + " again replaces the directory: {}",
          description,
          root,
          e.getMessage());
      return Optional.empty();
    }
    LocalContainer container = new LocalContainer(taskId, description, root, forget);
    container.id = root.getFileName() + "-" + record.pid();
    container.done = record.status();
    container.exit.complete(container.done);
    container.phase = Phase.STARTED;
    LOG.info("found {} on disk: pid {} ended {}", description, record.pid(), container.done);
    return Optional.of(container);
  }

  private static void requireRegular(Path path, boolean directory) throws IOException {
    BasicFileAttributes attributes =
        Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    if (directory ? !attributes.isDirectory() : !attributes.isRegularFile()) {
      String expected = directory ? "directory" : "regular file";
      throw new IOException(path + " is not a " + expected + " (links are not followed)");
    }
  }

  /**
   * Starts the process unless this container has started already; threads that arrive while another
   * starts it wait for the outcome.
   *
   * @param layout lays out the directories and says what to run; only called for the start
   * @throws OrchestraException if the start failed (in this thread or the one that tried first);
   *     then the root directory is gone and the id is free again
   * @throws IllegalArgumentException if the layout refuses the task
   */
  void ensureStarted(Layout layout) {
    lockInterruptibly("starting");
    try {
      switch (phase) {
        case NEW -> start(layout);
        case FAILED ->
            throw new OrchestraException(
                "starting " + description + " failed: " + startFailure.getMessage(), startFailure);
        case STARTED, REMOVED -> {
          // Started by an earlier call: the same container answers every call for the id.
        }
      }
    } finally {
      lifecycle.unlock();
    }
  }

  private void start(Layout layout) {
    try {
      Launch planned = prepare(layout);
      Process started = spawn(planned);
      process = started;
      launch = planned;
      id = root.getFileName() + "-" + started.pid();
      phase = Phase.STARTED;
      planned
          .timeout()
          .ifPresent(
              limit ->
                  timeout =
                      TaskTimer.schedule(
                          "stopping " + description + " after its timeout",
                          () -> timedOut(limit),
                          limit));
      started.onExit().whenComplete((p, failure) -> processEnded());
      LOG.info("started {} as pid {}: {}", description, started.pid(), planned.command());
    } catch (RuntimeException e) {
      phase = Phase.FAILED;
      startFailure = e;
      removeRoot(e);
      forget.accept(this);
      throw e;
    }
  }

  private Launch prepare(Layout layout) {
    try {
      // One call where nothing is left over, the common case: each file-system call costs a task
      // start more than the work around it.
      try {
        Files.createDirectory(root);
      } catch (FileAlreadyExistsException e) {
        LOG.warn(
            "removing the leftover directory {} of {} before running it afresh", root, description);
        FileTrees.delete(root);
        Files.createDirectory(root);
      } catch (NoSuchFileException e) {
        Files.createDirectories(root);
      }
      return layout.prepare();
    } catch (IOException e) {
      throw new OrchestraException(
          "preparing the directory of " + description + " failed: " + e, e);
    }
  }

  private Process spawn(Launch planned) {
    LOG.debug("starting {} in {}", description, planned.workDir());
    Process started;
    try {
      started = SpawnLock.starting("starting " + description, () -> launch(planned));
    } catch (IOException e) {
      throw new OrchestraException(
          "starting "
              + description
              + " failed: cannot run command "
              + planned.command()
              + ": "
              + e.getMessage(),
          e);
    }
    try {
      Optional<InputStream> stdin = planned.stdin();
      if (stdin.isPresent()) {
        stdinPump = StdinPump.start(taskId, stdin.get(), started.getOutputStream());
      } else {
        started.getOutputStream().close();
      }
    } catch (IOException e) {
      started.destroyForcibly();
      throw new OrchestraException(
          "starting " + description + " failed: cannot close its standard input: " + e, e);
    }
    return started;
  }

  /** One {@code posix_spawn} where {@link PosixSpawn} can be used, else {@link ProcessBuilder}. */
  private Process launch(Launch planned) throws IOException {
    if (POSIX_SPAWN) {
      return PosixSpawn.start(
          planned.command(),
          planned.env(),
          planned.workDir(),
          logFiles.stdout(),
          logFiles.stderr(),
          planned.stdin().isPresent());
    }
    ProcessBuilder builder =
        new ProcessBuilder(planned.command())
            .directory(planned.workDir().toFile())
            .redirectOutput(ProcessBuilder.Redirect.to(logFiles.stdout().toFile()))
            .redirectError(ProcessBuilder.Redirect.to(logFiles.stderr().toFile()))
            .redirectInput(ProcessBuilder.Redirect.PIPE);
    builder.environment().clear();
    builder.environment().putAll(planned.env());
    return builder.start();
  }

  private static boolean posixSpawn() {
    try {
      return PosixSpawn.unavailable().isEmpty();
    } catch (LinkageError e) {
      LOG.warn(
          "starting processes with ProcessBuilder: posix_spawn needs JNA (net.java.dev.jna:jna),"
              + " a dependency of this driver, which cannot be loaded: {}",
          e.toString());
      return false;
    }
  }

  private void removeRoot(RuntimeException failure) {
    try {
      FileTrees.delete(root);
    } catch (IOException e) {
      LOG.warn(
          "{} failed to start, and removing its directory {} failed too: {}",
          description,
          root,
          e.toString());
      failure.addSuppressed(e);
    }
  }

  /** Runs once the process has ended and been reaped. */
  private void processEnded() {
    ContainerStatus status = exited(process.exitValue());
    ScheduledFuture<?> limit = timeout;
    if (limit != null) {
      limit.cancel(false);
    }
    LOG.info("{} (pid {}) ended: {}", description, process.pid(), status);
    exit.complete(status);
  }

  /**
   * Caches the final status, and records it on disk, once; the first status recorded stays. The
   * reason is the driver's own request (stop, cleanup, timeout) when it made one, else derived from
   * the exit code.
   */
  private synchronized ContainerStatus exited(int exitValue) {
    if (done == null) {
      int code = exitValue;
      if (code < 0 || code > 255) {
        LOG.warn("{} exited {}, outside 0 to 255; reporting {}", description, code, code & 255);
        code &= 255;
      }
      ExitReason requested = endRequest.get();
      ContainerStatus status =
          requested == null ? ContainerStatus.exited(code) : ContainerStatus.done(code, requested);
      persist(status);
      done = status;
    }
    return done;
  }

  /** Writes the exit record; an interrupt of the calling thread must not cost the record. */
  private void persist(ContainerStatus status) {
    boolean interrupted = Thread.interrupted();
    try {
      new ExitRecord(taskId, process.pid(), status.exitCode(), status.reason()).write(root);
    } catch (IOException e) {
      LOG.warn(
          "{} ended {}, but recording that in {} failed; a driver in another JVM will not find it:"
              + " {}",
          description,
          status,
          root,
          e.toString());
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * A stable identifier: the name of the container's directory and the pid of its process.
   *
   * @return {@code <safe task id>-<pid>}
   */
  @Override
  public String id() {
    return id;
  }

  /** Cheap: a field read, or one look at the process while it has not been seen to end. */
  @Override
  public ContainerStatus status() {
    ContainerStatus status = done;
    if (status != null) {
      return status;
    }
    Process p = process;
    return p.isAlive() ? ContainerStatus.running() : exited(p.exitValue());
  }

  /** Completed once the process is reaped; every call returns a new dependent future. */
  @Override
  public CompletableFuture<ContainerStatus> onExit() {
    return exit.copy();
  }

  /** Copies both files as far as they were written when the copy of each began. */
  @Override
  public void logs(OutputStream stdout, OutputStream stderr) {
    requireStreams(stdout, stderr);
    String what = "copying the logs of " + description;
    if (Thread.currentThread().isInterrupted()) {
      throw Exceptions.launder(what, new InterruptedException());
    }
    LOG.debug("{}", what);
    try {
      requireNotRemoved(null);
      logFiles.copy(stdout, stderr);
    } catch (NoSuchFileException e) {
      throw gone(e);
    } catch (IOException e) {
      throw Exceptions.launder(what, e);
    }
  }

  /**
   * Tails both files from their first byte, pausing briefly whenever neither has grown, until the
   * process has ended and both are read to their end. Output a background process of the task
   * writes after the task itself ended is not waited for.
   */
  @Override
  public void follow(OutputStream stdout, OutputStream stderr) {
    requireStreams(stdout, stderr);
    String what = "following the output of " + description;
    LOG.debug("{}", what);
    try {
      requireNotRemoved(null);
      logFiles.follow(() -> status().isDone(), stdout, stderr);
    } catch (NoSuchFileException e) {
      throw gone(e);
    } catch (IOException | InterruptedException e) {
      throw Exceptions.launder(what, e);
    }
  }

  private static void requireStreams(OutputStream stdout, OutputStream stderr) {
    if (stdout == null || stderr == null) {
      throw new IllegalArgumentException("stdout and stderr must not be null");
    }
  }

  private void requireNotRemoved(Throwable cause) {
    if (phase == Phase.REMOVED) {
      throw gone(cause);
    }
  }

  private ContainerNotFoundException gone(Throwable cause) {
    return new ContainerNotFoundException(
        taskId,
        "the output of "
            + description
            + " is gone: "
            + (phase == Phase.REMOVED
                ? "it was cleaned up"
                : root + " was removed behind the driver's back"),
        cause);
  }

  /**
   * Sends SIGTERM to the process tree, waits up to {@code grace} for every process of it to end,
   * then kills what is left with SIGKILL (among them descendants that outlived their parent) and
   * waits for that.
   */
  @Override
  public ContainerStatus stop(Duration grace) {
    if (grace == null || grace.isNegative()) {
      throw new IllegalArgumentException(
          "grace of stopping " + description + " must be zero or positive, was " + grace);
    }
    ContainerStatus now = status();
    if (now.isDone()) {
      LOG.debug("stop of {}: it had ended already: {}", description, now);
      return now;
    }
    LOG.debug("stopping {} with a grace period of {}", description, grace);
    Process p = process;
    List<ProcessHandle> asked = List.of();
    try {
      List<ProcessHandle> left;
      if (grace.isZero()) {
        endRequest.compareAndSet(null, ExitReason.STOPPED);
        left = List.of(p.toHandle());
      } else {
        asked = requestEnd(ExitReason.STOPPED);
        left = ProcessTree.awaitExit(asked, grace);
      }
      if (!left.isEmpty()) {
        LOG.debug("{} still runs after its grace period of {}: killing it", description, grace);
        List<ProcessHandle> survivors =
            ProcessTree.awaitExit(ProcessTree.destroyForcibly(p.toHandle(), asked), KILL_TIMEOUT);
        if (!survivors.isEmpty()) {
          throw notKilled("stopping", survivors);
        }
      }
      if (!p.waitFor(KILL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new OrchestraException(
            "stopping " + description + " failed: pid " + p.pid() + " is not reaped");
      }
    } catch (InterruptedException e) {
      ProcessTree.destroyForcibly(p.toHandle(), asked);
      throw Exceptions.launder("stopping " + description, e);
    }
    ContainerStatus status = exited(p.exitValue());
    LOG.info("stopped {}: {}", description, status);
    return status;
  }

  /**
   * Records why the driver ends the process (unless an earlier request was recorded) before the
   * first signal, so that the end is never mistaken for one nobody asked for; then sends SIGTERM.
   */
  private List<ProcessHandle> requestEnd(ExitReason reason) {
    endRequest.compareAndSet(null, reason);
    return ProcessTree.terminate(process.toHandle());
  }

  /** On the timer thread: asks the task to end, and schedules the kill after the grace period. */
  private void timedOut(Duration limit) {
    if (status().isDone()) {
      return;
    }
    LOG.info(
        "{} ran longer than its timeout of {}: stopping it (SIGTERM, SIGKILL after {})",
        description,
        limit,
        TIMEOUT_GRACE);
    List<ProcessHandle> asked = requestEnd(ExitReason.TIMED_OUT);
    graceKill =
        TaskTimer.schedule(
            "killing " + description + " after the grace period of its timeout",
            () -> killAfterGrace(asked),
            TIMEOUT_GRACE);
  }

  private void killAfterGrace(List<ProcessHandle> asked) {
    if (asked.stream().anyMatch(ProcessTree::isRunning)) {
      LOG.info("{} still runs {} after its timeout: killing it", description, TIMEOUT_GRACE);
      ProcessTree.destroyForcibly(process.toHandle(), asked);
    }
  }

  private OrchestraException notKilled(String what, List<ProcessHandle> survivors) {
    return new OrchestraException(
        what
            + " "
            + description
            + " failed: processes "
            + survivors.stream().map(ProcessHandle::pid).toList()
            + " did not exit within "
            + KILL_TIMEOUT.toSeconds()
            + " s of SIGKILL");
  }

  /**
   * Kills the process and all its descendants (and the steps of a sandbox), waits for them to exit,
   * deletes the root directory (links into volumes are removed, never followed), and frees the id.
   * Idempotent.
   *
   * @throws OrchestraException if a killed process does not exit in time or the directory cannot be
   *     deleted; the container stays known, so a later call tries again
   * @throws dev.orchestra.OrchestraInterruptedException if interrupted while waiting
   */
  @Override
  public void cleanup() {
    lockInterruptibly("cleaning up");
    try {
      if (phase != Phase.STARTED) {
        return;
      }
      LOG.debug("cleaning up {}", description);
      LocalSandbox attached = sandbox;
      if (attached != null) {
        attached.removeSteps();
      }
      Process p = process;
      if (p != null) {
        kill(p);
      }
      try {
        FileTrees.delete(root);
      } catch (IOException e) {
        throw new OrchestraException(
            "cleaning up " + description + " failed: cannot delete " + root + ": " + e, e);
      }
      phase = Phase.REMOVED;
      forget.accept(this);
      LOG.info("cleaned up {} ({})", description, done);
    } finally {
      lifecycle.unlock();
    }
  }

  private void kill(Process p) {
    if (p.isAlive()) {
      endRequest.compareAndSet(null, ExitReason.STOPPED);
    }
    List<ProcessHandle> survivors;
    try {
      survivors = ProcessTree.kill(p.toHandle(), KILL_TIMEOUT);
    } catch (InterruptedException e) {
      throw Exceptions.launder("cleaning up " + description, e);
    }
    if (stdinPump != null) {
      stdinPump.stop();
    }
    for (ScheduledFuture<?> timer : new ScheduledFuture<?>[] {timeout, graceKill}) {
      if (timer != null) {
        timer.cancel(false);
      }
    }
    if (!survivors.isEmpty()) {
      throw notKilled("cleaning up", survivors);
    }
    try {
      // The process is gone; wait for its exit status to be collected too.
      if (!p.waitFor(KILL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new OrchestraException(
            "cleaning up " + description + " failed: pid " + p.pid() + " is not reaped");
      }
    } catch (InterruptedException e) {
      throw Exceptions.launder("cleaning up " + description, e);
    }
    exited(p.exitValue());
  }

  /**
   * The sandbox around this container, made by {@code create} on the first call.
   *
   * @param create makes the sandbox
   * @return the one sandbox of this container
   */
  synchronized LocalSandbox sandbox(Function<LocalContainer, LocalSandbox> create) {
    if (sandbox == null) {
      sandbox = create.apply(this);
    }
    return sandbox;
  }

  /** The id the caller gave. */
  String taskId() {
    return taskId;
  }

  /** Who this is, for messages. */
  String description() {
    return description;
  }

  /** The container's own directory. */
  Path root() {
    return root;
  }

  /** What the process was started with; empty for a container found on disk. */
  Optional<Launch> launch() {
    return Optional.ofNullable(launch);
  }

  private void lockInterruptibly(String what) {
    try {
      lifecycle.lockInterruptibly();
    } catch (InterruptedException e) {
      throw Exceptions.launder(what + " " + description, e);
    }
  }

  @Override
  public String toString() {
    return "LocalContainer[" + description + ", " + (id == null ? phase : id) + "]";
  }
}
