package dev.orchestra.example.minimal;

import dev.orchestra.Container;
import dev.orchestra.ContainerNotFoundException;
import dev.orchestra.ContainerStatus;
import dev.orchestra.OrchestraException;
import dev.orchestra.spi.Exceptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One task of the minimal driver: an operating-system process whose standard output and error go
 * straight to two files of its own directory, never through the heap.
 *
 * <p>The JDK keeps the process's exit code once it has ended, so {@link #status()} is a field read
 * then. {@link #onExit()} and {@link #await} are the interface's defaults.
 */
final class MinimalContainer implements Container {

  private static final Logger LOG = LoggerFactory.getLogger(MinimalContainer.class);

  private final String taskId;
  private final String description;
  private final Path root;
  private final Process process;
  private final Consumer<MinimalContainer> forget;
  private volatile boolean removed;

  private MinimalContainer(
      String taskId,
      String description,
      Path root,
      Process process,
      Consumer<MinimalContainer> forget) {
    this.taskId = taskId;
    this.description = description;
    this.root = root;
    this.process = process;
    this.forget = forget;
  }

  /**
   * Starts the process, its output going to the files {@code stdout} and {@code stderr} of {@code
   * root}, the task's own directory, which cleanup deletes. {@code forget} frees the task id.
   */
  static MinimalContainer start(
      String taskId,
      String description,
      Path root,
      ProcessBuilder builder,
      Optional<InputStream> stdin,
      Consumer<MinimalContainer> forget)
      throws IOException {
    builder.redirectOutput(root.resolve("stdout").toFile());
    builder.redirectError(root.resolve("stderr").toFile());
    Process process = builder.start();
    if (stdin.isPresent()) {
      copyInput(description, stdin.get(), process.getOutputStream());
    } else {
      process.getOutputStream().close(); // the task reads end of file at once
    }
    LOG.info("started {} as pid {}: {}", description, process.pid(), builder.command());
    return new MinimalContainer(taskId, description, root, process, forget);
  }

  /**
   * Copies the input to the process on a thread of its own, so that {@code runContainer} returns at
   * once, whatever the size of the input; then closes both, and the task reads end of file.
   */
  private static void copyInput(String description, InputStream in, OutputStream toProcess) {
    Thread copier =
        new Thread(
            () -> {
              try (in;
                  toProcess) {
                in.transferTo(toProcess);
              } catch (IOException e) {
                // The task ended, or closed its input, before reading all of it.
                LOG.debug("the input of {} stopped early: {}", description, e.toString());
              }
            },
            "orchestra-minimal-stdin " + description);
    copier.setDaemon(true);
    copier.start();
  }

  /** {@code <safe task id>-<pid>}: the task's directory name and its process id. */
  @Override
  public String id() {
    return root.getFileName() + "-" + process.pid();
  }

  @Override
  public ContainerStatus status() {
    requireNotRemoved(null);
    return process.isAlive()
        ? ContainerStatus.running()
        : ContainerStatus.exited(process.exitValue()); // 128+N when signal N killed it
  }

  /** Copies both files as far as they were written when the copy began. */
  @Override
  public void logs(OutputStream stdout, OutputStream stderr) {
    if (stdout == null || stderr == null) {
      throw new IllegalArgumentException("stdout and stderr must not be null");
    }
    requireNotRemoved(null);
    try {
      copy(root.resolve("stdout"), stdout);
      copy(root.resolve("stderr"), stderr);
    } catch (NoSuchFileException e) {
      requireNotRemoved(e);
      throw notFound(root + " was removed behind the driver's back", e);
    } catch (IOException e) {
      // A blocked write or read that an interrupt ended becomes OrchestraInterruptedException.
      throw Exceptions.launder("reading the logs of " + description, e);
    }
  }

  private static void copy(Path file, OutputStream to) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      long left = Files.size(file);
      byte[] buffer = new byte[64 * 1024];
      while (left > 0) {
        int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
        if (n < 0) {
          return;
        }
        to.write(buffer, 0, n);
        left -= n;
      }
    }
  }

  /**
   * Kills the process and every process it started (SIGKILL), waits for it to end, deletes the
   * task's directory and frees the task id. Idempotent; a call that failed or was interrupted can
   * be repeated.
   */
  @Override
  public synchronized void cleanup() {
    if (removed) {
      return;
    }
    // Descendants first: once their parent is gone, they no longer count as its descendants.
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        throw new OrchestraException(
            "cleaning up " + description + " failed: pid " + process.pid() + " did not end");
      }
      NamespaceDirectory.delete(root);
    } catch (InterruptedException | IOException e) {
      throw Exceptions.launder("cleaning up " + description, e);
    }
    removed = true;
    forget.accept(this);
    LOG.info("cleaned up {}", description);
  }

  private void requireNotRemoved(Throwable cause) {
    if (removed) {
      throw notFound("it was cleaned up", cause);
    }
  }

  private ContainerNotFoundException notFound(String why, Throwable cause) {
    return new ContainerNotFoundException(taskId, description + " is gone: " + why, cause);
  }
}
