package dev.orchestra.tck;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.ExitReason;
import dev.orchestra.Orchestra;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.Task;
import dev.orchestra.Volume;
import dev.orchestra.spi.Names;
import dev.orchestra.tck.ForwardingDriver.ForwardingContainer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * The local driver, correct and deliberately broken, as test classes of both kits for the
 * self-test: the kit classes every broken driver extends, the helpers they share, the correct
 * wrappers, and the broken drivers of the reliability kit.
 *
 * <p>Each broken driver wraps the local driver in a decorator that breaks one rule of the contract,
 * as a driver author could; {@link Proof} states which tests it fails and why. The broken drivers
 * of {@link DriverTck} are grouped by what they break: {@link BrokenStatus} (exit codes, reasons,
 * waiting), {@link BrokenOutput} (command, logs, follow, stdin, environment), {@link
 * BrokenLifecycle} (cleanup, close, stop, timeouts), {@link BrokenStorage} (task directory, mounts,
 * volumes), {@link BrokenIdentity} (names, ids, idempotency, find, capabilities) and {@link
 * BrokenSandboxes}. The classes are nested and their holders are not named like tests, so the
 * build's own test run does not pick them up.
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

  /**
   * The local driver with its containers (of tasks, sandboxes and steps) made by {@code wrapper}.
   */
  static Breaker containers(UnaryOperator<Container> wrapper) {
    return (ns, real) ->
        new ForwardingDriver(real) {
          @Override
          Container wrap(Container c) {
            return wrapper.apply(c);
          }
        };
  }

  /** The local driver with each status() of its containers changed by {@code change}. */
  static Breaker statuses(UnaryOperator<ContainerStatus> change) {
    return containers(
        c ->
            new ForwardingContainer(c) {
              @Override
              public ContainerStatus status() {
                return change.apply(delegate.status());
              }
            });
  }

  /** The local driver with each task runContainer is given changed by {@code change} first. */
  static Breaker tasks(UnaryOperator<Task> change) {
    return (ns, real) ->
        new ForwardingDriver(real) {
          @Override
          public Container runContainer(Task task) {
            return super.runContainer(change.apply(task));
          }
        };
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

  /** A status as a broken driver makes it up: done or not, an exit code and a reason. */
  record Status(boolean isDone, int exitCode, ExitReason reason) implements ContainerStatus {}

  /** The options of a task that {@link #copyOf} can leave out. */
  enum Option {
    IMAGE,
    MOUNTS,
    LIMITS,
    PRIVILEGED,
    STDIN,
    TIMEOUT
  }

  /** A builder of the same task without the given options: a broken driver that drops them. */
  static Task.Builder copyOf(Task task, Option... without) {
    Set<Option> dropped = EnumSet.noneOf(Option.class);
    dropped.addAll(List.of(without));
    Task.Builder b = Task.builder().id(task.id()).command(task.command()).env(task.env());
    task.user().ifPresent(b::user);
    task.workDir().ifPresent(b::workDir);
    if (!dropped.contains(Option.IMAGE)) {
      task.image().ifPresent(b::image);
    }
    if (!dropped.contains(Option.MOUNTS)) {
      b.mounts(task.mounts());
    }
    if (!dropped.contains(Option.LIMITS)) {
      b.limits(task.limits());
    }
    if (!dropped.contains(Option.PRIVILEGED)) {
      b.privileged(task.privileged());
    }
    if (!dropped.contains(Option.STDIN)) {
      task.stdin().ifPresent(b::stdin);
    }
    if (!dropped.contains(Option.TIMEOUT)) {
      task.timeout().ifPresent(b::timeout);
    }
    return b;
  }

  /** The process id of the local driver's container or step: its id ends with it. */
  static long pidOf(Container c) {
    String id = c.id();
    return Long.parseLong(id.substring(id.lastIndexOf('-') + 1));
  }

  /** Sends SIGTERM to every descendant of the container's own process, but not to the process. */
  static void terminateDescendants(Container c) {
    ProcessHandle.of(pidOf(c)).ifPresent(p -> p.descendants().forEach(ProcessHandle::destroy));
  }

  /** Holds bytes back until a newline arrives; what follows the last newline never leaves. */
  static final class WholeLines extends OutputStream {
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
