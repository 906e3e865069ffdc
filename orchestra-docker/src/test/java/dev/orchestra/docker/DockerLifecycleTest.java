package dev.orchestra.docker;

import static dev.orchestra.docker.DockerTesting.IMAGE;
import static dev.orchestra.docker.DockerTesting.TASK_TIMEOUT;
import static dev.orchestra.docker.DockerTesting.engine;
import static dev.orchestra.docker.DockerTesting.namespace;
import static dev.orchestra.docker.DockerTesting.open;
import static dev.orchestra.docker.DockerTesting.stdout;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.model.Event;
import com.github.dockerjava.api.model.HostConfig;
import dev.orchestra.Container;
import dev.orchestra.ContainerLimits;
import dev.orchestra.ContainerNotFoundException;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.ExitReason;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.Task;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The task lifecycle as only the Docker driver does it: the engine's out-of-memory killer, one
 * event stream for every waiter, timeouts and reasons seen from other driver instances, the init
 * that forwards SIGTERM.
 */
@RequiresDocker
class DockerLifecycleTest {

  private static final long MIB = 1024 * 1024;

  private static Task.Builder task(String id, String... command) {
    return Task.builder().id(id).image(IMAGE).command(command);
  }

  private static ContainerStatus awaitEnd(Container c) {
    ContainerStatus s = c.await(TASK_TIMEOUT);
    assertThat(s.isDone()).as("isDone() of %s within %s", c, TASK_TIMEOUT).isTrue();
    return s;
  }

  /**
   * Sixteen tasks at once, each killed for memory. The engine reports an OOM kill and the exit
   * separately and in either order; Docker 20.10 records {@code OOMKilled} only when the OOM came
   * first, and its {@code oom} event may come seconds after the {@code die}, or not at all
   * (measured here: about 3% of such tasks got it after the {@code die}, 1% never). The rule
   * checked: every task whose OOM the engine reported, in its state or by an event within the
   * driver's wait, reads OOM_KILLED; the others read SIGNALED. On failure, every observation is
   * reported.
   */
  @Test
  void tasksOverTheirMemoryLimitReadOomKilledWheneverTheEngineReportsIt() throws Exception {
    int tasks = 16;
    String namespace = namespace("oom");
    Map<String, List<Event>> seen = new ConcurrentHashMap<>();
    ResultCallback.Adapter<Event> events =
        new ResultCallback.Adapter<>() {
          @Override
          public void onNext(Event e) {
            seen.computeIfAbsent(e.getId(), id -> new CopyOnWriteArrayList<>()).add(e);
          }

          @Override
          public void onError(Throwable t) {
            // The subscription ends with the test.
          }
        };
    engine()
        .eventsCmd()
        .withEventFilter("oom", "die")
        .withLabelFilter(Map.of(Labels.NAMESPACE, namespace))
        .exec(events)
        .awaitStarted();
    ExecutorService starters = Executors.newFixedThreadPool(4);
    try (Driver driver = open(namespace);
        events) {
      List<Container> hungry = new ArrayList<>();
      for (Future<Container> f :
          starters.invokeAll(
              IntStream.range(0, tasks)
                  .<Callable<Container>>mapToObj(
                      i ->
                          () ->
                              driver.runContainer(
                                  task(
                                          "hungry-" + i,
                                          "sh",
                                          "-c",
                                          "head -c 67108864 /dev/zero | tail")
                                      .limits(new ContainerLimits(0, 16 * MIB))
                                      .build()))
                  .toList())) {
        hungry.add(f.get());
      }
      long started = System.nanoTime();
      CompletableFuture.allOf(
              hungry.stream().map(Container::onExit).toArray(CompletableFuture<?>[]::new))
          .get(TASK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);

      List<String> report = new ArrayList<>();
      List<String> wrong = new ArrayList<>();
      int oomKilled = 0;
      try (Driver other = open(namespace)) {
        for (Container c : hungry) {
          DockerContainer dc = (DockerContainer) c;
          ContainerStatus s = c.status();
          boolean stateOom =
              Boolean.TRUE.equals(
                  engine().inspectContainerCmd(c.id()).exec().getState().getOOMKilled());
          Long oomAfterDie = oomAfterDie(seen.getOrDefault(c.id(), List.of()));
          ExitReason seenByOther =
              other.find(((DockerContainer) c).taskId()).orElseThrow().status().reason();
          boolean reported =
              stateOom
                  || (oomAfterDie != null
                      && oomAfterDie < DockerContainer.LATE_OOM.minusSeconds(1).toMillis());
          report.add(
              String.format(
                  Locale.ROOT,
                  "%s: exit %d %s; engine: OOMKilled=%s, oom event %s; driver: die at %s, oom at %s;"
                      + " another instance reads %s",
                  dc.taskId(),
                  s.exitCode(),
                  s.reason(),
                  stateOom,
                  oomAfterDie == null ? "none" : oomAfterDie + " ms after the die",
                  dc.diedAt() == null ? "-" : dc.diedAt(),
                  dc.oomReportedAt() == null ? "-" : dc.oomReportedAt(),
                  seenByOther));
          if (s.reason() == ExitReason.OOM_KILLED) {
            oomKilled++;
          }
          boolean right =
              s.exitCode() == 137
                  && (reported
                      ? s.reason() == ExitReason.OOM_KILLED
                      : s.reason() == ExitReason.OOM_KILLED || s.reason() == ExitReason.SIGNALED)
                  && (!reported || dc.oomReportedAt() != null || stateOom)
                  && (!stateOom || seenByOther == ExitReason.OOM_KILLED);
          if (!right) {
            wrong.add(dc.taskId());
          }
        }
      }
      String observations =
          String.join("\n", report)
              + String.format(
                  Locale.ROOT,
                  "%n(all ended within %d ms)",
                  TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
      assertThat(wrong).as(observations).isEmpty();
      assertThat(oomKilled).as("tasks read OOM_KILLED; " + observations).isGreaterThan(tasks / 2);
    } finally {
      starters.shutdownNow();
    }
  }

  /**
   * The milliseconds from a container's die event to its first oom event, by the engine's clock.
   */
  private static Long oomAfterDie(List<Event> events) {
    Long die = null;
    Long oom = null;
    for (Event e : events) {
      long t = e.getTimeNano() == null ? e.getTime() * 1_000_000_000L : e.getTimeNano();
      if ("die".equals(e.getAction()) && die == null) {
        die = t;
      } else if ("oom".equals(e.getAction()) && oom == null) {
        oom = t;
      }
    }
    return die == null || oom == null ? null : TimeUnit.NANOSECONDS.toMillis(oom - die);
  }

  @Test
  void anOomReportThatComesAfterTheDeathStillMakesTheReasonOomKilled() {
    try (Driver driver = open(namespace("lateoom"))) {
      // Killed by SIGKILL, under a memory limit: the same status as an OOM kill that the engine
      // has not reported yet.
      DockerContainer c =
          (DockerContainer)
              driver.runContainer(
                  task("killed", "sh", "-c", "kill -9 $$")
                      .limits(new ContainerLimits(0, 64 * MIB))
                      .build());
      CompletableFuture<ContainerStatus> exit = c.onExit();
      await().atMost(TASK_TIMEOUT).until(() -> c.diedAt() != null);

      c.oomReported();

      ContainerStatus s = exit.join();
      assertThat(s.reason()).isEqualTo(ExitReason.OOM_KILLED);
      assertThat(s.exitCode()).isEqualTo(137);
    }
  }

  @Test
  void aMemoryLimitedTaskKilledBySigkillWithoutAnOomReportReadsSignaled() {
    try (Driver driver = open(namespace("sigkill"))) {
      Container c =
          driver.runContainer(
              task("killed", "sh", "-c", "kill -9 $$")
                  .limits(new ContainerLimits(0, 64 * MIB))
                  .build());

      ContainerStatus s = awaitEnd(c);

      assertThat(s.reason()).isEqualTo(ExitReason.SIGNALED);
      assertThat(s.exitCode()).isEqualTo(137);
    }
  }

  @Test
  void fiftyWaitersShareOneEventStreamAndNoThreadEach() throws Exception {
    String namespace = namespace("events");
    ExecutorService starters = Executors.newFixedThreadPool(4);
    try (Driver driver = open(namespace)) {
      DockerDriver docker = (DockerDriver) driver;
      List<Container> sleepers =
          IntStream.range(0, 50)
              .mapToObj(
                  i ->
                      CompletableFuture.supplyAsync(
                          () -> driver.runContainer(task("sleeper-" + i, "sleep", "600").build()),
                          starters))
              .toList()
              .stream()
              .map(CompletableFuture::join)
              .toList();

      List<CompletableFuture<ContainerStatus>> exits = new ArrayList<>();
      sleepers.forEach(c -> exits.add(c.onExit()));

      assertThat(exits).noneMatch(CompletableFuture::isDone);
      assertThat(docker.namespace().events().streamsOpened())
          .as("event streams opened")
          .isEqualTo(1);
      assertThat(threadsOf(namespace))
          .as("threads of the namespace's executor")
          .hasSizeLessThanOrEqualTo(2);

      // Behind the driver's back: the engine's die events alone must complete the waiters.
      sleepers.forEach(c -> engine().killContainerCmd(c.id()).withSignal("KILL").exec());

      CompletableFuture.allOf(exits.toArray(CompletableFuture<?>[]::new))
          .get(TASK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      for (CompletableFuture<ContainerStatus> exit : exits) {
        assertThat(exit.join().exitCode()).isEqualTo(137);
        assertThat(exit.join().reason()).isEqualTo(ExitReason.SIGNALED);
      }
      assertThat(docker.namespace().events().streamsOpened()).isEqualTo(1);
      assertThat(threadsOf(namespace)).hasSizeLessThanOrEqualTo(2);
    } finally {
      starters.shutdownNow();
    }
  }

  @Test
  void aContainerRemovedBehindTheDriversBackFailsItsWaiters() {
    try (Driver driver = open(namespace("destroy"))) {
      Container c = driver.runContainer(task("doomed", "sleep", "300").build());
      CompletableFuture<ContainerStatus> exit = c.onExit();

      engine().removeContainerCmd(c.id()).withForce(true).exec();

      assertThatThrownBy(() -> exit.get(TASK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(ContainerNotFoundException.class)
          .hasMessageContaining("doomed");
      assertThatThrownBy(c::status).isInstanceOf(ContainerNotFoundException.class);
    }
  }

  /**
   * An exit whose event the engine never delivered on a running stream (Podman did not, once) is
   * still seen: the driver lists the namespace's exited containers while anyone waits.
   */
  @Test
  void anExitWhoseEventNeverCameIsSeenWithinTheSweepPeriod() throws Exception {
    try (Driver driver = open(namespace("sweep"))) {
      DockerContainer c =
          (DockerContainer)
              driver.runContainer(task("lost", "sh", "-c", "sleep 2; exit 5").build());
      ExitEvents events = ((DockerDriver) driver).namespace().events();
      CompletableFuture<ContainerStatus> exit = c.onExit();
      // Its die event now finds nobody: as if the engine had not sent it.
      events.unwatch(c);
      await()
          .atMost(TASK_TIMEOUT)
          .until(() -> !engine().inspectContainerCmd(c.id()).exec().getState().getRunning());
      assertThat(exit).as("no status read and no event yet").isNotDone();
      // Watched again, as before a start: no status read, only events, and its event is gone.
      assertThat(events.watchBeforeStart(c)).isTrue();

      ContainerStatus s =
          exit.get(ExitEvents.SWEEP_PERIOD.multipliedBy(3).toMillis(), TimeUnit.MILLISECONDS);
      assertThat(s.exitCode()).isEqualTo(5);
      assertThat(s.reason()).isEqualTo(ExitReason.EXITED);
    }
  }

  @Test
  void theEventStreamComesBackAfterADropAndCatchesTheExitItMissed() throws Exception {
    String dockerHost = System.getenv().getOrDefault("DOCKER_HOST", "unix:///var/run/docker.sock");
    Assumptions.assumeTrue(dockerHost.startsWith("unix://"), "the engine is at " + dockerHost);
    try (TcpToUnixProxy proxy =
            new TcpToUnixProxy(Path.of(dockerHost.substring("unix://".length())));
        Driver driver = open(namespace("drop"), Map.of("host", proxy.host()))) {
      Container c = driver.runContainer(task("sleeper", "sleep", "300").build());
      CompletableFuture<ContainerStatus> exit = c.onExit();

      proxy.dropConnections();
      // Killed while the driver has no subscription: no event will ever tell.
      engine().killContainerCmd(c.id()).withSignal("KILL").exec();

      ContainerStatus s = exit.get(TASK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      assertThat(s.exitCode()).isEqualTo(137);
      assertThat(((DockerDriver) driver).namespace().events().streamsOpened())
          .isGreaterThanOrEqualTo(2);
    }
  }

  @Test
  void aNewDriverInstanceEnforcesTheTimeoutOfAContainerItFinds() {
    String namespace = namespace("timeout");
    String name = DockerNames.of(namespace, "slow");
    // Started by "another instance" that is gone: only its labels tell the timeout.
    String id =
        engine()
            .createContainerCmd(IMAGE)
            .withName(name)
            .withLabels(
                Map.of(
                    Labels.NAMESPACE,
                    namespace,
                    Labels.TASK_ID,
                    "slow",
                    Labels.TIMEOUT_MILLIS,
                    "2000"))
            .withCmd("sleep", "300")
            .withHostConfig(HostConfig.newHostConfig().withInit(true))
            .exec()
            .getId();
    engine().startContainerCmd(id).exec();
    try (Driver driver = open(namespace)) {
      Container found = driver.find("slow").orElseThrow();

      ContainerStatus s = awaitEnd(found);

      assertThat(s.reason()).isEqualTo(ExitReason.TIMED_OUT);
      assertThat(s.exitCode()).isIn(143, 137);
    }
  }

  @Test
  void anotherInstanceSeesATimeoutByItsLabelAndAStopAsASignal() {
    String namespace = namespace("reasons");
    try (Driver driver = open(namespace)) {
      Container slow =
          driver.runContainer(task("slow", "sleep", "300").timeout(Duration.ofSeconds(1)).build());
      // Stopped once it runs: a SIGTERM that reaches the container's init before it handles
      // signals (a busy engine starts containers slowly) is lost, and the stop ends in SIGKILL.
      Container stopped =
          driver.runContainer(task("stopped", "sh", "-c", "echo ready; exec sleep 300").build());
      await().atMost(TASK_TIMEOUT).until(() -> stdout(stopped).equals("ready\n"));
      assertThat(awaitEnd(slow).reason()).isEqualTo(ExitReason.TIMED_OUT);
      assertThat(stopped.stop(Duration.ofSeconds(10)).reason()).isEqualTo(ExitReason.STOPPED);

      try (Driver other = open(namespace)) {
        ContainerStatus slowSeen = other.find("slow").orElseThrow().status();
        ContainerStatus stoppedSeen = other.find("stopped").orElseThrow().status();

        assertThat(slowSeen.reason()).isEqualTo(ExitReason.TIMED_OUT);
        // Labels cannot change after creation: who asked for the SIGTERM is known only to the
        // instance that sent it.
        assertThat(stoppedSeen.exitCode()).isEqualTo(143);
        assertThat(stoppedSeen.reason()).isEqualTo(ExitReason.SIGNALED);
      }
    }
  }

  @Test
  void aTimedOutTaskThatIgnoresTermIsKilledAfterTheTenSecondGrace() {
    try (Driver driver = open(namespace("grace"))) {
      long start = System.nanoTime();
      Container c =
          driver.runContainer(
              task("stubborn", "sh", "-c", "trap '' TERM; while :; do sleep 1; done")
                  .timeout(Duration.ofSeconds(1))
                  .build());

      ContainerStatus s = awaitEnd(c);

      assertThat(s.reason()).isEqualTo(ExitReason.TIMED_OUT);
      assertThat(s.exitCode()).isEqualTo(137);
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .isGreaterThanOrEqualTo(Duration.ofSeconds(11));
    }
  }

  @Test
  void stopReachesATaskThatTrapsTermThroughTheInit() {
    try (Driver driver = open(namespace("trap"))) {
      Container c =
          driver.runContainer(
              task(
                      "polite",
                      "sh",
                      "-c",
                      "trap 'echo got TERM; exit 5' TERM; echo ready; while :; do sleep 1; done")
                  .build());
      await().atMost(TASK_TIMEOUT).until(() -> stdout(c).equals("ready\n"));

      ContainerStatus s = c.stop(Duration.ofSeconds(30));

      assertThat(s.exitCode()).isEqualTo(5);
      assertThat(s.reason()).isEqualTo(ExitReason.STOPPED);
      assertThat(stdout(c)).isEqualTo("ready\ngot TERM\n");
      assertThat(engine().inspectContainerCmd(c.id()).exec().getState().getExitCodeLong())
          .isEqualTo(5);
    }
  }

  @Test
  void anInterruptedStopKillsTheTaskAndKeepsTheFlag() throws Exception {
    try (Driver driver = open(namespace("intstop"))) {
      Container c =
          driver.runContainer(
              task("stubborn", "sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done")
                  .build());
      await().atMost(TASK_TIMEOUT).until(() -> stdout(c).equals("ready\n"));
      c.onExit(); // subscribed: within stop(), only the wait for the grace parks the thread
      AtomicReference<Throwable> thrown = new AtomicReference<>();
      AtomicReference<Boolean> flag = new AtomicReference<>();
      Thread stopper =
          new Thread(
              () -> {
                try {
                  c.stop(Duration.ofMinutes(5));
                } catch (RuntimeException e) {
                  thrown.set(e);
                }
                flag.set(Thread.currentThread().isInterrupted());
              });
      stopper.start();
      await("stop() waiting for the grace")
          .atMost(TASK_TIMEOUT)
          .until(() -> isWaitingOnAFuture(stopper));

      stopper.interrupt();
      stopper.join(TASK_TIMEOUT.toMillis());

      assertThat(thrown.get()).isInstanceOf(OrchestraInterruptedException.class);
      assertThat(flag.get()).isTrue();
      ContainerStatus s = awaitEnd(c);
      assertThat(s.exitCode()).isEqualTo(137);
      assertThat(s.reason()).isEqualTo(ExitReason.STOPPED);
    }
  }

  /**
   * Another caller created the task's container and starts it in a moment: runContainer returns
   * that container once it runs, not before (an exec or a timeout on a container that never started
   * would fail).
   */
  @Test
  void aContainerAnotherCallerCreatedIsReturnedOnceItStarts() throws Exception {
    String namespace = namespace("unstarted");
    try (Driver driver = open(namespace)) {
      String id = createUnstarted(namespace, "task", "echo from the creator");
      CompletableFuture<Void> creator =
          CompletableFuture.runAsync(
              () -> engine().startContainerCmd(id).exec(),
              CompletableFuture.delayedExecutor(1, TimeUnit.SECONDS));

      Container c = driver.runContainer(task("task", "sh", "-c", "echo from the caller").build());

      creator.get(TASK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      assertThat(awaitEnd(c).exitCode()).isZero();
      assertThat(stdout(c)).isEqualTo("from the creator\n");
    }
  }

  /**
   * A container created and never started (its creator was cut off between create and start and
   * could not remove it) is removed after the driver's patience, and the task runs in a new one.
   */
  @Test
  void aContainerCreatedAndNeverStartedIsReplaced() {
    String namespace = namespace("abandoned");
    try (Driver driver = open(namespace)) {
      String abandoned = createUnstarted(namespace, "task", "echo from the abandoned one");

      Container c = driver.runContainer(task("task", "sh", "-c", "echo from the caller").build());

      assertThat(awaitEnd(c).exitCode()).isZero();
      assertThat(stdout(c)).isEqualTo("from the caller\n");
      assertThat(DockerTesting.containersOf(namespace)).hasSize(1);
      assertThatThrownBy(() -> engine().inspectContainerCmd(abandoned).exec())
          .isInstanceOf(com.github.dockerjava.api.exception.NotFoundException.class);
    }
  }

  /** Creates the task's container as a driver would, and leaves it unstarted. */
  private static String createUnstarted(String namespace, String taskId, String script) {
    return engine()
        .createContainerCmd(IMAGE)
        .withName(DockerNames.of(namespace, taskId))
        .withLabels(Map.of(Labels.NAMESPACE, namespace, Labels.TASK_ID, taskId))
        .withCmd("sh", "-c", script)
        .withHostConfig(HostConfig.newHostConfig().withInit(true))
        .exec()
        .getId();
  }

  /** Whether a thread is parked in {@link CompletableFuture#get}: stop() waits for the grace. */
  private static boolean isWaitingOnAFuture(Thread thread) {
    return thread.getState() == Thread.State.TIMED_WAITING
        && Arrays.stream(thread.getStackTrace())
            .anyMatch(
                f ->
                    f.getClassName().equals(CompletableFuture.class.getName())
                        && f.getMethodName().equals("get"));
  }

  /** The threads of a namespace's executor, named after it. */
  private static List<String> threadsOf(String namespace) {
    return Thread.getAllStackTraces().keySet().stream()
        .map(Thread::getName)
        .filter(n -> n.startsWith("orchestra-docker " + namespace + " "))
        .toList();
  }
}
