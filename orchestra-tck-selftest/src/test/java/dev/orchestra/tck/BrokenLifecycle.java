package dev.orchestra.tck;

import static dev.orchestra.tck.BrokenDrivers.containers;
import static dev.orchestra.tck.BrokenDrivers.copyOf;
import static dev.orchestra.tck.BrokenDrivers.pidOf;
import static dev.orchestra.tck.BrokenDrivers.tasks;
import static dev.orchestra.tck.BrokenDrivers.terminateDescendants;

import dev.orchestra.Container;
import dev.orchestra.ContainerNotFoundException;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.ExitReason;
import dev.orchestra.OrchestraException;
import dev.orchestra.Sandbox;
import dev.orchestra.Task;
import dev.orchestra.tck.BrokenDrivers.BrokenTck;
import dev.orchestra.tck.BrokenDrivers.Option;
import dev.orchestra.tck.ForwardingDriver.ForwardingContainer;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Broken drivers of the end of tasks and drivers: cleanup, close, stop and timeouts. Each is a
 * {@link DriverTck} run against a wrapper of the local driver that breaks one rule, as a driver
 * author could; {@link DriverTckSelfTest#proofs()} states what each fails.
 */
final class BrokenLifecycle {

  private BrokenLifecycle() {}

  /** Container.cleanup() does nothing: the task runs on and its id stays taken. */
  static final class CleanupNoOp extends BrokenTck {
    CleanupNoOp() {
      super(
          containers(
              c ->
                  new ForwardingContainer(c) {
                    @Override
                    public void cleanup() {}
                  }));
    }
  }

  /**
   * A second cleanup() throws ContainerNotFoundException, as a platform answers a second removal.
   */
  static final class CleanupTwiceThrows extends BrokenTck {
    CleanupTwiceThrows() {
      super(
          containers(
              c -> {
                AtomicBoolean removed = new AtomicBoolean();
                return new ForwardingContainer(c) {
                  @Override
                  public void cleanup() {
                    if (!removed.compareAndSet(false, true)) {
                      throw new ContainerNotFoundException(
                          id(), "container " + id() + " was already removed", null);
                    }
                    delegate.cleanup();
                  }
                };
              }));
    }
  }

  /**
   * status() of a removed container throws what the platform answers ("no such container") as a
   * bare OrchestraException, not ContainerNotFoundException.
   */
  static final class StatusAfterCleanupFails extends BrokenTck {
    StatusAfterCleanupFails() {
      super(
          containers(
              c -> {
                AtomicBoolean removed = new AtomicBoolean();
                return new ForwardingContainer(c) {
                  @Override
                  public void cleanup() {
                    delegate.cleanup();
                    removed.set(true);
                  }

                  @Override
                  public ContainerStatus status() {
                    if (removed.get()) {
                      throw new OrchestraException("no such container: " + id());
                    }
                    return delegate.status();
                  }
                };
              }));
    }
  }

  /** logs() of a removed container reads the log files cleanup() deleted: UncheckedIOException. */
  static final class LogsAfterCleanupFails extends BrokenTck {
    LogsAfterCleanupFails() {
      super(
          containers(
              c -> {
                AtomicBoolean removed = new AtomicBoolean();
                return new ForwardingContainer(c) {
                  @Override
                  public void cleanup() {
                    delegate.cleanup();
                    removed.set(true);
                  }

                  @Override
                  public void logs(OutputStream stdout, OutputStream stderr) {
                    if (removed.get()) {
                      throw new UncheckedIOException(new NoSuchFileException(id() + "/stdout.log"));
                    }
                    delegate.logs(stdout, stderr);
                  }
                };
              }));
    }
  }

  /** close() does nothing. */
  static final class CloseNoOp extends BrokenTck {
    CloseNoOp() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public void close() {}
              });
    }
  }

  /** close() also closes every namespace whose name starts with its own. */
  static final class ClosePrefixMatching extends BrokenTck {
    private static final Map<String, List<Driver>> BY_NAMESPACE = new ConcurrentHashMap<>();

    ClosePrefixMatching() {
      super(
          (ns, real) -> {
            BY_NAMESPACE.computeIfAbsent(ns, k -> new CopyOnWriteArrayList<>()).add(real);
            return new ForwardingDriver(real) {
              @Override
              public void close() {
                BY_NAMESPACE.forEach(
                    (other, drivers) -> {
                      if (other.startsWith(ns)) {
                        drivers.forEach(Driver::close);
                      }
                    });
              }
            };
          });
    }
  }

  /** A second close() throws IllegalStateException, as every other call of a closed driver does. */
  static final class CloseTwiceThrows extends BrokenTck {
    CloseTwiceThrows() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                private final AtomicBoolean closed = new AtomicBoolean();

                @Override
                public void close() {
                  if (!closed.compareAndSet(false, true)) {
                    throw new IllegalStateException(
                        "driver of namespace " + ns + " already closed");
                  }
                  super.close();
                }
              });
    }
  }

  /** stop() sends SIGTERM and then waits a day: a task that ignores SIGTERM is never killed. */
  static final class StopNeverKills extends BrokenTck {
    StopNeverKills() {
      super(
          containers(
              c ->
                  new ForwardingContainer(c) {
                    @Override
                    public ContainerStatus stop(Duration grace) {
                      return delegate.stop(Duration.ofDays(1));
                    }
                  }));
    }
  }

  /** stop() kills at once, whatever the grace: a task gets no chance to end by itself. */
  static final class StopKillsAtOnce extends BrokenTck {
    StopKillsAtOnce() {
      super(
          containers(
              c ->
                  new ForwardingContainer(c) {
                    @Override
                    public ContainerStatus stop(Duration grace) {
                      return delegate.stop(Duration.ZERO);
                    }
                  }));
    }
  }

  /**
   * stop() sends SIGTERM to the task's descendants before the task's own process: a shell waiting
   * for a background child sees it end and exits 0 before its own trap can run.
   */
  static final class StopSignalsChildrenFirst extends BrokenTck {
    StopSignalsChildrenFirst() {
      super(
          containers(
              c ->
                  new ForwardingContainer(c) {
                    @Override
                    public ContainerStatus stop(Duration grace) {
                      terminateDescendants(delegate);
                      return delegate.stop(grace);
                    }
                  }));
    }
  }

  /**
   * stop() signals the task's own process only, not the whole tree: a background child lives on.
   * Otherwise it stops as it should (SIGKILL after the grace, STOPPED). (The children it leaves are
   * killed when the driver is closed.)
   */
  static final class StopMainProcessOnly extends BrokenTck {
    StopMainProcessOnly() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                private final List<ProcessHandle> orphans = new CopyOnWriteArrayList<>();

                @Override
                Container wrap(Container c) {
                  AtomicBoolean asked = new AtomicBoolean();
                  return new ForwardingContainer(c) {
                    @Override
                    public ContainerStatus status() {
                      return stopped(delegate.status());
                    }

                    @Override
                    public ContainerStatus stop(Duration grace) {
                      Optional<ProcessHandle> task = ProcessHandle.of(pidOf(delegate));
                      if (grace == null
                          || grace.isNegative()
                          || task.isEmpty()
                          || delegate.status().isDone()) {
                        return stopped(delegate.stop(grace));
                      }
                      orphans.addAll(task.get().descendants().toList());
                      asked.set(true);
                      task.get().destroy();
                      ContainerStatus s = delegate.await(grace);
                      if (!s.isDone()) {
                        task.get().destroyForcibly();
                        s = delegate.await(Duration.ofSeconds(30));
                      }
                      return stopped(s);
                    }

                    private ContainerStatus stopped(ContainerStatus s) {
                      return asked.get() && s.isDone()
                          ? ContainerStatus.done(s.exitCode(), ExitReason.STOPPED)
                          : s;
                    }
                  };
                }

                @Override
                public void close() {
                  orphans.forEach(ProcessHandle::destroyForcibly);
                  super.close();
                }
              });
    }
  }

  /** A stopped task reads as one that exited by itself (or was signaled): the reason is lost. */
  static final class StopReasonLost extends BrokenTck {
    StopReasonLost() {
      super(
          containers(
              c ->
                  new ForwardingContainer(c) {
                    @Override
                    public ContainerStatus status() {
                      return codeOnly(delegate.status());
                    }

                    @Override
                    public ContainerStatus stop(Duration grace) {
                      return codeOnly(delegate.stop(grace));
                    }
                  }));
    }

    private static ContainerStatus codeOnly(ContainerStatus s) {
      return s.isDone() ? ContainerStatus.exited(s.exitCode()) : s;
    }
  }

  /** stop() removes the container too: the logs are gone. */
  static final class StopRemoves extends BrokenTck {
    StopRemoves() {
      super(
          containers(
              c ->
                  new ForwardingContainer(c) {
                    @Override
                    public ContainerStatus stop(Duration grace) {
                      ContainerStatus s = delegate.stop(grace);
                      delegate.cleanup();
                      return s;
                    }
                  }));
    }
  }

  /** stop() of a task that had already finished reports it as stopped. */
  static final class StopRelabelsFinished extends BrokenTck {
    StopRelabelsFinished() {
      super(
          containers(
              c ->
                  new ForwardingContainer(c) {
                    @Override
                    public ContainerStatus stop(Duration grace) {
                      ContainerStatus s = delegate.stop(grace);
                      return ContainerStatus.done(s.exitCode(), ExitReason.STOPPED);
                    }
                  }));
    }
  }

  /** A negative or null grace is taken as zero: the task is killed at once instead of refused. */
  static final class NegativeGraceIsZero extends BrokenTck {
    NegativeGraceIsZero() {
      super(
          containers(
              c ->
                  new ForwardingContainer(c) {
                    @Override
                    public ContainerStatus stop(Duration grace) {
                      return delegate.stop(
                          grace == null || grace.isNegative() ? Duration.ZERO : grace);
                    }
                  }));
    }
  }

  /** The task's timeout is dropped: it runs as long as it likes. */
  static final class TimeoutIgnored extends BrokenTck {
    TimeoutIgnored() {
      super(tasks(task -> copyOf(task, Option.TIMEOUT).build()));
    }
  }

  /**
   * A task with a timeout reads TIMED_OUT once its timeout has passed, also when it had ended by
   * itself before: the timer is not cancelled at exit.
   */
  static final class TimeoutRelabelsFinished extends BrokenTck {
    TimeoutRelabelsFinished() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Container runContainer(Task task) {
                  Container c = super.runContainer(task);
                  if (task.timeout().filter(t -> t.compareTo(Duration.ofDays(1)) < 0).isEmpty()) {
                    return c;
                  }
                  long deadline = System.nanoTime() + task.timeout().get().toNanos();
                  return new ForwardingContainer(c) {
                    @Override
                    public ContainerStatus status() {
                      ContainerStatus s = delegate.status();
                      return s.isDone() && System.nanoTime() - deadline > 0
                          ? ContainerStatus.done(s.exitCode(), ExitReason.TIMED_OUT)
                          : s;
                    }
                  };
                }
              });
    }
  }

  /**
   * At a task's timeout, its descendants are signalled before its own process (as {@link
   * StopSignalsChildrenFirst} does on stop()): a shell waiting for a background child sees it end
   * and exits 0 before its trap can run.
   */
  static final class TimeoutSignalsChildrenFirst extends BrokenTck {
    private static final ScheduledExecutorService TIMER =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "timeout-signals-children-first");
              t.setDaemon(true);
              return t;
            });

    TimeoutSignalsChildrenFirst() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Container runContainer(Task task) {
                  Container c = super.runContainer(task);
                  task.timeout()
                      .filter(t -> t.compareTo(Duration.ofHours(1)) < 0)
                      .ifPresent(
                          t ->
                              TIMER.schedule(
                                  () -> terminateDescendants(c),
                                  t.toMillis() - 300,
                                  TimeUnit.MILLISECONDS));
                  return c;
                }
              });
    }
  }

  /**
   * Every duration the caller gives (await timeout, stop grace, task and step timeout) is counted
   * in nanoseconds with {@link Duration#toNanos()}, which overflows for "no limit".
   */
  static final class DurationsOverflow extends BrokenTck {
    DurationsOverflow() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Container runContainer(Task task) {
                  task.timeout().ifPresent(Duration::toNanos);
                  return super.runContainer(task);
                }

                @Override
                Sandbox wrap(Sandbox sandbox) {
                  return new ForwardingSandbox(sandbox) {
                    @Override
                    public Container exec(Task step) {
                      step.timeout().ifPresent(Duration::toNanos);
                      return super.exec(step);
                    }
                  };
                }

                @Override
                Container wrap(Container c) {
                  return new ForwardingContainer(c) {
                    @Override
                    public ContainerStatus await(Duration timeout) {
                      if (timeout != null) {
                        timeout.toNanos();
                      }
                      return delegate.await(timeout);
                    }

                    @Override
                    public ContainerStatus stop(Duration grace) {
                      if (grace != null) {
                        grace.toNanos();
                      }
                      return delegate.stop(grace);
                    }
                  };
                }
              });
    }
  }
}
