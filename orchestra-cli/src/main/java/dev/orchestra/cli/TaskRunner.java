package dev.orchestra.cli;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.OrchestraException;
import dev.orchestra.Task;
import dev.orchestra.spi.Exceptions;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one task to its end the way a terminal expects: its output streamed live, its exit code
 * returned, and everything it created removed afterwards, also when the user presses Ctrl-C.
 *
 * <p>The whole lifecycle of a command-line run lives here. Output is streamed with {@link
 * Container#follow} when the driver declares {@link Capability#FOLLOW}; otherwise by polling {@link
 * Container#logs} and forwarding only the bytes not yet written. Ctrl-C (SIGINT) or SIGTERM stops
 * the task with {@link Container#stop(Duration)} (SIGTERM, then SIGKILL after {@link #STOP_GRACE})
 * when the driver declares {@link Capability#STOP}; otherwise with {@link Container#cleanup()},
 * which kills its process tree at once. What the task writes meanwhile (a trap's last words) is
 * still delivered, then the namespace is removed, and the JVM exits with the status of the signal,
 * {@link #STOPPED} or {@link #TERMINATED}.
 *
 * <p>The runner owns the driver it is given: it closes it when the task is done or stopped, unless
 * asked to keep what the task left (its container, volumes and namespace).
 */
final class TaskRunner {

  /** The exit code of a run stopped by SIGINT, as shells report it: 128 + 2. */
  static final int STOPPED = 130;

  /** The exit code of a run stopped by SIGTERM, as shells report it: 128 + 15. */
  static final int TERMINATED = 143;

  /**
   * The exit code of a run stopped because its output went away (a reader such as {@code head}
   * exited), as for a process killed by SIGPIPE: 128 + 13.
   */
  static final int OUTPUT_CLOSED = 141;

  /** How long a task stopped by Ctrl-C may take to end after SIGTERM before it is killed. */
  static final Duration STOP_GRACE = Duration.ofSeconds(10);

  /** How long a stop waits for the output the stopped task wrote to be delivered. */
  private static final Duration LAST_OUTPUT = Duration.ofSeconds(5);

  private static final Logger LOG = LoggerFactory.getLogger(TaskRunner.class);

  private final Driver driver;
  private final String namespace;
  private final boolean keep;
  private final Duration pollInterval;

  private final Object lock = new Object();
  private final AtomicBoolean stopping = new AtomicBoolean();
  private final AtomicBoolean released = new AtomicBoolean();
  private final CountDownLatch watched = new CountDownLatch(1);
  private Container container; // guarded by lock
  private List<VolumeCopy> copyIns = List.of();
  private List<VolumeCopy> copyOuts = List.of();

  /**
   * Creates a runner.
   *
   * @param driver the open driver to run on; the runner closes it unless {@code keep}
   * @param namespace the driver's namespace, for messages
   * @param keep whether the container, volumes and namespace outlive the run
   * @param pollInterval how often the task's status and output are read
   */
  TaskRunner(Driver driver, String namespace, boolean keep, Duration pollInterval) {
    this.driver = driver;
    this.namespace = namespace;
    this.keep = keep;
    this.pollInterval = pollInterval;
  }

  /**
   * Sets the directories to copy into volumes before the task starts, and out of them after it
   * ended (not after it was stopped).
   *
   * @param in the copies in
   * @param out the copies out
   * @return this runner
   */
  TaskRunner copies(List<VolumeCopy> in, List<VolumeCopy> out) {
    this.copyIns = List.copyOf(in);
    this.copyOuts = List.copyOf(out);
    return this;
  }

  /**
   * Starts the task, writes its standard output and standard error to the given streams as they
   * grow, waits for its end and releases the driver.
   *
   * <p>While it runs, a shutdown hook (run by the JVM on SIGINT or SIGTERM) stops the task, waits
   * for its last output to be written, and releases the driver; the call then returns {@link
   * #STOPPED}, and the JVM exits with the status of the signal.
   *
   * @param task the task to run
   * @param out receives the task's standard output; flushed, never closed
   * @param err receives the task's standard error; flushed, never closed
   * @return the task's exit code, {@link #STOPPED}, or {@link #OUTPUT_CLOSED} when writing to
   *     {@code out} or {@code err} failed silently (see {@link PrintStream#checkError()})
   * @throws IllegalArgumentException if the driver refuses the task as invalid
   * @throws OrchestraException if the driver fails to start, watch or clean up the task
   */
  int run(Task task, OutputStream out, OutputStream err) {
    Thread hook = new Thread(this::stop, "orchestra-stop-" + task.id());
    Runtime.getRuntime().addShutdownHook(hook);
    int exitCode;
    try {
      exitCode = watch(task, out, err);
    } catch (RuntimeException e) {
      watched.countDown();
      if (stopping.get()) {
        LOG.debug("task {} failed while being stopped: {}", task.id(), e.toString());
        return STOPPED;
      }
      removeHook(hook);
      try {
        release();
      } catch (RuntimeException cleanupFailure) {
        e.addSuppressed(cleanupFailure);
      }
      throw e;
    }
    watched.countDown();
    if (stopping.get()) {
      return STOPPED;
    }
    try {
      if (exitCode != OUTPUT_CLOSED) {
        for (VolumeCopy c : copyOuts) {
          LOG.info("copying volume '{}' out to {}", c.volume(), c.directory());
          driver.createVolume(c.volume(), 0).copyOut(c.directory());
        }
      }
    } finally {
      removeHook(hook);
      release();
    }
    return exitCode;
  }

  private int watch(Task task, OutputStream out, OutputStream err) {
    Container started;
    synchronized (lock) {
      if (stopping.get()) {
        return STOPPED;
      }
    }
    for (VolumeCopy c : copyIns) {
      LOG.info("copying {} into volume '{}'", c.directory(), c.volume());
      driver.createVolume(c.volume(), 0).copyIn(c.directory());
    }
    synchronized (lock) {
      if (stopping.get()) {
        return STOPPED;
      }
      started = driver.runContainer(task);
      container = started;
    }
    LOG.info(
        "task {} runs as container {} on driver '{}' in namespace '{}'",
        task.id(),
        started.id(),
        driver.name(),
        namespace);
    if (driver.capabilities().contains(Capability.FOLLOW)) {
      return follow(task, started, out, err);
    }
    SkippingOutputStream newOut = new SkippingOutputStream(out);
    SkippingOutputStream newErr = new SkippingOutputStream(err);
    try {
      while (!started.status().isDone()) {
        forwardNewOutput(started, newOut, newErr);
        if (isClosed(out) || isClosed(err)) {
          // Nobody reads any more; a task that writes forever (`yes | head`) would never end.
          LOG.info("the output of task {} is closed; stopping it", task.id());
          started.cleanup();
          return OUTPUT_CLOSED;
        }
        Thread.sleep(pollInterval.toMillis());
      }
    } catch (InterruptedException e) {
      throw Exceptions.launder("waiting for task " + task.id(), e);
    }
    forwardNewOutput(started, newOut, newErr);
    int exitCode = started.status().exitCode();
    LOG.info("task {} exited {}", task.id(), exitCode);
    return exitCode;
  }

  /** Streams the output live with {@link Container#follow}, which returns when the task ends. */
  private int follow(Task task, Container started, OutputStream out, OutputStream err) {
    ClosedOutput closed = new ClosedOutput();
    try {
      started.follow(closed.guard(out), closed.guard(err));
    } catch (OrchestraException e) {
      if (!closed.seen) {
        throw e;
      }
    }
    if (closed.seen) {
      // Nobody reads any more; a task that writes forever (`yes | head`) would never end.
      LOG.info("the output of task {} is closed; stopping it", task.id());
      started.cleanup();
      return OUTPUT_CLOSED;
    }
    ContainerStatus status = started.await(STOP_GRACE);
    if (!status.isDone()) {
      throw new OrchestraException(
          "following task " + task.id() + " ended, but the task still runs (" + status + ")");
    }
    LOG.info("task {} exited {} ({})", task.id(), status.exitCode(), status.reason());
    return status.exitCode();
  }

  /**
   * Turns the silent failure of a {@link PrintStream} (a closed pipe) into an exception that ends
   * {@link Container#follow}, and remembers it.
   */
  private static final class ClosedOutput {
    volatile boolean seen;

    OutputStream guard(OutputStream stream) {
      return new FilterOutputStream(stream) {
        @Override
        public void write(byte[] b, int off, int len) throws IOException {
          out.write(b, off, len);
          check();
        }

        @Override
        public void flush() throws IOException {
          out.flush();
          check();
        }

        private void check() throws IOException {
          if (isClosed(out)) {
            seen = true;
            throw new IOException("the output is closed");
          }
        }
      };
    }
  }

  private static void forwardNewOutput(
      Container container, SkippingOutputStream out, SkippingOutputStream err) {
    out.rewind();
    err.rewind();
    container.logs(out, err);
    try {
      out.flush();
      err.flush();
    } catch (IOException e) {
      throw Exceptions.launder("writing the output of container " + container.id(), e);
    }
  }

  /**
   * Whether writing to a stream has failed. A {@link PrintStream} (the process's own {@code
   * System.out}) swallows write errors, such as a closed pipe, and only reports them here; other
   * streams throw, and {@link Container#logs} passes that on.
   */
  private static boolean isClosed(OutputStream stream) {
    return stream instanceof PrintStream print && print.checkError();
  }

  /** The shutdown hook: stops the task, then releases the driver. */
  private void stop() {
    stopping.set(true);
    synchronized (lock) {
      if (container != null) {
        LOG.info("stopping container {}", container.id());
        try {
          if (driver.capabilities().contains(Capability.STOP)) {
            container.stop(STOP_GRACE);
          } else {
            container.cleanup();
          }
        } catch (RuntimeException e) {
          LOG.warn("could not stop container {}: {}", container.id(), e.getMessage(), e);
        }
      }
    }
    try {
      // The task ended: let its last output reach the terminal before the namespace goes.
      if (!watched.await(LAST_OUTPUT.toMillis(), TimeUnit.MILLISECONDS)) {
        LOG.debug("the output of the stopped task was not all delivered within {}", LAST_OUTPUT);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      release();
    } catch (RuntimeException e) {
      LOG.warn("could not clean up namespace '{}': {}", namespace, e.getMessage(), e);
    }
  }

  /** Closes the driver once, removing the namespace, unless it is to be kept. */
  private void release() {
    if (!released.compareAndSet(false, true)) {
      return;
    }
    if (keep) {
      LOG.info("keeping namespace '{}' on driver '{}'", namespace, driver.name());
      return;
    }
    LOG.debug("closing driver '{}' of namespace '{}'", driver.name(), namespace);
    driver.close();
  }

  private static void removeHook(Thread hook) {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // The JVM is shutting down: the hook runs (or ran) and does the cleanup itself.
      LOG.debug("shutdown in progress; the stop hook cleans up");
    }
  }
}
