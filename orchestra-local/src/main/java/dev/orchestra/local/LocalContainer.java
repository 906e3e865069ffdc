package dev.orchestra.local;

import dev.orchestra.Container;
import dev.orchestra.ContainerNotFoundException;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Mount;
import dev.orchestra.OrchestraException;
import dev.orchestra.Task;
import dev.orchestra.spi.Exceptions;
import dev.orchestra.spi.TaskPaths;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A task of the local driver: one operating-system process started in a fresh task directory.
 *
 * <p>Layout, below {@code <namespace root>/tasks/<safe task id>/}: {@code work/} is the task
 * directory (the default working directory, where mounts appear as links to volume directories),
 * {@code stdout} and {@code stderr} receive the process's output directly, outside the task's
 * reach.
 *
 * <p>After {@link #cleanup()}, {@link #status()} keeps answering the final status (the exit code
 * the process had; 137 when cleanup's SIGKILL ended it) and {@link #logs} throws {@link
 * ContainerNotFoundException}.
 */
final class LocalContainer implements Container {

  private static final Logger LOG = LoggerFactory.getLogger(LocalContainer.class);

  /** How long cleanup waits for killed processes to exit. */
  private static final Duration KILL_TIMEOUT = Duration.ofSeconds(10);

  private static final int COPY_BUFFER_BYTES = 64 * 1024;

  private enum Phase {
    NEW,
    FAILED,
    RUNNING,
    REMOVED
  }

  private final Task task;
  private final String namespace;
  private final NamespaceState state;
  private final Path taskRoot;
  private final Path taskDir;
  private final Path stdoutFile;
  private final Path stderrFile;

  /** Serialises start and cleanup; status and logs never take it. */
  private final ReentrantLock lifecycle = new ReentrantLock();

  private volatile Phase phase = Phase.NEW;
  private volatile Process process;
  private volatile String id;
  private volatile ContainerStatus done;
  private RuntimeException startFailure;
  private StdinPump stdinPump;

  LocalContainer(Task task, String namespace, NamespaceState state) {
    this.task = task;
    this.namespace = namespace;
    this.state = state;
    this.taskRoot = state.taskRoot(task.id());
    this.taskDir = taskRoot.resolve("work");
    this.stdoutFile = taskRoot.resolve("stdout");
    this.stderrFile = taskRoot.resolve("stderr");
  }

  /**
   * Starts the process unless this container has started already; threads that arrive while another
   * starts it wait for the outcome.
   *
   * @throws OrchestraException if the start failed (in this thread or the one that tried first);
   *     then the task directory is gone and the task id is free again
   * @throws IllegalArgumentException if the task cannot be laid out in its directory
   */
  void ensureStarted() {
    lockInterruptibly("starting");
    try {
      switch (phase) {
        case NEW -> start();
        case FAILED ->
            throw new OrchestraException(
                "starting task '" + task.id() + "' failed: " + startFailure.getMessage(),
                startFailure);
        case RUNNING, REMOVED -> {
          // Started by an earlier call: the same container answers every call for the task id.
        }
      }
    } finally {
      lifecycle.unlock();
    }
  }

  private void start() {
    try {
      Process started = launch();
      process = started;
      id = taskRoot.getFileName() + "-" + started.pid();
      phase = Phase.RUNNING;
      started.onExit().thenRun(this::recordExit);
      LOG.info(
          "started task '{}' of namespace '{}' as pid {}: {}",
          task.id(),
          namespace,
          started.pid(),
          task.command());
    } catch (RuntimeException e) {
      phase = Phase.FAILED;
      startFailure = e;
      removeTaskRoot(e);
      state.forget(task.id(), this);
      throw e;
    }
  }

  private Process launch() {
    try {
      if (Files.exists(taskRoot, LinkOption.NOFOLLOW_LINKS)) {
        LOG.warn(
            "removing leftover directory {} of task '{}' of namespace '{}' before running it"
                + " afresh",
            taskRoot,
            task.id(),
            namespace);
        FileTrees.delete(taskRoot);
      }
      Files.createDirectories(taskDir);
      mountVolumes();
      Path workDir = TaskPaths.resolve(taskDir, "workDir", task.workDir().orElse("."));
      Files.createDirectories(workDir);

      ProcessBuilder builder =
          new ProcessBuilder(task.command())
              .directory(workDir.toFile())
              .redirectOutput(ProcessBuilder.Redirect.to(stdoutFile.toFile()))
              .redirectError(ProcessBuilder.Redirect.to(stderrFile.toFile()))
              .redirectInput(ProcessBuilder.Redirect.PIPE);
      Map<String, String> env = builder.environment();
      env.clear();
      String path = System.getenv("PATH");
      if (path != null) {
        env.put("PATH", path);
      }
      env.putAll(task.env());

      LOG.debug("starting task '{}' in {}", task.id(), workDir);
      Process started;
      try {
        started = builder.start();
      } catch (IOException e) {
        throw new OrchestraException(
            "starting task '"
                + task.id()
                + "' of namespace '"
                + namespace
                + "' failed: cannot run command "
                + task.command()
                + ": "
                + e.getMessage(),
            e);
      }
      feedStdin(started);
      return started;
    } catch (IOException e) {
      throw new OrchestraException(
          "preparing the directory of task '"
              + task.id()
              + "' of namespace '"
              + namespace
              + "' failed: "
              + e,
          e);
    }
  }

  /** Places a link to each mounted volume, outer paths first so that nested ones land inside. */
  private void mountVolumes() throws IOException {
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

  private void feedStdin(Process started) throws IOException {
    Optional<InputStream> stdin = task.stdin();
    if (stdin.isPresent()) {
      stdinPump = StdinPump.start(task.id(), stdin.get(), started.getOutputStream());
    } else {
      started.getOutputStream().close();
    }
  }

  private void removeTaskRoot(RuntimeException failure) {
    try {
      FileTrees.delete(taskRoot);
    } catch (IOException e) {
      LOG.warn(
          "task '{}' of namespace '{}' failed to start, and removing its directory {} failed"
              + " too: {}",
          task.id(),
          namespace,
          taskRoot,
          e.toString());
      failure.addSuppressed(e);
    }
  }

  private void recordExit() {
    ContainerStatus status = exited(process.exitValue());
    LOG.info(
        "task '{}' of namespace '{}' (pid {}) exited {}",
        task.id(),
        namespace,
        process.pid(),
        status.exitCode());
  }

  /** Caches the final status; the first one recorded stays. */
  private synchronized ContainerStatus exited(int exitValue) {
    if (done == null) {
      int code = exitValue;
      if (code < 0 || code > 255) {
        LOG.warn(
            "task '{}' exited {}, outside 0 to 255; reporting {}", task.id(), code, code & 255);
        code &= 255;
      }
      done = ContainerStatus.exited(code);
    }
    return done;
  }

  /**
   * A stable identifier: the task's directory name and the pid of its process.
   *
   * @return {@code <safe task id>-<pid>}
   */
  @Override
  public String id() {
    return id;
  }

  /** Cheap: a field read, or one look at the process while it has not been seen to exit. */
  @Override
  public ContainerStatus status() {
    ContainerStatus status = done;
    if (status != null) {
      return status;
    }
    Process p = process;
    return p.isAlive() ? ContainerStatus.running() : exited(p.exitValue());
  }

  /** Copies both files as far as they were written when the copy of each began. */
  @Override
  public void logs(OutputStream stdout, OutputStream stderr) {
    if (stdout == null || stderr == null) {
      throw new IllegalArgumentException("stdout and stderr must not be null");
    }
    if (Thread.currentThread().isInterrupted()) {
      throw Exceptions.launder(
          "copying the logs of task '" + task.id() + "'", new InterruptedException());
    }
    LOG.debug("copying the logs of task '{}' of namespace '{}'", task.id(), namespace);
    copy(stdoutFile, stdout, "stdout");
    copy(stderrFile, stderr, "stderr");
  }

  private void copy(Path file, OutputStream out, String stream) {
    if (phase == Phase.REMOVED) {
      throw gone(stream, null);
    }
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long remaining = channel.size();
      ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(COPY_BUFFER_BYTES, remaining));
      while (remaining > 0) {
        buffer.clear().limit((int) Math.min(buffer.capacity(), remaining));
        int n = channel.read(buffer);
        if (n < 0) {
          break;
        }
        out.write(buffer.array(), 0, n);
        remaining -= n;
      }
    } catch (NoSuchFileException e) {
      throw gone(stream, e);
    } catch (IOException e) {
      throw Exceptions.launder(
          "copying the " + stream + " of task '" + task.id() + "' of namespace '" + namespace + "'",
          e);
    }
  }

  private ContainerNotFoundException gone(String stream, Throwable cause) {
    return new ContainerNotFoundException(
        task.id(),
        "the "
            + stream
            + " of task '"
            + task.id()
            + "' of namespace '"
            + namespace
            + "' is gone: "
            + (phase == Phase.REMOVED
                ? "the task was cleaned up"
                : stdoutFile.getParent() + " was removed behind the driver's back"),
        cause);
  }

  /**
   * Kills the process and all its descendants, waits for them to exit, deletes the task's directory
   * and logs (links into volumes are removed, never followed), and frees the task id. Idempotent.
   *
   * @throws OrchestraException if a killed process does not exit in time or the directory cannot be
   *     deleted; the task stays known, so a later call tries again
   * @throws dev.orchestra.OrchestraInterruptedException if interrupted while waiting
   */
  @Override
  public void cleanup() {
    lockInterruptibly("cleaning up");
    try {
      if (phase != Phase.RUNNING) {
        return;
      }
      LOG.debug("cleaning up task '{}' of namespace '{}'", task.id(), namespace);
      Process p = process;
      List<ProcessHandle> survivors;
      try {
        survivors = ProcessTree.kill(p.toHandle(), KILL_TIMEOUT);
      } catch (InterruptedException e) {
        throw Exceptions.launder("cleaning up task '" + task.id() + "'", e);
      }
      if (stdinPump != null) {
        stdinPump.stop();
      }
      if (!survivors.isEmpty()) {
        throw new OrchestraException(
            "cleaning up task '"
                + task.id()
                + "' of namespace '"
                + namespace
                + "' failed: processes "
                + survivors.stream().map(ProcessHandle::pid).toList()
                + " did not exit within "
                + KILL_TIMEOUT.toSeconds()
                + " s of SIGKILL");
      }
      try {
        // The process is gone; wait for the JDK to collect its exit status too.
        if (!p.waitFor(KILL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
          throw new OrchestraException(
              "cleaning up task '" + task.id() + "' failed: pid " + p.pid() + " is not reaped");
        }
      } catch (InterruptedException e) {
        throw Exceptions.launder("cleaning up task '" + task.id() + "'", e);
      }
      exited(p.exitValue());
      try {
        FileTrees.delete(taskRoot);
      } catch (IOException e) {
        throw new OrchestraException(
            "cleaning up task '"
                + task.id()
                + "' of namespace '"
                + namespace
                + "' failed: cannot delete "
                + taskRoot
                + ": "
                + e,
            e);
      }
      phase = Phase.REMOVED;
      state.forget(task.id(), this);
      LOG.info(
          "cleaned up task '{}' of namespace '{}' (exit code {})",
          task.id(),
          namespace,
          done.exitCode());
    } finally {
      lifecycle.unlock();
    }
  }

  private void lockInterruptibly(String what) {
    try {
      lifecycle.lockInterruptibly();
    } catch (InterruptedException e) {
      throw Exceptions.launder(what + " task '" + task.id() + "'", e);
    }
  }

  @Override
  public String toString() {
    return "LocalContainer[task " + task.id() + ", " + (id == null ? phase : id) + "]";
  }
}
