package dev.orchestra.tck;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.Mount;
import dev.orchestra.Orchestra;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.Task;
import dev.orchestra.Volume;
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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * The local driver, correct and deliberately broken, as TCK test classes for the self-test.
 *
 * <p>Each class wraps the local driver in a decorator that breaks one rule of the contract. The
 * self-test runs the relevant TCK group against it and expects failures. The classes are nested and
 * their holder is not named like a test, so the build's own test run does not pick them up.
 */
final class BrokenDrivers {

  private BrokenDrivers() {}

  /** Makes the driver under test from a real local driver of the namespace. */
  @FunctionalInterface
  interface Breaker {
    Driver wrap(String namespace, Driver real);
  }

  /**
   * The TCK run against a (broken) wrapper of the local driver, with short waits so that a broken
   * driver fails fast.
   */
  abstract static class BrokenTck extends DriverTck {

    private static final Map<Class<?>, List<Driver>> REAL = new ConcurrentHashMap<>();

    private final Breaker breaker;

    BrokenTck(Breaker breaker) {
      this.breaker = breaker;
    }

    @Override
    protected Driver newDriver(String namespace) {
      Driver real = Orchestra.open("local", namespace);
      REAL.computeIfAbsent(getClass(), c -> new CopyOnWriteArrayList<>()).add(real);
      return breaker.wrap(namespace, real);
    }

    @Override
    protected Duration awaitTimeout() {
      return Duration.ofSeconds(15);
    }

    @Override
    protected Duration testTimeout() {
      return Duration.ofSeconds(90);
    }

    /** Closes every real driver a run of this class opened: broken ones may not have. */
    static void closeRealDrivers(Class<? extends BrokenTck> tck) {
      List<Driver> drivers = REAL.remove(tck);
      if (drivers != null) {
        drivers.forEach(Driver::close);
      }
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
  static final class FoldingIds extends BrokenTck {
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
  static final class VolumeEscape extends BrokenTck {
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
  static final class InterruptSwallowed extends BrokenTck {
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
