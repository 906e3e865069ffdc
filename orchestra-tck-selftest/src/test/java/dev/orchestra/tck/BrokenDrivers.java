package dev.orchestra.tck;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.ExitReason;
import dev.orchestra.Mount;
import dev.orchestra.Orchestra;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.Sandbox;
import dev.orchestra.Task;
import dev.orchestra.Volume;
import dev.orchestra.spi.Names;
import dev.orchestra.spi.Steps;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * The local driver, correct and deliberately broken, as test classes of both kits for the
 * self-test.
 *
 * <p>Each class wraps the local driver in a decorator that breaks one rule of the contract. The
 * self-test runs the relevant group of its kit against it and expects failures. The classes are
 * nested and their holder is not named like a test, so the build's own test run does not pick them
 * up.
 */
final class BrokenDrivers {

  /** How long a broken driver's waits may take: short, so that it fails fast. */
  private static final Duration AWAIT = Duration.ofSeconds(15);

  /** How long a test of a broken driver may take. */
  private static final Duration TEST = Duration.ofSeconds(90);

  /** The real local drivers a run of each kit class opened, for {@link #closeRealDrivers}. */
  private static final Map<Class<?>, List<Driver>> REAL = new ConcurrentHashMap<>();

  private BrokenDrivers() {}

  /** Makes the driver under test from a real local driver of the namespace. */
  @FunctionalInterface
  interface Breaker {
    Driver wrap(String namespace, Driver real);
  }

  /** Opens a real local driver that {@link #closeRealDrivers} closes after a run of the class. */
  static Driver openReal(
      Class<? extends KitBase> kit, String namespace, Map<String, String> params) {
    Driver real = Orchestra.open("local", namespace, params);
    REAL.computeIfAbsent(kit, c -> new CopyOnWriteArrayList<>()).add(real);
    return real;
  }

  /** Closes every real driver a run of this class opened: broken ones may not have. */
  static void closeRealDrivers(Class<? extends KitBase> kit) {
    List<Driver> drivers = REAL.remove(kit);
    if (drivers != null) {
      drivers.forEach(Driver::close);
    }
  }

  /**
   * The TCK run against a (broken) wrapper of the local driver, with short waits so that a broken
   * driver fails fast.
   */
  abstract static class BrokenTck extends DriverTck {

    private final Breaker breaker;

    BrokenTck(Breaker breaker) {
      this.breaker = breaker;
    }

    @Override
    protected Driver newDriver(String namespace) {
      return breaker.wrap(namespace, openReal(getClass(), namespace, Map.of()));
    }

    @Override
    protected Duration awaitTimeout() {
      return AWAIT;
    }

    @Override
    protected Duration testTimeout() {
      return TEST;
    }
  }

  /**
   * The reliability kit run against a (broken) wrapper of the local driver, with short waits, in a
   * root directory of its own: what is left of a namespace is what is left in its directory there.
   */
  abstract static class BrokenReliabilityTck extends ReliabilityTck {

    private static final Path ROOT = createRoot();

    private final Breaker breaker;

    BrokenReliabilityTck(Breaker breaker) {
      this.breaker = breaker;
    }

    private static Path createRoot() {
      try {
        Path root = Files.createTempDirectory("orchestra-tck-selftest-").toRealPath();
        root.toFile().deleteOnExit();
        return root;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    protected Driver newDriver(String namespace) {
      return breaker.wrap(
          namespace, openReal(getClass(), namespace, Map.of("root", ROOT.toString())));
    }

    @Override
    protected List<String> leftovers(String namespace) {
      Path dir = ROOT.resolve(Names.safe(namespace));
      if (!Files.exists(dir)) {
        return List.of();
      }
      try (Stream<Path> files = Files.walk(dir)) {
        return files.limit(20).map(p -> "file " + p).toList();
      } catch (IOException e) {
        return List.of("directory " + dir + " (unreadable: " + e + ")");
      }
    }

    @Override
    protected Set<Path> driverAreas() {
      return Set.of(ROOT);
    }

    @Override
    protected Duration awaitTimeout() {
      return AWAIT;
    }

    @Override
    protected Duration testTimeout() {
      return TEST;
    }
  }

  /** The reliability kit against the local driver behind a decorator that changes nothing. */
  static final class CorrectReliability extends BrokenReliabilityTck {
    CorrectReliability() {
      super((ns, real) -> new ForwardingDriver(real));
    }
  }

  /** The local driver behind a decorator that changes nothing: it must pass. */
  static final class Correct extends BrokenTck {
    Correct() {
      super((ns, real) -> new ForwardingDriver(real));
    }
  }

  /** Every finished task reads exit code 0. */
  static final class ExitCodeAlwaysZero extends BrokenTck {
    ExitCodeAlwaysZero() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Container wrap(Container c) {
                  return new ForwardingContainer(c) {
                    @Override
                    public ContainerStatus status() {
                      return delegate.status().isDone()
                          ? ContainerStatus.exited(0)
                          : delegate.status();
                    }
                  };
                }
              });
    }
  }

  /** No task is ever done. */
  static final class StatusNeverDone extends BrokenTck {
    StatusNeverDone() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Container wrap(Container c) {
                  return new ForwardingContainer(c) {
                    @Override
                    public ContainerStatus status() {
                      delegate.status();
                      return ContainerStatus.running();
                    }
                  };
                }
              });
    }
  }

  /** A finished task reads running again on every other poll: the status is not kept. */
  static final class StatusFlickers extends BrokenTck {
    StatusFlickers() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Container wrap(Container c) {
                  AtomicInteger polls = new AtomicInteger();
                  return new ForwardingContainer(c) {
                    @Override
                    public ContainerStatus status() {
                      ContainerStatus s = delegate.status();
                      return s.isDone() && polls.incrementAndGet() % 2 == 0
                          ? ContainerStatus.running()
                          : s;
                    }
                  };
                }
              });
    }
  }

  /** stdout goes to the stderr stream and the other way round. */
  static final class LogsSwapped extends BrokenTck {
    LogsSwapped() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Container wrap(Container c) {
                  return new ForwardingContainer(c) {
                    @Override
                    public void logs(OutputStream stdout, OutputStream stderr) {
                      delegate.logs(stderr, stdout);
                    }
                  };
                }
              });
    }
  }

  /** The last byte of each stream is lost. */
  static final class LogsDropLastByte extends BrokenTck {
    LogsDropLastByte() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Container wrap(Container c) {
                  return new ForwardingContainer(c) {
                    @Override
                    public void logs(OutputStream stdout, OutputStream stderr) {
                      ByteArrayOutputStream out = new ByteArrayOutputStream();
                      ByteArrayOutputStream err = new ByteArrayOutputStream();
                      delegate.logs(out, err);
                      try {
                        stdout.write(out.toByteArray(), 0, Math.max(0, out.size() - 1));
                        stderr.write(err.toByteArray(), 0, Math.max(0, err.size() - 1));
                      } catch (IOException e) {
                        throw new UncheckedIOException(e);
                      }
                    }
                  };
                }
              });
    }
  }

  /** Logs are empty until the task has finished. */
  static final class LogsOnlyAfterExit extends BrokenTck {
    LogsOnlyAfterExit() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Container wrap(Container c) {
                  return new ForwardingContainer(c) {
                    @Override
                    public void logs(OutputStream stdout, OutputStream stderr) {
                      if (delegate.status().isDone()) {
                        delegate.logs(stdout, stderr);
                      }
                    }
                  };
                }
              });
    }
  }

  /** The caller's marker variable is passed on to every task. */
  static final class EnvLeaksCaller extends BrokenTck {
    EnvLeaksCaller() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Container runContainer(Task task) {
                  String marker = System.getenv(DriverTck.CALLER_MARKER);
                  return super.runContainer(
                      marker == null
                          ? task
                          : task.toBuilder().env(DriverTck.CALLER_MARKER, marker).build());
                }
              });
    }
  }

  /** Variables with an empty value are dropped. */
  static final class EnvDropsEmpty extends BrokenTck {
    EnvDropsEmpty() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Container runContainer(Task task) {
                  Map<String, String> kept = new LinkedHashMap<>(task.env());
                  kept.values().removeIf(String::isEmpty);
                  Task.Builder b = Task.builder().id(task.id()).command(task.command()).env(kept);
                  task.mounts().forEach(m -> b.mount(m.name(), m.path()));
                  task.workDir().ifPresent(b::workDir);
                  task.stdin().ifPresent(b::stdin);
                  return super.runContainer(b.build());
                }
              });
    }
  }

  /** The task's input is replaced by no input at all. */
  static final class StdinDropped extends BrokenTck {
    StdinDropped() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Container runContainer(Task task) {
                  return super.runContainer(task.toBuilder().stdin(new byte[0]).build());
                }
              });
    }
  }

  /** Each call of runContainer starts a new run under a new id. */
  static final class NotIdempotent extends BrokenTck {
    NotIdempotent() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                private final AtomicInteger calls = new AtomicInteger();

                @Override
                public Container runContainer(Task task) {
                  String id = task.id() + "#" + calls.incrementAndGet();
                  return super.runContainer(task.toBuilder().id(id).build());
                }
              });
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

  /** Volume.cleanup() does nothing. */
  static final class VolumeCleanupNoOp extends BrokenTck {
    VolumeCleanupNoOp() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Volume wrap(Volume v) {
                  return new ForwardingVolume(v) {
                    @Override
                    public void cleanup() {}
                  };
                }
              });
    }
  }

  /** Volume.name() answers the platform's name rather than the caller's. */
  static final class VolumePlatformName extends BrokenTck {
    VolumePlatformName() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Volume wrap(Volume v) {
                  return new ForwardingVolume(v) {
                    @Override
                    public String name() {
                      return ns + "-" + delegate.name();
                    }
                  };
                }
              });
    }
  }

  /** Container.cleanup() does nothing: the task runs on and its id stays taken. */
  static final class CleanupNoOp extends BrokenTck {
    CleanupNoOp() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Container wrap(Container c) {
                  return new ForwardingContainer(c) {
                    @Override
                    public void cleanup() {}
                  };
                }
              });
    }
  }

  /** Task ids are folded to lower-case letters, digits and '-': different ids collide. */
  static final class FoldingIds extends BrokenReliabilityTck {
    FoldingIds() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Container runContainer(Task task) {
                  String folded = task.id().toLowerCase().replaceAll("[^a-z0-9]", "-");
                  return super.runContainer(task.toBuilder().id(folded).build());
                }
              });
    }
  }

  /**
   * Volume names are joined to a directory path unchecked, so {@code ../../x} lands in the
   * temporary directory. What it creates, it deletes on close.
   */
  static final class VolumeEscape extends BrokenReliabilityTck {
    VolumeEscape() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                private final List<Path> created = new CopyOnWriteArrayList<>();

                @Override
                public Volume createVolume(String name, long sizeBytes) {
                  if (!name.contains("..")) {
                    return super.createVolume(name, sizeBytes);
                  }
                  Path area = Path.of(System.getProperty("java.io.tmpdir"), ns, "volumes");
                  Path dir = area.resolve(name).normalize();
                  try {
                    Files.createDirectories(dir);
                  } catch (IOException e) {
                    throw new UncheckedIOException(e);
                  }
                  created.add(dir);
                  created.add(Path.of(System.getProperty("java.io.tmpdir"), ns));
                  return new Volume() {
                    @Override
                    public String name() {
                      return name;
                    }

                    @Override
                    public void cleanup() {}
                  };
                }

                @Override
                public void close() {
                  for (Path p : created) {
                    deleteTree(p);
                  }
                  super.close();
                }
              });
    }
  }

  /** The workDir is ignored: tasks always start in their task directory. */
  static final class WorkDirIgnored extends BrokenTck {
    WorkDirIgnored() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Container runContainer(Task task) {
                  return super.runContainer(task.toBuilder().workDir(".").build());
                }
              });
    }
  }

  /** A mount path starting with '/' reaches another volume than the same path without it. */
  static final class AbsoluteMountElsewhere extends BrokenTck {
    AbsoluteMountElsewhere() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Container runContainer(Task task) {
                  List<Mount> mounts = new ArrayList<>();
                  for (Mount m : task.mounts()) {
                    mounts.add(
                        m.path().startsWith("/") ? new Mount(m.name() + "-abs", m.path()) : m);
                  }
                  return super.runContainer(task.toBuilder().mounts(mounts).build());
                }
              });
    }
  }

  /** status() clears the caller's interrupt flag. */
  static final class InterruptSwallowed extends BrokenReliabilityTck {
    InterruptSwallowed() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Container wrap(Container c) {
                  return new ForwardingContainer(c) {
                    @Override
                    public ContainerStatus status() {
                      Thread.interrupted();
                      return delegate.status();
                    }
                  };
                }
              });
    }
  }

  /** Declares every capability, though the local driver honours none of them. */
  static final class CapabilitiesOverclaimed extends BrokenTck {
    CapabilitiesOverclaimed() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Set<Capability> capabilities() {
                  return EnumSet.allOf(Capability.class);
                }
              });
    }
  }

  /** Declares no capability at all, whatever the local driver offers. */
  static final class NoCapabilities extends BrokenTck {
    NoCapabilities() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Set<Capability> capabilities() {
                  return Set.of();
                }
              });
    }
  }

  /** status() blocks until interrupted: only the TCK's per-test timeout ends the test. */
  static final class StatusHangs extends BrokenTck {
    StatusHangs() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Container wrap(Container c) {
                  return new ForwardingContainer(c) {
                    @Override
                    public ContainerStatus status() {
                      try {
                        Thread.sleep(Long.MAX_VALUE);
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new OrchestraInterruptedException("status() was interrupted", e);
                      }
                      throw new AssertionError("unreachable");
                    }
                  };
                }
              });
    }

    @Override
    protected Duration awaitTimeout() {
      return Duration.ofMinutes(5);
    }

    @Override
    protected Duration testTimeout() {
      return Duration.ofSeconds(3);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The task lifecycle
  // ---------------------------------------------------------------------------------------------

  /** follow() waits for the task to end, then writes the logs: nothing arrives live. */
  static final class FollowOnlyAfterExit extends BrokenTck {
    FollowOnlyAfterExit() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Container wrap(Container c) {
                  return new ForwardingContainer(c) {
                    @Override
                    public void follow(OutputStream stdout, OutputStream stderr) {
                      delegate.await(Duration.ofDays(1));
                      delegate.logs(stdout, stderr);
                    }
                  };
                }
              });
    }
  }

  /** follow() writes what there is so far and returns at once, as logs() does. */
  static final class FollowReturnsAtOnce extends BrokenTck {
    FollowReturnsAtOnce() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Container wrap(Container c) {
                  return new ForwardingContainer(c) {
                    @Override
                    public void follow(OutputStream stdout, OutputStream stderr) {
                      delegate.logs(stdout, stderr);
                    }
                  };
                }
              });
    }
  }

  /** follow() passes on whole lines only: a last line without newline is lost at exit. */
  static final class FollowDropsPartialLastLine extends BrokenTck {
    FollowDropsPartialLastLine() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Container wrap(Container c) {
                  return new ForwardingContainer(c) {
                    @Override
                    public void follow(OutputStream stdout, OutputStream stderr) {
                      delegate.follow(new WholeLines(stdout), new WholeLines(stderr));
                    }
                  };
                }
              });
    }

    /** Holds bytes back until a newline arrives; what follows the last newline never leaves. */
    private static final class WholeLines extends OutputStream {
      private final OutputStream target;
      private final ByteArrayOutputStream line = new ByteArrayOutputStream();

      WholeLines(OutputStream target) {
        this.target = target;
      }

      @Override
      public synchronized void write(int b) throws IOException {
        line.write(b);
        if (b == '\n') {
          line.writeTo(target);
          line.reset();
        }
      }
    }
  }

  /** follow() never returns by itself, even once the task has ended; an interrupt ends it. */
  static final class FollowNeverReturns extends BrokenTck {
    FollowNeverReturns() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Container wrap(Container c) {
                  return new ForwardingContainer(c) {
                    @Override
                    public void follow(OutputStream stdout, OutputStream stderr) {
                      delegate.follow(stdout, stderr);
                      try {
                        new CountDownLatch(1).await();
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new OrchestraInterruptedException("follow() was interrupted", e);
                      }
                    }
                  };
                }
              });
    }
  }

  /** An interrupted follow() returns quietly and clears the interrupt flag. */
  static final class FollowSwallowsInterrupt extends BrokenTck {
    FollowSwallowsInterrupt() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Container wrap(Container c) {
                  return new ForwardingContainer(c) {
                    @Override
                    public void follow(OutputStream stdout, OutputStream stderr) {
                      try {
                        delegate.follow(stdout, stderr);
                      } catch (OrchestraInterruptedException e) {
                        Thread.interrupted();
                      }
                    }
                  };
                }
              });
    }
  }

  /** await() does not wait: it returns the current status at once. */
  static final class AwaitReturnsAtOnce extends BrokenTck {
    AwaitReturnsAtOnce() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Container wrap(Container c) {
                  return new ForwardingContainer(c) {
                    @Override
                    public ContainerStatus await(Duration timeout) {
                      return delegate.status();
                    }
                  };
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

  /** onExit() returns a future nobody ever completes. */
  static final class OnExitNeverCompletes extends BrokenTck {
    OnExitNeverCompletes() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Container wrap(Container c) {
                  return new ForwardingContainer(c) {
                    @Override
                    public CompletableFuture<ContainerStatus> onExit() {
                      return new CompletableFuture<>();
                    }
                  };
                }
              });
    }
  }

  /** stop() sends SIGTERM and then waits a day: a task that ignores SIGTERM is never killed. */
  static final class StopNeverKills extends BrokenTck {
    StopNeverKills() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Container wrap(Container c) {
                  return new ForwardingContainer(c) {
                    @Override
                    public ContainerStatus stop(Duration grace) {
                      return delegate.stop(Duration.ofDays(1));
                    }
                  };
                }
              });
    }
  }

  /** stop() kills at once, whatever the grace: a task gets no chance to end by itself. */
  static final class StopKillsAtOnce extends BrokenTck {
    StopKillsAtOnce() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Container wrap(Container c) {
                  return new ForwardingContainer(c) {
                    @Override
                    public ContainerStatus stop(Duration grace) {
                      return delegate.stop(Duration.ZERO);
                    }
                  };
                }
              });
    }
  }

  /**
   * stop() sends SIGTERM to the task's descendants before the task's own process: a shell waiting
   * for a background child sees it end and exits 0 before its own trap can run.
   */
  static final class StopSignalsChildrenFirst extends BrokenTck {
    StopSignalsChildrenFirst() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Container wrap(Container c) {
                  return new ForwardingContainer(c) {
                    @Override
                    public ContainerStatus stop(Duration grace) {
                      // The local driver's container id ends with the pid of the task's process.
                      long pid = Long.parseLong(id().substring(id().lastIndexOf('-') + 1));
                      ProcessHandle.of(pid)
                          .ifPresent(task -> task.descendants().forEach(ProcessHandle::destroy));
                      return delegate.stop(grace);
                    }
                  };
                }
              });
    }
  }

  /** A stopped task reads as one that exited by itself (or was signaled): the reason is lost. */
  static final class StopReasonLost extends BrokenTck {
    StopReasonLost() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Container wrap(Container c) {
                  return new ForwardingContainer(c) {
                    @Override
                    public ContainerStatus status() {
                      return codeOnly(delegate.status());
                    }

                    @Override
                    public ContainerStatus stop(Duration grace) {
                      return codeOnly(delegate.stop(grace));
                    }
                  };
                }
              });
    }

    private static ContainerStatus codeOnly(ContainerStatus s) {
      return s.isDone() ? ContainerStatus.exited(s.exitCode()) : s;
    }
  }

  /** stop() removes the container too: the logs are gone. */
  static final class StopRemoves extends BrokenTck {
    StopRemoves() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Container wrap(Container c) {
                  return new ForwardingContainer(c) {
                    @Override
                    public ContainerStatus stop(Duration grace) {
                      ContainerStatus s = delegate.stop(grace);
                      delegate.cleanup();
                      return s;
                    }
                  };
                }
              });
    }
  }

  /** stop() of a task that had already finished reports it as stopped. */
  static final class StopRelabelsFinished extends BrokenTck {
    StopRelabelsFinished() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Container wrap(Container c) {
                  return new ForwardingContainer(c) {
                    @Override
                    public ContainerStatus stop(Duration grace) {
                      ContainerStatus s = delegate.stop(grace);
                      return ContainerStatus.done(s.exitCode(), ExitReason.STOPPED);
                    }
                  };
                }
              });
    }
  }

  /** The task's timeout is dropped: it runs as long as it likes. */
  static final class TimeoutIgnored extends BrokenTck {
    TimeoutIgnored() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Container runContainer(Task task) {
                  return super.runContainer(withoutTimeout(task));
                }
              });
    }

    private static Task withoutTimeout(Task task) {
      Task.Builder b =
          Task.builder()
              .id(task.id())
              .command(task.command())
              .env(task.env())
              .mounts(task.mounts())
              .limits(task.limits())
              .privileged(task.privileged());
      task.image().ifPresent(b::image);
      task.user().ifPresent(b::user);
      task.stdin().ifPresent(b::stdin);
      task.workDir().ifPresent(b::workDir);
      return b.build();
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
                  if (task.timeout().isEmpty()) {
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

  /** Every finished task reads EXITED, whatever ended it. */
  static final class ReasonAlwaysExited extends BrokenTck {
    ReasonAlwaysExited() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Container wrap(Container c) {
                  return new ForwardingContainer(c) {
                    @Override
                    public ContainerStatus status() {
                      ContainerStatus s = delegate.status();
                      return s.isDone() ? ContainerStatus.done(s.exitCode(), ExitReason.EXITED) : s;
                    }
                  };
                }
              });
    }
  }

  /** find() never finds anything. */
  static final class FindAlwaysEmpty extends BrokenTck {
    FindAlwaysEmpty() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Optional<Container> find(String taskId) {
                  return Optional.empty();
                }
              });
    }
  }

  /**
   * find() falls back to every container any driver of this class ever started: other namespaces'
   * tasks and cleaned-up ones are found too.
   */
  static final class FindRemembersEverything extends BrokenTck {
    private static final Map<String, Container> EVER = new ConcurrentHashMap<>();

    FindRemembersEverything() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Container runContainer(Task task) {
                  Container c = super.runContainer(task);
                  EVER.put(task.id(), c);
                  return c;
                }

                @Override
                public Optional<Container> find(String taskId) {
                  Optional<Container> found = super.find(taskId);
                  return found.isPresent() ? found : Optional.ofNullable(EVER.get(taskId));
                }
              });
    }
  }

  /** Each step runs as a task of its own, in a fresh directory without the sandbox's env. */
  static final class SandboxStepsApart extends BrokenTck {
    SandboxStepsApart() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Sandbox createSandbox(Task task) {
                  return new ForwardingSandbox(real.createSandbox(task)) {
                    @Override
                    public Container exec(Task step) {
                      Steps.requireStep(step);
                      if (delegate.container().status().isDone()) {
                        throw new IllegalStateException("sandbox " + task.id() + " has ended");
                      }
                      return runContainer(step.toBuilder().id(task.id() + "/" + step.id()).build());
                    }
                  };
                }
              });
    }
  }

  /** Sandbox.close() does nothing. */
  static final class SandboxCloseNoOp extends BrokenTck {
    SandboxCloseNoOp() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Sandbox wrap(Sandbox s) {
                  return new ForwardingSandbox(s) {
                    @Override
                    public void close() {}
                  };
                }
              });
    }
  }

  /** Each exec() starts a new run of the step under a new id. */
  static final class SandboxExecNotIdempotent extends BrokenTck {
    SandboxExecNotIdempotent() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                private final AtomicInteger calls = new AtomicInteger();

                @Override
                Sandbox wrap(Sandbox s) {
                  return new ForwardingSandbox(s) {
                    @Override
                    public Container exec(Task step) {
                      String id = step.id() + "#" + calls.incrementAndGet();
                      return super.exec(step.toBuilder().id(id).build());
                    }
                  };
                }
              });
    }
  }

  /**
   * Sandboxes are made by a driver of their own that close() does not close: they outlive the
   * driver. (The self-test closes every real driver at the end.)
   */
  static final class SandboxesOutliveDriver extends BrokenTck {
    SandboxesOutliveDriver() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                private final Driver keeper =
                    openReal(SandboxesOutliveDriver.class, ns + "-keeper", Map.of());

                @Override
                public Sandbox createSandbox(Task task) {
                  return wrap(keeper.createSandbox(task));
                }
              });
    }
  }

  static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
