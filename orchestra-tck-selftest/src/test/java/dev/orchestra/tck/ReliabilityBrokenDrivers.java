package dev.orchestra.tck;

import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.Mount;
import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.Sandbox;
import dev.orchestra.Task;
import dev.orchestra.Volume;
import dev.orchestra.spi.Exceptions;
import dev.orchestra.spi.Names;
import dev.orchestra.tck.BrokenDrivers.Breaker;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The local driver deliberately broken against the rules of the {@link ReliabilityTck}, as test
 * classes of that kit for {@link ReliabilityTckSelfTest}.
 *
 * <p>Each class wraps the local driver in a decorator with one bug a driver author could make. They
 * all run in one root directory and give the kit every hook it has: what a namespace left (files
 * below its directory and processes working in it), how to remove a task or a volume behind the
 * driver's back (delete its directory, as a disk cleaner would), and, for the drivers that ask a
 * platform's API over TCP first ({@link ApiGuarded}), where that API listens. The holder is not
 * named like a test, so the build's own test run does not pick the classes up.
 */
final class ReliabilityBrokenDrivers {

  /** How long a broken driver's waits may take: short, so that it fails fast. */
  private static final Duration AWAIT = Duration.ofSeconds(15);

  /** How long a test of a broken driver may take. */
  private static final Duration TEST = Duration.ofSeconds(90);

  /** The bound of the unresponsive platform tests. */
  static final Duration API_BOUND = Duration.ofSeconds(4);

  /**
   * How long a guarded driver that bounds its waits waits for each answer of its API: half the
   * bound, which leaves room for the rest of the call on a busy machine.
   */
  static final Duration API_TIMEOUT = API_BOUND.dividedBy(2);

  /**
   * Where every driver of this class keeps its namespaces; made at the first use, so that a JVM
   * that only reads the proofs (the coverage table) makes none.
   */
  private static Path root;

  private ReliabilityBrokenDrivers() {}

  private static synchronized Path root() {
    if (root == null) {
      try {
        root = Files.createTempDirectory("orchestra-reliability-selftest-").toRealPath();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return root;
  }

  /** Deletes the root directory, once every test has checked its namespaces left nothing there. */
  static synchronized void deleteRoot() {
    if (root != null) {
      deleteTree(root);
      root = null;
    }
  }

  /** The directory of a namespace. */
  static Path namespaceDir(String namespace) {
    return root().resolve(Names.safe(namespace));
  }

  /**
   * The directory of a task of the local driver, found from its container: the local driver names a
   * container after its task's directory and its process ({@code <directory>-<pid>}), so this holds
   * for a wrapper that renamed the task too.
   */
  static Path taskRoot(String namespace, Container c) {
    String id = c.id();
    return namespaceDir(namespace).resolve("tasks").resolve(id.substring(0, id.lastIndexOf('-')));
  }

  /**
   * The reliability kit run against a (broken) wrapper of the local driver, with short waits and
   * every hook: leftovers, removal behind the driver's back, its root as its area, and sizes of the
   * load and big output tests that still prove their rules in the self-test's JVM (100 MB of output
   * overflows its heap of 64 MiB; 40 tasks from 4 threads start some tasks from two threads at once
   * and interleave every call).
   */
  abstract static class LocalReliability extends ReliabilityTck {

    private final Breaker breaker;

    LocalReliability(Breaker breaker) {
      this.breaker = breaker;
    }

    @Override
    protected Driver newDriver(String namespace) {
      return breaker.wrap(namespace, openReal(namespace));
    }

    /** A real local driver of the namespace, closed after the run of this class. */
    Driver openReal(String namespace) {
      return BrokenDrivers.openReal(getClass(), namespace, Map.of("root", root().toString()));
    }

    /** The files below the namespace's directory, and the processes working in it. */
    @Override
    protected List<String> leftovers(String namespace) {
      return filesAndProcessesIn(namespaceDir(namespace));
    }

    @Override
    protected void removeContainerBehindDriver(String namespace, String taskId, Container c) {
      deleteTree(taskRoot(namespace, c));
    }

    @Override
    protected void removeVolumeBehindDriver(String namespace, String volumeName) {
      deleteTree(namespaceDir(namespace).resolve("volumes").resolve(Names.safe(volumeName)));
    }

    @Override
    protected Set<Path> driverAreas() {
      return Set.of(root());
    }

    @Override
    protected long bigOutputBytes() {
      return 100_000_000L;
    }

    @Override
    protected int loadTasks() {
      return 40;
    }

    @Override
    protected int loadThreads() {
      return 4;
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

  // ---------------------------------------------------------------------------------------------
  // Leftovers
  // ---------------------------------------------------------------------------------------------

  /**
   * close() saves the list of the volumes it created into the namespace's directory, after it
   * removed that directory: a file is left of every namespace that had a volume.
   */
  static final class CloseSavesVolumeList extends LocalReliability {
    CloseSavesVolumeList() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                private final Set<String> volumes = ConcurrentHashMap.newKeySet();

                @Override
                public Volume createVolume(String name, long sizeBytes) {
                  Volume v = super.createVolume(name, sizeBytes);
                  volumes.add(name);
                  return v;
                }

                @Override
                public void close() {
                  super.close();
                  if (!volumes.isEmpty()) {
                    try {
                      Path list = namespaceDir(ns).resolve("volumes.list");
                      Files.createDirectories(list.getParent());
                      Files.write(list, volumes);
                    } catch (IOException e) {
                      throw new UncheckedIOException(e);
                    }
                  }
                }
              });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // External interference
  // ---------------------------------------------------------------------------------------------

  /**
   * status() waits for the task's exit record, which the platform writes into the task's directory:
   * when the directory was removed behind the driver's back, the record never comes, and status()
   * waits until it is interrupted.
   */
  static final class StatusWaitsForRemovedTask extends LocalReliability {
    StatusWaitsForRemovedTask() {
      super(
          (ns, real) ->
              new RemovalAware(ns, real) {
                @Override
                Container wrap(Container c) {
                  return new TrackedContainer(c) {
                    @Override
                    public ContainerStatus status() {
                      while (removedBehindDriver(this)) {
                        pause(Duration.ofMillis(50), "waiting for the exit record of " + id());
                      }
                      return delegate.status();
                    }
                  };
                }
              });
    }
  }

  /**
   * The file system's exceptions are not translated: a call on a task or volume whose directory was
   * removed behind the driver's back throws an {@link UncheckedIOException} of a {@link
   * NoSuchFileException}, not an {@link OrchestraException}.
   */
  static final class UncheckedWhenRemoved extends LocalReliability {
    UncheckedWhenRemoved() {
      super(
          (ns, real) ->
              new RemovalAware(ns, real) {
                private final Set<String> volumes = ConcurrentHashMap.newKeySet();

                @Override
                void before(String call, Container c) {
                  if (c instanceof TrackedContainer t && removedBehindDriver(t)) {
                    throw new UncheckedIOException(new NoSuchFileException(t.directory.toString()));
                  }
                }

                @Override
                public Volume createVolume(String name, long sizeBytes) {
                  Path dir = namespaceDir(ns).resolve("volumes").resolve(Names.safe(name));
                  if (volumes.contains(name) && !Files.exists(dir)) {
                    throw new UncheckedIOException(new NoSuchFileException(dir.toString()));
                  }
                  Volume v = super.createVolume(name, sizeBytes);
                  volumes.add(name);
                  return v;
                }
              });
    }
  }

  /**
   * A driver that knows which of its tasks' directories it removed itself (by cleanup() or
   * close()), so that its bugs show only for those removed behind its back.
   */
  private static class RemovalAware extends Intercepting {

    final String namespace;
    private volatile boolean closed;

    RemovalAware(String namespace, Driver delegate) {
      super(delegate);
      this.namespace = namespace;
    }

    @Override
    void before(String call, Container container) {}

    @Override
    public void close() {
      closed = true;
      super.close();
    }

    @Override
    Container wrap(Container c) {
      return new TrackedContainer(c);
    }

    boolean removedBehindDriver(TrackedContainer c) {
      return c.hadDirectory && !c.cleaned && !closed && !Files.exists(c.directory);
    }

    /**
     * A container that remembers whether its cleanup() was called. Only a task's directory is
     * watched, not a sandbox step's, which lies elsewhere.
     */
    class TrackedContainer extends InterceptedContainer {

      final Path directory;
      final boolean hadDirectory;
      volatile boolean cleaned;

      TrackedContainer(Container delegate) {
        super(delegate);
        directory = taskRoot(namespace, delegate);
        hadDirectory = Files.exists(directory);
      }

      @Override
      public void cleanup() {
        super.cleanup();
        cleaned = true;
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Interruption
  // ---------------------------------------------------------------------------------------------

  /**
   * Every call first waits its turn at a client-side rate limit, which takes an interrupt for a
   * reason to wait again: the interrupt flag is cleared. await() interrupted returns the status it
   * has, the flag cleared too.
   */
  static final class InterruptCleared extends LocalReliability {
    InterruptCleared() {
      super(
          (ns, real) ->
              new Intercepting(real) {
                @Override
                void before(String call, Container container) {
                  waitTurn();
                }

                @Override
                Container wrap(Container c) {
                  return new InterceptedContainer(c) {
                    @Override
                    public ContainerStatus await(Duration timeout) {
                      try {
                        return super.await(timeout);
                      } catch (OrchestraInterruptedException e) {
                        Thread.interrupted();
                        return delegate.status();
                      }
                    }
                  };
                }
              });
    }

    /** Waits 25 ms, and again after each interrupt. */
    private static void waitTurn() {
      long end = System.nanoTime() + Duration.ofMillis(25).toNanos();
      for (long left; (left = end - System.nanoTime()) > 0; ) {
        try {
          Thread.sleep(Math.max(1, left / 1_000_000));
        } catch (InterruptedException e) {
          // The bug: the interrupt is taken for a reason to wait again, and forgotten.
        }
      }
    }
  }

  /**
   * runContainer() sends a task's stdin in chunks, and checks for an interrupt between them; an
   * interrupted upload throws OrchestraInterruptedException, but leaves the task started with the
   * part of its stdin already sent, and a later runContainer() of the id returns that half-made
   * task.
   */
  static final class HalfMadeWhenInterrupted extends LocalReliability {
    HalfMadeWhenInterrupted() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Container runContainer(Task task) {
                  Optional<InputStream> stdin = task.stdin();
                  if (stdin.isEmpty()) {
                    return super.runContainer(task);
                  }
                  byte[] input;
                  try (InputStream in = stdin.get()) {
                    input = in.readAllBytes();
                  } catch (IOException e) {
                    throw new UncheckedIOException(e);
                  }
                  int chunk = 64 * 1024;
                  for (int sent = 0; sent < input.length; sent += chunk) {
                    if (Thread.interrupted()) {
                      // The platform has the task and the part of its stdin sent so far.
                      try {
                        super.runContainer(
                            task.toBuilder().stdin(Arrays.copyOf(input, sent)).build());
                      } finally {
                        Thread.currentThread().interrupt();
                      }
                      throw new OrchestraInterruptedException(
                          "sending the stdin of " + task.id() + " was interrupted", null);
                    }
                    LockSupport.parkNanos(Duration.ofMillis(5).toNanos());
                  }
                  return super.runContainer(task.toBuilder().stdin(input).build());
                }
              });
    }
  }

  /**
   * close() marks the driver closed first, then stops its tasks after a pause that answers an
   * interrupt; interrupted, it throws OrchestraInterruptedException, and a second close() returns
   * at once, as the driver is closed: the tasks run on and their files stay.
   */
  static final class CloseGivesUpWhenInterrupted extends LocalReliability {
    CloseGivesUpWhenInterrupted() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                private final AtomicBoolean closed = new AtomicBoolean();

                @Override
                public void close() {
                  if (closed.getAndSet(true)) {
                    return;
                  }
                  pause(Duration.ofMillis(200), "closing namespace " + ns);
                  super.close();
                }
              });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Big output
  // ---------------------------------------------------------------------------------------------

  /** logs() reads each log file whole into the heap, then writes it. */
  static final class LogsReadWhole extends LocalReliability {
    LogsReadWhole() {
      super(
          (ns, real) ->
              logsCopiedBy(
                  ns,
                  real,
                  (stdout, stderr, out, err) -> {
                    out.write(Files.readAllBytes(stdout));
                    err.write(Files.readAllBytes(stderr));
                  }));
    }
  }

  /**
   * logs() copies the two log files in turns, one chunk of each per round so that neither holds
   * back the other, through one buffer: stderr's chunk is read into it before stdout's chunk was
   * written out. Only output with both streams is mixed up.
   */
  static final class LogsShareOneBuffer extends LocalReliability {
    LogsShareOneBuffer() {
      super((ns, real) -> logsCopiedBy(ns, real, LogsShareOneBuffer::copyInTurns));
    }

    private static void copyInTurns(Path stdout, Path stderr, OutputStream out, OutputStream err)
        throws IOException {
      try (FileChannel o = FileChannel.open(stdout);
          FileChannel e = FileChannel.open(stderr)) {
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        boolean outDone = false;
        boolean errDone = false;
        while (!outDone || !errDone) {
          int fromOut = 0;
          int fromErr = 0;
          if (!outDone) {
            fromOut = o.read(buffer.clear());
            outDone = fromOut < 0;
          }
          if (!errDone) {
            fromErr = e.read(buffer.clear());
            errDone = fromErr < 0;
          }
          if (fromOut > 0) {
            out.write(buffer.array(), 0, fromOut);
          }
          if (fromErr > 0) {
            err.write(buffer.array(), 0, fromErr);
          }
        }
      }
    }
  }

  /** How a broken driver copies a task's two log files into the caller's streams. */
  @FunctionalInterface
  private interface LogCopy {
    void copy(Path stdout, Path stderr, OutputStream out, OutputStream err) throws IOException;
  }

  /**
   * The local driver with its containers' logs() read from the local driver's log files by {@code
   * copy}; a task whose files are gone is left to the local driver, which says it is not found.
   */
  private static Driver logsCopiedBy(String namespace, Driver real, LogCopy copy) {
    return new ForwardingDriver(real) {
      @Override
      Container wrap(Container c) {
        return new ForwardingContainer(c) {
          @Override
          public void logs(OutputStream stdout, OutputStream stderr) {
            Path dir = taskRoot(namespace, delegate);
            try {
              copy.copy(dir.resolve("stdout"), dir.resolve("stderr"), stdout, stderr);
            } catch (NoSuchFileException e) {
              delegate.logs(stdout, stderr);
            } catch (IOException e) {
              throw Exceptions.launder("copying the logs of " + id(), e);
            }
          }
        };
      }
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Load
  // ---------------------------------------------------------------------------------------------

  /**
   * Gives each run a platform name of its own ({@code <id>#<n>}) and keeps runContainer()
   * idempotent with its own map, looked up and then filled without a lock: two threads that start
   * one new task at once both run it, and get different containers.
   */
  static final class StartRacesItself extends LocalReliability {
    StartRacesItself() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                private final Map<String, Container> started = new ConcurrentHashMap<>();
                private final AtomicInteger runs = new AtomicInteger();

                @Override
                public Container runContainer(Task task) {
                  Container known = started.get(task.id());
                  if (known != null) {
                    return known;
                  }
                  String name = task.id() + "#" + runs.incrementAndGet();
                  Container c = super.runContainer(task.toBuilder().id(name).build());
                  started.put(task.id(), c);
                  return c;
                }

                @Override
                Container wrap(Container c) {
                  return new ForwardingContainer(c) {
                    @Override
                    public void cleanup() {
                      started.values().remove(this);
                      delegate.cleanup();
                    }
                  };
                }
              });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Hostile input
  // ---------------------------------------------------------------------------------------------

  /**
   * Task ids are cut to 63 characters, the longest name some platforms take: ids that differ only
   * after that collide.
   */
  static final class IdsCutTo63 extends LocalReliability {
    IdsCutTo63() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Container runContainer(Task task) {
                  String id = task.id();
                  return super.runContainer(
                      task.toBuilder().id(id.length() > 63 ? id.substring(0, 63) : id).build());
                }
              });
    }
  }

  /**
   * Writes a pid file for each task into the temporary directory, named after the namespace and the
   * raw task id, and deletes it only when the JVM exits: files named after hostile input outside
   * the driver's area.
   */
  static final class PidFilesInTmp extends LocalReliability {
    PidFilesInTmp() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Container runContainer(Task task) {
                  Container c = super.runContainer(task);
                  // Ids with '/' would reach other directories: the self-test writes none there.
                  if (!task.id().contains("/")) {
                    Path pid =
                        Path.of(System.getProperty("java.io.tmpdir"))
                            .resolve("orchestra-" + ns + "-" + task.id() + ".pid");
                    try {
                      Files.writeString(pid, c.id());
                      pid.toFile().deleteOnExit();
                    } catch (IOException e) {
                      // A pid file is a convenience.
                    }
                  }
                  return c;
                }
              });
    }
  }

  /**
   * An absolute mount path is joined to the task directory with {@link Path#resolve(String)}, which
   * returns the absolute path itself: the mount's directory is made on the host. (The self-test
   * makes it only below the temporary directory, deleted when the JVM exits; the task still runs
   * with the local driver's mount.)
   */
  static final class AbsoluteMountOnHost extends LocalReliability {
    AbsoluteMountOnHost() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Container runContainer(Task task) {
                  Path tmp = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath();
                  for (Mount m : task.mounts()) {
                    Path taken = Path.of("task-directory").resolve(m.path()).normalize();
                    if (taken.isAbsolute() && taken.startsWith(tmp)) {
                      try {
                        Files.createDirectories(taken);
                        taken.toFile().deleteOnExit();
                      } catch (IOException e) {
                        throw new UncheckedIOException(e);
                      }
                    }
                  }
                  return super.runContainer(task);
                }
              });
    }
  }

  /**
   * Environment variables travel as {@code KEY=VALUE} strings that are split at every {@code =}: a
   * value holding one is cut there.
   */
  static final class EnvValuesCutAtEquals extends LocalReliability {
    EnvValuesCutAtEquals() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Container runContainer(Task task) {
                  Task.Builder b = task.toBuilder();
                  task.env().forEach((k, v) -> b.env(k, v.split("=", -1)[0]));
                  return super.runContainer(b.build());
                }
              });
    }
  }

  /**
   * Environment keys no shell variable can name ({@code a.b}, {@code a-b}) have those characters
   * replaced by {@code _}, as a driver that exports the variables in a generated script would. (The
   * self-test renames them with {@code env -u KEY NEW_KEY=VALUE} before the command.)
   */
  static final class EnvKeysSanitised extends LocalReliability {

    private static final Pattern SHELL_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    EnvKeysSanitised() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Container runContainer(Task task) {
                  List<String> unset = new ArrayList<>();
                  List<String> renamed = new ArrayList<>();
                  task.env()
                      .forEach(
                          (k, v) -> {
                            if (!SHELL_NAME.matcher(k).matches()) {
                              unset.addAll(List.of("-u", k));
                              renamed.add(k.replaceAll("[^A-Za-z0-9_]", "_") + "=" + v);
                            }
                          });
                  if (unset.isEmpty()) {
                    return super.runContainer(task);
                  }
                  List<String> command = new ArrayList<>(List.of("env"));
                  command.addAll(unset);
                  command.addAll(renamed);
                  command.addAll(task.command());
                  return super.runContainer(task.toBuilder().command(command).build());
                }
              });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Unresponsive platform: the local driver behind a platform's API
  // ---------------------------------------------------------------------------------------------

  /**
   * The local driver behind a platform API it asks before every call, as a remote driver asks its
   * engine: the kit can put its proxy in front of that API and make it stop answering. {@code
   * requestTimeout} bounds each wait for an answer (zero: none); {@code followTimeout} bounds the
   * wait for the acknowledgement of each chunk follow() delivers.
   */
  abstract static class ApiGuarded extends LocalReliability {

    private final Duration requestTimeout;
    private final Duration followTimeout;

    ApiGuarded(Duration requestTimeout, Duration followTimeout) {
      // Drivers that reach the API directly, never stalled, wait as long as the kit's waits.
      super((ns, real) -> new ApiGuardedDriver(real, Api.INSTANCE.address(), AWAIT, AWAIT));
      this.requestTimeout = requestTimeout;
      this.followTimeout = followTimeout;
    }

    @Override
    protected Optional<InetSocketAddress> platformEndpoint() {
      return Optional.of(Api.INSTANCE.address());
    }

    @Override
    protected Optional<Driver> newDriverThrough(String namespace, InetSocketAddress proxy) {
      return Optional.of(
          new ApiGuardedDriver(openReal(namespace), proxy, requestTimeout, followTimeout));
    }

    @Override
    protected Duration unresponsivePlatformBound() {
      return API_BOUND;
    }
  }

  /** Waits at most half the bound for every answer of its API: the correct one. */
  static final class ApiBounded extends ApiGuarded {
    ApiBounded() {
      super(API_TIMEOUT, API_TIMEOUT);
    }
  }

  /** Waits for every answer of its API forever. */
  static final class ApiWaitsForever extends ApiGuarded {
    ApiWaitsForever() {
      super(Duration.ZERO, Duration.ZERO);
    }
  }

  /**
   * Bounds its requests, but waits forever for the acknowledgement of a chunk follow() delivered.
   */
  static final class FollowAckWaitsForever extends ApiGuarded {
    FollowAckWaitsForever() {
      super(API_TIMEOUT, Duration.ZERO);
    }
  }

  /** A driver that asks its platform's API before every call it forwards. */
  static final class ApiGuardedDriver extends Intercepting {

    private final InetSocketAddress api;
    private final Duration requestTimeout;
    private final Duration followTimeout;

    ApiGuardedDriver(
        Driver delegate, InetSocketAddress api, Duration requestTimeout, Duration followTimeout) {
      super(delegate);
      this.api = api;
      this.requestTimeout = requestTimeout;
      this.followTimeout = followTimeout;
    }

    @Override
    void before(String call, Container container) {
      ask(call, requestTimeout);
    }

    @Override
    Container wrap(Container c) {
      return new InterceptedContainer(c) {
        @Override
        public void follow(OutputStream stdout, OutputStream stderr) {
          super.follow(acknowledged(stdout), acknowledged(stderr));
        }
      };
    }

    /** A stream that has the API acknowledge each chunk before it passes it on. */
    private OutputStream acknowledged(OutputStream to) {
      return new OutputStream() {
        @Override
        public void write(int b) throws IOException {
          write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
          ask("ack " + len, followTimeout);
          to.write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
          to.flush();
        }
      };
    }

    /** Sends a request to the API and waits for its answer, at most the timeout (zero: forever). */
    private void ask(String request, Duration timeout) {
      try (Socket s = new Socket()) {
        s.connect(api, 5_000);
        s.setSoTimeout((int) timeout.toMillis());
        s.getOutputStream().write((request + "\n").getBytes(StandardCharsets.UTF_8));
        s.getOutputStream().flush();
        readLine(s.getInputStream());
      } catch (IOException e) {
        throw new OrchestraException(
            "'" + request + "' to the platform's API at " + api + " failed: " + e, e);
      }
    }
  }

  /** The platform's API: answers every line it is sent with {@code ok}, one per connection. */
  static final class Api {

    static final Api INSTANCE = new Api();

    private final ServerSocket server;

    private Api() {
      try {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      daemon("platform API", this::serve);
    }

    InetSocketAddress address() {
      return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
    }

    private void serve() {
      while (!server.isClosed()) {
        try {
          Socket s = server.accept();
          daemon("platform API connection", () -> answer(s));
        } catch (IOException e) {
          return;
        }
      }
    }

    private static void answer(Socket s) {
      try (s) {
        readLine(s.getInputStream());
        s.getOutputStream().write("ok\n".getBytes(StandardCharsets.UTF_8));
        s.getOutputStream().flush();
      } catch (IOException e) {
        // the client went away
      }
    }

    private static void daemon(String name, Runnable body) {
      Thread t = new Thread(body, name);
      t.setDaemon(true);
      t.start();
    }
  }

  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b; (b = in.read()) != '\n'; ) {
      if (b < 0) {
        throw new IOException("connection closed after '" + line + "'");
      }
      line.write(b);
    }
    return line.toString(StandardCharsets.UTF_8);
  }

  /**
   * A driver that runs {@link #before} ahead of every call it forwards: its own calls, its
   * containers' and its sandboxes'.
   */
  private abstract static class Intercepting extends ForwardingDriver {

    Intercepting(Driver delegate) {
      super(delegate);
    }

    /**
     * Runs ahead of a call.
     *
     * @param call the call and what it names, such as {@code "status build-1-1234"}
     * @param container the container called, or null for a call of the driver or of a sandbox
     */
    abstract void before(String call, Container container);

    @Override
    public Container runContainer(Task task) {
      before("runContainer " + task.id(), null);
      return super.runContainer(task);
    }

    @Override
    public Volume createVolume(String name, long sizeBytes) {
      before("createVolume " + name, null);
      return super.createVolume(name, sizeBytes);
    }

    @Override
    public Optional<Container> find(String taskId) {
      before("find " + taskId, null);
      return super.find(taskId);
    }

    @Override
    public Sandbox createSandbox(Task task) {
      before("createSandbox " + task.id(), null);
      return super.createSandbox(task);
    }

    @Override
    public void close() {
      before("close", null);
      super.close();
    }

    @Override
    Container wrap(Container c) {
      return new InterceptedContainer(c);
    }

    @Override
    Sandbox wrap(Sandbox sandbox) {
      return new ForwardingSandbox(sandbox) {
        @Override
        public Container exec(Task step) {
          before("exec " + step.id(), null);
          return super.exec(step);
        }
      };
    }

    /** A container that runs {@link #before} ahead of every call but {@code id()}. */
    class InterceptedContainer extends ForwardingContainer {

      InterceptedContainer(Container delegate) {
        super(delegate);
      }

      @Override
      public ContainerStatus status() {
        before("status " + id(), this);
        return delegate.status();
      }

      @Override
      public void logs(OutputStream stdout, OutputStream stderr) {
        before("logs " + id(), this);
        delegate.logs(stdout, stderr);
      }

      @Override
      public void cleanup() {
        before("cleanup " + id(), this);
        delegate.cleanup();
      }

      @Override
      public ContainerStatus await(Duration timeout) {
        before("await " + id(), this);
        return delegate.await(timeout);
      }

      @Override
      public void follow(OutputStream stdout, OutputStream stderr) {
        before("follow " + id(), this);
        delegate.follow(stdout, stderr);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers
  // ---------------------------------------------------------------------------------------------

  /** Waits, answering an interrupt with an OrchestraInterruptedException, the flag kept. */
  static void pause(Duration d, String what) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new OrchestraInterruptedException(what + " was interrupted", e);
    }
  }

  /** Deletes a tree without following symbolic links; fails when there is nothing to delete. */
  static void deleteTree(Path top) {
    try (Stream<Path> files = Files.walk(top)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (NoSuchFileException e) {
      throw new IllegalStateException("nothing to remove at " + top, e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Where a process works, from /proc (a deleted directory too); empty when unknown. */
}
