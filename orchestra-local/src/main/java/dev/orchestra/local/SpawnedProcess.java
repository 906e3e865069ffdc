package dev.orchestra.local;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A process that {@link PosixSpawn} started, seen through the JDK's {@link Process}: its output
 * went to files, so its output streams are empty; its exit value comes from {@link ChildReaper};
 * signals go through its {@link ProcessHandle}, which refuses to signal a later process that got
 * the same pid.
 */
final class SpawnedProcess extends Process {

  /**
   * Runs what waits on {@link #onExit()}, off the reaper's thread, as the JDK runs it off its own:
   * threads exist only while such work runs, and a few seconds after.
   */
  private static final Executor EXITS = exits();

  private final ProcessHandle handle;
  private final CompletableFuture<Integer> exit;
  private final OutputStream stdin;

  SpawnedProcess(ProcessHandle handle, CompletableFuture<Integer> exit, OutputStream stdin) {
    this.handle = handle;
    this.exit = exit;
    this.stdin = stdin;
  }

  /** The pipe to its standard input, or a stream that discards what it is given. */
  @Override
  public OutputStream getOutputStream() {
    return stdin;
  }

  /** Empty: its standard output went to a file. */
  @Override
  public InputStream getInputStream() {
    return InputStream.nullInputStream();
  }

  /** Empty: its standard error went to a file. */
  @Override
  public InputStream getErrorStream() {
    return InputStream.nullInputStream();
  }

  @Override
  public int waitFor() throws InterruptedException {
    try {
      return exit.get();
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
  }

  @Override
  public boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException {
    try {
      exit.get(timeout, unit);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
  }

  @Override
  public int exitValue() {
    if (!exit.isDone()) {
      throw new IllegalThreadStateException("process " + pid() + " has not exited");
    }
    return exit.join();
  }

  @Override
  public boolean isAlive() {
    return !exit.isDone();
  }

  @Override
  public void destroy() {
    if (!exit.isDone()) {
      handle.destroy();
    }
  }

  @Override
  public Process destroyForcibly() {
    if (!exit.isDone()) {
      handle.destroyForcibly();
    }
    return this;
  }

  @Override
  public boolean supportsNormalTermination() {
    return true;
  }

  @Override
  public long pid() {
    return handle.pid();
  }

  @Override
  public ProcessHandle toHandle() {
    return handle;
  }

  @Override
  public CompletableFuture<Process> onExit() {
    return exit.thenApplyAsync(code -> this, EXITS);
  }

  /** Like {@link dev.orchestra.spi.Schedulers}' executors, but a thread for each waiting task. */
  private static Executor exits() {
    ClassLoader loader = SpawnedProcess.class.getClassLoader();
    AtomicInteger count = new AtomicInteger();
    return new ThreadPoolExecutor(
        0,
        Integer.MAX_VALUE,
        5,
        TimeUnit.SECONDS,
        new SynchronousQueue<>(),
        r -> {
          Thread t = new Thread(r, "orchestra-local-exit-" + count.incrementAndGet());
          t.setDaemon(true);
          t.setContextClassLoader(loader);
          return t;
        });
  }

  @Override
  public String toString() {
    return "SpawnedProcess[pid="
        + pid()
        + ", exitValue="
        + (exit.isDone() ? String.valueOf(exit.join()) : "\"not exited\"")
        + "]";
  }
}
