package dev.orchestra.bench;

import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import dev.orchestra.Task;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy;
import org.testcontainers.utility.DockerImageName;

/** The rows that need a Docker engine. */
final class DockerRows {

  private static final Duration PATIENCE = Duration.ofMinutes(5);

  private final Settings settings;
  private final Path socket = UnixSockets.engineSocket();

  DockerRows(Settings settings) {
    this.settings = settings;
  }

  static String freshNamespace() {
    return "bench" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
  }

  /**
   * A trial of one {@code true} task through the driver, timed from the call to its observed exit
   * (code 0 checked); its cleanup is not timed.
   *
   * @param idPrefix the task ids' prefix, the round's number follows
   * @param what the contender, for the message of a wrong exit
   */
  static Rotation.Trial oneTask(Driver driver, String image, String idPrefix, String what) {
    return round -> {
      long t0 = System.nanoTime();
      Container c =
          driver.runContainer(
              Task.builder().id(idPrefix + round).image(image).command("true").build());
      ContainerStatus s = c.await(PATIENCE);
      long t1 = System.nanoTime();
      requireExit(0, s, what);
      c.cleanup();
      return t1 - t0;
    };
  }

  private Task trueTask(String id) {
    return Task.builder().id(id).image(settings.image()).command("true").build();
  }

  /**
   * One rotation of four contenders starting the same {@code true} task until it is observed done:
   * the library, {@code docker run --rm}, the raw floor and Testcontainers; three rows from it.
   */
  List<Row> latency() throws Exception {
    String ns = freshNamespace();
    try (Driver driver = Orchestra.open("docker", ns);
        EngineClient floor = new EngineClient(socket)) {
      Rotation.Trial library = oneTask(driver, settings.image(), "latency-", "library latency");
      Rotation.Trial dockerRun =
          timedCommand(
              "docker run --rm",
              () -> runCommand("docker", "run", "--rm", settings.image(), "true"));
      Rotation.Trial rawFloor =
          floorTrial(floor, ns, floorCreateBody(settings.image(), ns, DOCKER_LOG_CONFIG));
      Rotation.Trial testcontainers =
          round -> {
            GenericContainer<?> c =
                new GenericContainer<>(DockerImageName.parse(settings.image()))
                    .withCommand("true")
                    .withStartupCheckStrategy(
                        new OneShotStartupCheckStrategy().withTimeout(PATIENCE));
            try {
              long t0 = System.nanoTime();
              c.start();
              long t1 = System.nanoTime();
              return t1 - t0;
            } finally {
              c.stop();
            }
          };
      List<Samples> s =
          Rotation.run(
              settings.warmups(),
              settings.quickRuns(),
              List.of(library, dockerRun, rawFloor, testcontainers));
      String order = Rotation.describeOrder("L", "D", "F", "T");
      Row floorRow =
          Row.timed(
              "docker latency floor",
              "runContainer(true) + await",
              "create, start, wait on one socket",
              s.get(0),
              s.get(2),
              order,
              1.05,
              "The floor is a minimal HTTP/1.1 client on ONE kept-alive Unix socket connection:"
                  + " POST /containers/create (the same container configuration as the driver's:"
                  + " labels, init, `local` log driver, working directory), POST .../start, POST"
                  + " .../wait; removal not timed. The four contenders of the three latency rows"
                  + " take turns in one rotation (L the library, D `docker run --rm`, F the floor,"
                  + " T Testcontainers).");
      return List.of(
          Row.timed(
                  "docker latency",
                  "runContainer(true) + await",
                  "docker run --rm busybox true",
                  s.get(0),
                  s.get(1),
                  order,
                  0.9,
                  "One task at a time, from the call to the observed exit (code 0 checked); the"
                      + " library's cleanup() and the container's removal are not timed, while"
                      + " `docker run --rm` includes its own removal and the CLI's start.")
              .judgedAgainst(floorRow, 0.9),
          floorRow,
          Row.timed(
                  "docker latency vs Testcontainers",
                  "runContainer(true) + await",
                  "GenericContainer start-to-exit",
                  s.get(0),
                  s.get(3),
                  order,
                  0.9,
                  "Peer: Testcontainers' GenericContainer(busybox).withCommand(\"true\") with"
                      + " OneShotStartupCheckStrategy, start() (returns once the container exited 0);"
                      + " stop() not timed; reaper disabled (no registry here).")
              .judgedAgainst(floorRow, 0.9));
    }
  }

  /**
   * A trial of the one-socket floor: create, start and wait for a {@code true} container on one
   * kept-alive connection, timed from the create to the wait's answer (code 0 checked); its removal
   * is not timed.
   */
  static Rotation.Trial floorTrial(EngineClient floor, String ns, String createBody) {
    return round -> {
      String[] id = new String[1];
      long t0 = System.nanoTime();
      int code = floor.runToExit(ns + "-floor-" + round, createBody, id);
      long t1 = System.nanoTime();
      floor.expect(204, "DELETE", "/containers/" + id[0] + "?force=true", null);
      requireExit(0, code, "the raw floor");
      return t1 - t0;
    };
  }

  /** The log configuration the driver asks Docker's engine for, as JSON. */
  static final String DOCKER_LOG_CONFIG =
      "{\"Type\":\"local\",\"Config\":{\"max-size\":\"100m\",\"max-file\":\"11\","
          + "\"compress\":\"false\"}}";

  /**
   * The floor's create body: the configuration the driver sends (labels, init, the log
   * configuration it chooses for the engine, working directory), written out by hand.
   */
  static String floorCreateBody(String image, String ns, String logConfig) {
    return "{\"Image\":\""
        + image
        + "\",\"Cmd\":[\"true\"],\"Entrypoint\":[\"\"],\"WorkingDir\":\"/tmp/orchestra/floor\","
        + "\"Labels\":{\"dev.orchestra.namespace\":\""
        + ns
        + "\"},\"AttachStdin\":false,\"AttachStdout\":false,\"AttachStderr\":false,"
        + "\"HostConfig\":{\"Init\":true,\"LogConfig\":"
        + logConfig
        + "}}";
  }

  /**
   * N tasks at once until all are done, against N {@code docker run --rm} at once and against N
   * one-socket clients at once (the parallel floor); two rows from one rotation.
   */
  List<Row> parallel() throws Exception {
    int n = settings.parallel();
    String ns = freshNamespace();
    ExecutorService pool = Executors.newFixedThreadPool(n);
    List<EngineClient> floors = new ArrayList<>();
    try (Driver driver = Orchestra.open("docker", ns)) {
      for (int i = 0; i < n; i++) {
        floors.add(new EngineClient(socket));
      }
      Rotation.Trial library =
          round -> {
            List<Future<Container>> started = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
              Task task = trueTask("parallel-" + round + "-" + i);
              started.add(pool.submit(() -> driver.runContainer(task)));
            }
            List<Container> containers = new ArrayList<>();
            List<CompletableFuture<ContainerStatus>> ends = new ArrayList<>();
            for (Future<Container> f : started) {
              Container c = f.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
              containers.add(c);
              ends.add(c.onExit());
            }
            CompletableFuture.allOf(ends.toArray(CompletableFuture[]::new))
                .get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
            long t1 = System.nanoTime();
            List<Future<?>> removals = new ArrayList<>();
            containers.forEach(c -> removals.add(pool.submit(c::cleanup)));
            for (Future<?> r : removals) {
              r.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
            }
            for (CompletableFuture<ContainerStatus> end : ends) {
              requireExit(0, end.join(), "parallel task");
            }
            return t1 - t0;
          };
      Rotation.Trial dockerRun =
          round -> {
            List<Process> processes = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
              processes.add(
                  new ProcessBuilder("docker", "run", "--rm", settings.image(), "true")
                      .redirectOutput(Redirect.DISCARD)
                      .redirectError(Redirect.DISCARD)
                      .start());
            }
            for (Process p : processes) {
              requireExit(0, p.waitFor(), "parallel docker run --rm");
            }
            return System.nanoTime() - t0;
          };
      String createBody = floorCreateBody(settings.image(), ns, DOCKER_LOG_CONFIG);
      Rotation.Trial floor =
          round -> {
            List<Future<Integer>> runs = new ArrayList<>();
            String[][] ids = new String[n][1];
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
              EngineClient client = floors.get(i);
              String name = ns + "-pfloor-" + round + "-" + i;
              String[] id = ids[i];
              runs.add(pool.submit(() -> client.runToExit(name, createBody, id)));
            }
            List<Integer> codes = new ArrayList<>();
            for (Future<Integer> run : runs) {
              codes.add(run.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS));
            }
            long t1 = System.nanoTime();
            List<Future<String>> removals = new ArrayList<>();
            for (int i = 0; i < n; i++) {
              EngineClient client = floors.get(i);
              String id = ids[i][0];
              removals.add(
                  pool.submit(
                      () ->
                          client.expect(204, "DELETE", "/containers/" + id + "?force=true", null)));
            }
            for (Future<String> r : removals) {
              r.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
            }
            for (int code : codes) {
              requireExit(0, code, "the parallel floor");
            }
            return t1 - t0;
          };
      List<Samples> s =
          Rotation.run(settings.warmups(), settings.runs(), List.of(library, dockerRun, floor));
      String order = Rotation.describeOrder("L", "D", "F");
      Row floorRow =
          Row.timed(
              "docker parallel floor",
              n + " x runContainer at once + onExit",
              n + " one-socket clients at once",
              s.get(0),
              s.get(2),
              order,
              1.05,
              "The parallel floor: "
                  + n
                  + " minimal HTTP/1.1 clients, each on its own kept-alive Unix socket, each"
                  + " doing create, start and wait (the latency floor's configuration) at once,"
                  + " until all returned; removal not timed. The three contenders of the two"
                  + " parallel rows take turns in one rotation (L the library, D `docker run"
                  + " --rm`, F the floor).");
      return List.of(
          Row.timed(
                  "docker parallel",
                  n + " x runContainer at once + onExit",
                  n + " x docker run --rm at once",
                  s.get(0),
                  s.get(1),
                  order,
                  0.8,
                  n
                      + " tasks started from "
                      + n
                      + " threads of one driver, until every onExit() completed (each exit 0"
                      + " checked); cleanup not timed. Baseline: "
                      + n
                      + " `docker run --rm` processes started at once, until all exited.")
              .judgedAgainst(floorRow, 0.8),
          floorRow);
    } finally {
      for (EngineClient c : floors) {
        c.close();
      }
      pool.shutdownNow();
    }
  }

  /**
   * Reading a finished task's stdout back through logs(), against {@code docker logs} and against a
   * one-socket client that reads the same answer and discards it (the logs floor).
   */
  List<Row> logs() throws Exception {
    long bytes = settings.logBytes();
    String ns = freshNamespace();
    try (Driver driver = Orchestra.open("docker", ns);
        EngineClient engine = new EngineClient(socket)) {
      Container c =
          driver.runContainer(
              Task.builder()
                  .id("logs")
                  .image(settings.image())
                  .command("head", "-c", Long.toString(bytes), "/dev/zero")
                  .build());
      requireExit(0, c.await(PATIENCE), "the task writing the logs");
      Rotation.Trial library =
          round -> {
            CountingStream out = new CountingStream();
            CountingStream err = new CountingStream();
            long t0 = System.nanoTime();
            c.logs(out, err);
            long t1 = System.nanoTime();
            if (out.count() != bytes || err.count() != 0) {
              throw new IllegalStateException(
                  "logs() delivered "
                      + out.count()
                      + " bytes of stdout and "
                      + err.count()
                      + " of stderr; the task wrote "
                      + bytes
                      + " and 0");
            }
            return t1 - t0;
          };
      Rotation.Trial dockerLogs =
          timedCommand("docker logs", () -> runCommand("docker", "logs", c.id()));
      Rotation.Trial floor =
          round -> {
            long t0 = System.nanoTime();
            long read = engine.drain("/containers/" + c.id() + "/logs?stdout=1&stderr=1");
            long t1 = System.nanoTime();
            if (read < bytes) {
              throw new IllegalStateException(
                  "the logs floor read " + read + " bytes, fewer than the " + bytes);
            }
            return t1 - t0;
          };
      List<Samples> s =
          Rotation.run(
              settings.warmups(), settings.quickRuns(), List.of(library, dockerLogs, floor));
      String order = Rotation.describeOrder("L", "D", "F");
      String what =
          "A finished task that wrote "
              + bytes
              + " bytes to stdout (`head -c`); logs() into a counting stream (count checked"
              + " each time)";
      Row floorRow =
          Row.timed(
              "docker logs floor",
              mb(bytes) + " through logs()",
              "one socket, body discarded",
              s.get(0),
              s.get(2),
              order,
              1.05,
              what
                  + " against the logs floor: GET /containers/{id}/logs on one kept-alive Unix"
                  + " socket, the chunked body read into one reused buffer and discarded without"
                  + " parsing the engine's frames (so it does less than logs(), which separates"
                  + " the streams). The three contenders of the two logs rows take turns in one"
                  + " rotation (L the library, D `docker logs`, F the floor).");
      return List.of(
          Row.timed(
                  "docker logs",
                  mb(bytes) + " through logs()",
                  "docker logs > /dev/null",
                  s.get(0),
                  s.get(1),
                  order,
                  0.7,
                  what + " against `docker logs ID` with stdout and stderr discarded.")
              .judgedAgainst(floorRow, 0.7),
          floorRow);
    }
  }

  /**
   * Status calls on a finished task, with the driver behind a recording proxy that counts the
   * engine requests they make, against one inspect of the container.
   */
  Row status() throws Exception {
    int calls = settings.statusCalls();
    String ns = freshNamespace();
    try (RecordingProxy proxy = new RecordingProxy(socket);
        Driver driver = Orchestra.open("docker", ns, Map.of("host", proxy.host()));
        EngineClient engine = new EngineClient(socket)) {
      Container c = driver.runContainer(trueTask("status"));
      requireExit(0, c.await(PATIENCE), "the status task");
      int[] requestsDuring = new int[1];
      Rotation.Trial library =
          round -> {
            int before = proxy.requests();
            long t0 = System.nanoTime();
            ContainerStatus last = null;
            for (int i = 0; i < calls; i++) {
              last = c.status();
            }
            long t1 = System.nanoTime();
            requestsDuring[0] += proxy.requests() - before;
            requireExit(0, last, "status()");
            return t1 - t0;
          };
      Rotation.Trial inspect =
          round -> {
            long t0 = System.nanoTime();
            engine.expect(200, "GET", "/containers/" + c.id() + "/json", null);
            return System.nanoTime() - t0;
          };
      List<Samples> s =
          Rotation.run(settings.warmups(), settings.runs(), List.of(library, inspect));
      boolean met = requestsDuring[0] == 0 && s.get(0).failed() == 0;
      return new Row(
          "status after done",
          String.format(Locale.ROOT, "%,d x status()", calls),
          "one engine inspect",
          s.get(0),
          s.get(1),
          Rotation.describeOrder("L", "B"),
          "cached: no engine call",
          (met ? "met: " : "NOT met: ")
              + requestsDuring[0]
              + " engine requests"
              + Row.failures(s.get(0), s.get(1)),
          met,
          false,
          "The driver reaches the engine through a recording proxy (host=tcp://...), which"
              + " counted "
              + requestsDuring[0]
              + " requests during all "
              + (settings.warmups() + settings.runs())
              + " rounds of "
              + calls
              + " status() calls on a finished task. Baseline: one GET /containers/{id}/json"
              + " on a kept-alive socket.");
    }
  }

  /** Where one task's time goes: the engine requests of runContainer + await, cold and warm. */
  String breakdown() throws Exception {
    String ns = freshNamespace();
    StringBuilder md = new StringBuilder();
    try (RecordingProxy proxy = new RecordingProxy(socket);
        Driver driver = Orchestra.open("docker", ns, Map.of("host", proxy.host()))) {
      for (int i = 0; i < 3; i++) {
        long t0 = System.nanoTime();
        Container c = driver.runContainer(trueTask("breakdown-" + i));
        long started = System.nanoTime();
        ContainerStatus s = c.await(PATIENCE);
        long t1 = System.nanoTime();
        requireExit(0, s, "the breakdown task");
        List<RecordingProxy.Exchange> exchanges = proxy.since(t0);
        c.cleanup();
        if (i == 1) {
          // The second is a cold task's twin; skip it to show the first and a warm one.
          continue;
        }
        md.append(i == 0 ? "First task of a fresh driver" : "A later task of the same driver")
            .append(
                String.format(
                    Locale.ROOT,
                    " (%.1f ms in all, runContainer returned after %.1f" + " ms):%n%n",
                    (t1 - t0) / 1e6,
                    (started - t0) / 1e6));
        md.append("| # | request | sent at | answered at | took | status |\n");
        md.append("|---|---|---|---|---|---|\n");
        long engine = 0;
        int n = 0;
        for (RecordingProxy.Exchange e : exchanges) {
          if (e.sent > t1) {
            continue;
          }
          n++;
          long end = e.ended != 0 && e.ended <= t1 ? e.ended : e.answered;
          boolean stream = e.ended == 0 || e.ended > t1;
          long took = (end == 0 ? t1 : end) - e.sent;
          if (!stream) {
            engine += took;
          }
          md.append(
              String.format(
                  Locale.ROOT,
                  "| %d | `%s %s` | %.1f ms | %s | %s | %d |%n",
                  n,
                  e.method,
                  e.shortPath(),
                  (e.sent - t0) / 1e6,
                  e.answered == 0
                      ? "-"
                      : String.format(Locale.ROOT, "%.1f ms", (e.answered - t0) / 1e6),
                  stream
                      ? "stream (stays open)"
                      : String.format(Locale.ROOT, "%.1f ms", took / 1e6),
                  e.status));
        }
        md.append(
            String.format(
                Locale.ROOT,
                "%n%d requests; %.1f ms inside the engine's answers, %.1f ms elsewhere (client"
                    + " side, the event's delivery and the executor's hand-over).%n%n",
                n,
                engine / 1e6,
                (t1 - t0 - engine) / 1e6));
      }
    }
    return md.toString();
  }

  static String mb(long bytes) {
    return bytes % 1_000_000 == 0 ? bytes / 1_000_000 + " MB" : bytes + " bytes";
  }

  /** Runs a command line and answers its exit code. */
  @FunctionalInterface
  interface Command {
    int run() throws IOException, InterruptedException;
  }

  /** A trial that times one run of a command line, which must exit 0. */
  static Rotation.Trial timedCommand(String what, Command command) {
    return round -> {
      long t0 = System.nanoTime();
      int code = command.run();
      long t1 = System.nanoTime();
      requireExit(0, code, what);
      return t1 - t0;
    };
  }

  static int runCommand(String... command) throws IOException, InterruptedException {
    return new ProcessBuilder(command)
        .redirectOutput(Redirect.DISCARD)
        .redirectError(Redirect.DISCARD)
        .start()
        .waitFor();
  }

  static void requireExit(int expected, ContainerStatus status, String what) {
    if (status == null || !status.isDone() || status.exitCode() != expected) {
      throw new IllegalStateException(what + " ended " + status + ", expected exit " + expected);
    }
  }

  static void requireExit(int expected, int code, String what) {
    if (code != expected) {
      throw new IllegalStateException(what + " exited " + code + ", expected " + expected);
    }
  }

  /** Counts what is written, keeps nothing. */
  static final class CountingStream extends OutputStream {
    private long count;

    @Override
    public void write(int b) {
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      count += len;
    }

    long count() {
      return count;
    }
  }
}
