package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectNestedClass;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.OrchestraException;
import dev.orchestra.Task;
import dev.orchestra.Volume;
import dev.orchestra.tck.BrokenDrivers.FoldingIds;
import dev.orchestra.tck.BrokenDrivers.InterruptSwallowed;
import dev.orchestra.tck.BrokenDrivers.VolumeEscape;
import dev.orchestra.tck.ReliabilityTck.HostileInput;
import dev.orchestra.tck.ReliabilityTck.Interruption;
import dev.orchestra.tck.ReliabilityTck.UnresponsivePlatform;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;
import org.junit.platform.testkit.engine.Events;

/**
 * The reliability kit's {@link UnresponsivePlatform} group tested against a toy driver of a toy
 * platform (a line protocol over TCP): a driver that bounds its waits and checks a quiet stream
 * passes, one that waits on its platform forever fails both tests, each saying what hung.
 */
class ReliabilityTckSelfTest {

  private static final Duration BOUND = Duration.ofSeconds(3);

  /**
   * The proofs of the broken drivers of {@link ReliabilityTck}, for this test and the coverage
   * table.
   */
  static List<Proof> proofs() {
    return List.of(
        Proof.of(FoldingIds.class)
            .onlyExpected()
            .fails(
                HostileInput.class,
                "foldedTaskIdsDistinct",
                "[stdout of task 'a_b'] expected: \"a_b\" but was: \"a/b\""),
        Proof.of(VolumeEscape.class)
            .onlyExpected()
            .fails(HostileInput.class, "volumeNameEscapeRefused", "[createVolume(\"../../"),
        Proof.of(InterruptSwallowed.class)
            .onlyExpected()
            .fails(
                Interruption.class,
                "interruptFlagKept",
                "[interrupt flag after status()] Expecting value to be true but was false"));
  }

  /** The tests ({@code Group.method}) no broken driver fails yet: the gaps the coverage shows. */
  static Set<String> notYetProven() {
    return Set.of(
        "Load.randomInterleavings",
        "Interference.finishedContainerRemoved",
        "Interference.runningContainerRemoved",
        "Interference.volumeRemoved",
        "HostileInput.hostileIdsAndVolumes",
        "HostileInput.oddEnvironmentCarried",
        "HostileInput.oddTaskIds",
        "HostileInput.pathEscapeRefused",
        "HostileInput.uncarriableEnvironmentRefused",
        "Interruption.blockedCallsAnswer",
        "Interruption.closeInterrupted",
        "Interruption.interruptedAtRandomMoments",
        "Interruption.sandboxInterrupted",
        "BigOutput.hugeLogsStreamed",
        "BigOutput.interleavedStreamsExact",
        "UnresponsivePlatform.frozenFollow",
        "UnresponsivePlatform.unansweredRequests");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("proofs")
  @DisplayName(
      "a broken driver fails exactly the tests of the rules it breaks, for the stated reason")
  void brokenDriverProvesItsRules(Proof proof) {
    ProofRunner.prove(proof);
  }

  private static ToyPlatform platform;

  @BeforeAll
  static void startPlatform() throws IOException {
    platform = new ToyPlatform();
  }

  @AfterAll
  static void stopPlatform() throws IOException {
    platform.close();
  }

  @Test
  void aDriverThatBoundsItsWaitsPasses() {
    Events tests = run(BoundedToyTck.class);
    assertThat(failures(tests)).as("failures").isEmpty();
    assertThat(tests.succeeded().count()).as("tests passed").isEqualTo(2);
  }

  @Test
  void aDriverThatWaitsOnItsPlatformForeverFailsSayingWhatHung() {
    Events tests = run(PatientToyTck.class);
    assertThat(tests.succeeded().count()).as("tests passed").isZero();
    assertThat(failures(tests))
        .anySatisfy(m -> assertThat(m).contains("on a stalled platform did not return within"))
        .anySatisfy(m -> assertThat(m).contains("follow() still blocks"));
  }

  @Test
  void aDriverThatCannotBeProxiedHasTheGroupSkippedWithTheReason() {
    Events tests = run(UnproxiedToyTck.class);
    assertThat(tests.aborted().count()).as("tests skipped").isEqualTo(2);
    assertThat(reasons(tests.aborted()))
        .allSatisfy(reason -> assertThat(reason).contains("cannot be put behind a proxy"));
  }

  private static Events run(Class<? extends ReliabilityTck> kit) {
    return EngineTestKit.engine("junit-jupiter")
        .selectors(selectNestedClass(List.of(kit), UnresponsivePlatform.class))
        .configurationParameter("junit.jupiter.execution.parallel.enabled", "false")
        .execute()
        .testEvents();
  }

  private static List<String> failures(Events tests) {
    return reasons(tests.failed());
  }

  private static List<String> reasons(Events events) {
    return events.stream()
        .map(Event::getPayload)
        .map(
            p ->
                p.map(
                        r ->
                            ((org.junit.platform.engine.TestExecutionResult) r)
                                .getThrowable()
                                .map(ReliabilityTckSelfTest::describe)
                                .orElse(""))
                    .orElse(""))
        .toList();
  }

  private static String describe(Throwable t) {
    StringBuilder s = new StringBuilder(String.valueOf(t.getMessage()));
    for (Throwable suppressed : t.getSuppressed()) {
      s.append(" | ").append(describe(suppressed));
    }
    return s.toString();
  }

  // ---- the kits under test

  /** Waits at most a quarter of the bound for each answer; pings when a stream is quiet. */
  static class BoundedToyTck extends ToyTck {
    BoundedToyTck() {
      super(BOUND.dividedBy(4));
    }
  }

  /** Waits on its platform forever. */
  static class PatientToyTck extends ToyTck {
    PatientToyTck() {
      super(Duration.ZERO);
    }
  }

  /** Gives no way to put a proxy in between. */
  static class UnproxiedToyTck extends ToyTck {
    UnproxiedToyTck() {
      super(BOUND.dividedBy(4));
    }

    @Override
    protected Optional<InetSocketAddress> platformEndpoint() {
      return Optional.empty();
    }
  }

  abstract static class ToyTck extends ReliabilityTck {

    private final Duration timeout;

    ToyTck(Duration timeout) {
      this.timeout = timeout;
    }

    @Override
    protected Driver newDriver(String namespace) {
      return new ToyDriver(namespace, platform.address(), BOUND.dividedBy(4));
    }

    @Override
    protected List<String> leftovers(String namespace) {
      return platform.leftovers(namespace);
    }

    @Override
    protected Optional<InetSocketAddress> platformEndpoint() {
      return Optional.of(platform.address());
    }

    @Override
    protected Optional<Driver> newDriverThrough(String namespace, InetSocketAddress proxy) {
      return Optional.of(new ToyDriver(namespace, proxy, timeout));
    }

    @Override
    protected Duration unresponsivePlatformBound() {
      return BOUND;
    }
  }

  // ---- the toy platform: one request per connection, one line each way

  /**
   * Keeps tasks and volumes by namespace. {@code run ns id cmd}: a task that ends at once with exit
   * code 0 if {@code cmd} is {@code echo}, else runs and ticks; {@code status ns id}; {@code logs
   * ns id}; {@code follow ns id}: a line {@code tick} every 100 ms while it runs; {@code rm ns id};
   * {@code vol ns name}; {@code close ns}; {@code ping}.
   */
  static final class ToyPlatform implements AutoCloseable {

    private final ServerSocket server;
    private final Map<String, Set<String>> things = new ConcurrentHashMap<>();
    private final Map<String, Boolean> running = new ConcurrentHashMap<>();

    ToyPlatform() throws IOException {
      server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      daemon("toy-platform", this::serve);
    }

    InetSocketAddress address() {
      return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
    }

    List<String> leftovers(String namespace) {
      return things.getOrDefault(namespace, Set.of()).stream().sorted().toList();
    }

    @Override
    public void close() throws IOException {
      server.close();
    }

    private void serve() {
      while (!server.isClosed()) {
        try {
          Socket s = server.accept();
          daemon("toy-platform connection", () -> answer(s));
        } catch (IOException e) {
          return;
        }
      }
    }

    private void answer(Socket s) {
      try (s) {
        String[] request = readLine(s.getInputStream()).split(" ", 4);
        OutputStream out = s.getOutputStream();
        String ns = request.length > 1 ? request[1] : "";
        Set<String> mine = things.computeIfAbsent(ns, k -> ConcurrentHashMap.newKeySet());
        String reply =
            switch (request[0]) {
              case "ping" -> "ok";
              case "run" -> {
                mine.add("task " + request[2]);
                running.put(ns + "/" + request[2], !"echo".equals(request[3]));
                yield "ok";
              }
              case "status" ->
                  !mine.contains("task " + request[2])
                      ? "missing"
                      : running.getOrDefault(ns + "/" + request[2], false) ? "running" : "done";
              case "logs" -> "tick";
              case "rm" -> {
                mine.remove("task " + request[2]);
                running.remove(ns + "/" + request[2]);
                yield "ok";
              }
              case "vol" -> {
                mine.add("volume " + request[2]);
                yield "ok";
              }
              case "close" -> {
                mine.clear();
                yield "ok";
              }
              case "follow" -> {
                while (running.getOrDefault(ns + "/" + request[2], false)) {
                  out.write("tick\n".getBytes(StandardCharsets.UTF_8));
                  out.flush();
                  Thread.sleep(100);
                }
                yield "end";
              }
              default -> "error unknown request";
            };
        out.write((reply + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
      } catch (IOException e) {
        // the client went away
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  // ---- the toy driver

  /** A driver of the toy platform; with a timeout of zero it waits for every answer forever. */
  static final class ToyDriver implements Driver {

    private final String namespace;
    private final InetSocketAddress platform;
    private final Duration timeout;

    ToyDriver(String namespace, InetSocketAddress platform, Duration timeout) {
      this.namespace = namespace;
      this.platform = platform;
      this.timeout = timeout;
    }

    @Override
    public String name() {
      return "toy";
    }

    @Override
    public Set<Capability> capabilities() {
      return Set.of(Capability.FOLLOW);
    }

    @Override
    public Container runContainer(Task task) {
      ask("run " + namespace + " " + task.id() + " " + task.command().get(0));
      return new ToyContainer(this, task.id());
    }

    @Override
    public Volume createVolume(String name, long sizeBytes) {
      ask("vol " + namespace + " " + name);
      return new Volume() {
        @Override
        public String name() {
          return name;
        }

        @Override
        public void cleanup() {
          ask("rm " + namespace + " " + name);
        }
      };
    }

    @Override
    public void close() {
      ask("close " + namespace);
    }

    String ask(String request) {
      try (Socket s = connect(request)) {
        return readLine(s.getInputStream());
      } catch (IOException e) {
        throw new OrchestraException("'" + request + "' on " + platform + " failed: " + e, e);
      }
    }

    Socket connect(String request) throws IOException {
      Socket s = new Socket();
      s.connect(platform, 5_000);
      s.setSoTimeout((int) timeout.toMillis());
      s.getOutputStream().write((request + "\n").getBytes(StandardCharsets.UTF_8));
      return s;
    }

    /** Follows: while the stream is quiet for the timeout, pings; no answer ends it. */
    void follow(String id, OutputStream out) {
      String request = "follow " + namespace + " " + id;
      try (Socket s = connect(request)) {
        InputStream in = s.getInputStream();
        while (true) {
          String line;
          try {
            line = readLine(in);
          } catch (SocketTimeoutException quiet) {
            ask("ping");
            continue;
          }
          if (line.equals("end")) {
            return;
          }
          out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        }
      } catch (IOException e) {
        throw new OrchestraException("'" + request + "' on " + platform + " failed: " + e, e);
      }
    }

    String namespace() {
      return namespace;
    }
  }

  static final class ToyContainer implements Container {

    private final ToyDriver driver;
    private final String id;

    ToyContainer(ToyDriver driver, String id) {
      this.driver = driver;
      this.id = id;
    }

    @Override
    public String id() {
      return id;
    }

    @Override
    public ContainerStatus status() {
      String answer = driver.ask("status " + driver.namespace() + " " + id);
      return answer.equals("running") ? ContainerStatus.running() : ContainerStatus.exited(0);
    }

    @Override
    public void logs(OutputStream stdout, OutputStream stderr) {
      try {
        stdout.write(
            (driver.ask("logs " + driver.namespace() + " " + id) + "\n")
                .getBytes(StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public void follow(OutputStream stdout, OutputStream stderr) {
      driver.follow(id, stdout);
    }

    @Override
    public void cleanup() {
      driver.ask("rm " + driver.namespace() + " " + id);
    }
  }

  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != '\n') {
      if (b < 0) {
        throw new IOException("connection closed after '" + line + "'");
      }
      line.write(b);
    }
    return line.toString(StandardCharsets.UTF_8);
  }

  private static void daemon(String name, Runnable body) {
    Thread t = new Thread(body, name);
    t.setDaemon(true);
    t.start();
  }
}
