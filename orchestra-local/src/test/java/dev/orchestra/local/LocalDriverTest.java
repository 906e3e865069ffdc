package dev.orchestra.local;

import static dev.orchestra.local.LocalTesting.TIMEOUT;
import static dev.orchestra.local.LocalTesting.alive;
import static dev.orchestra.local.LocalTesting.awaitDone;
import static dev.orchestra.local.LocalTesting.logs;
import static dev.orchestra.local.LocalTesting.open;
import static dev.orchestra.local.LocalTesting.sh;
import static dev.orchestra.local.LocalTesting.stdoutWhenDone;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.ContainerLimits;
import dev.orchestra.ContainerNotFoundException;
import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import dev.orchestra.OrchestraException;
import dev.orchestra.Task;
import dev.orchestra.Volume;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The driver as a whole: registry, parameters, namespaces, options, sharing and close. */
class LocalDriverTest {

  @TempDir Path root;

  @Test
  void isFoundByNameAndRunsUnderItsUsersDefaultRoot() {
    assertThat(Orchestra.drivers()).contains("local");
    String namespace = "default-root-" + UUID.randomUUID();
    Path namespaceRoot =
        Path.of(
            System.getProperty("java.io.tmpdir"),
            "orchestra-local-" + System.getProperty("user.name"),
            namespace);
    try (Driver driver = Orchestra.open("local", namespace)) {
      assertThat(driver.name()).isEqualTo("local");
      Container c = driver.runContainer(sh("hello", "echo hello").build());
      assertThat(stdoutWhenDone(c)).isEqualTo("hello\n");
      assertThat(c.status().exitCode()).isZero();
      assertThat(namespaceRoot).isDirectory();
    }
    assertThat(namespaceRoot).doesNotExist();
  }

  @Test
  void keepsEverythingUnderTheGivenRoot() throws Exception {
    Path customRoot = root.resolve("not/yet/there");
    try (Driver driver = Orchestra.open("local", "rooted", Map.of("root", customRoot.toString()))) {
      Container c = driver.runContainer(Task.builder().id("where").command("pwd").build());
      Path expected = customRoot.toRealPath().resolve("rooted/tasks/where/work");
      assertThat(stdoutWhenDone(c)).isEqualTo(expected + "\n");
    }
    assertThat(customRoot).isEmptyDirectory();
  }

  @Test
  void refusesAnUnknownParameterListingTheKnownOne() {
    assertThatThrownBy(() -> Orchestra.open("local", "ns", Map.of("rooot", root.toString())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'rooot'")
        .hasMessageContaining("known: root");
  }

  @Test
  void noExceptionOfOpeningShowsTheValueOfASecretParameter() {
    List<ThrowingCallable> opens =
        List.of(
            () -> Orchestra.open("local://ns?token=hunter2 x"),
            () -> Orchestra.open("local://ns?token=hunter2&x=%zz"),
            () -> Orchestra.open("local://ns?token=hunter2"),
            () -> Orchestra.open("local", "ns", Map.of("token", "hunter2")),
            () ->
                Orchestra.open("local", "ns", Map.of("root", "bad\0root", "password", "hunter2")));
    for (ThrowingCallable open : opens) {
      Throwable e = catchThrowable(open);
      assertThat(e).isInstanceOf(IllegalArgumentException.class);
      StringWriter shown = new StringWriter();
      e.printStackTrace(new PrintWriter(shown));
      assertThat(shown.toString()).doesNotContain("hunter2");
    }
  }

  @Test
  void declaresTheLifecycleCapabilitiesAndWarnsOnceForEachIgnoredOption() {
    PrintStream original = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(new Tee(original, captured), true, StandardCharsets.UTF_8));
    try (Driver driver = open(root, "options")) {
      assertThat(driver.capabilities())
          .containsExactlyInAnyOrder(
              Capability.FOLLOW,
              Capability.STOP,
              Capability.TIMEOUT,
              Capability.REATTACH,
              Capability.SANDBOX,
              Capability.VOLUME_DATA);
      for (String id : List.of("first", "second")) {
        Task task =
            sh(id, "echo ran")
                .image("busybox")
                .user("nobody")
                .privileged(true)
                .limits(new ContainerLimits(512, 64 * 1024 * 1024))
                .build();
        Container c = driver.runContainer(task);
        assertThat(stdoutWhenDone(c)).isEqualTo("ran\n");
        assertThat(c.status().exitCode()).isZero();
      }
    } finally {
      System.setErr(original);
    }
    String log = captured.toString(StandardCharsets.UTF_8);
    for (String option : List.of("IMAGE", "USER", "PRIVILEGED", "CPU_LIMIT", "MEMORY_LIMIT")) {
      assertThat(log.split("ignores option " + option + " ", -1))
          .as("warnings about %s in:%n%s", option, log)
          .hasSize(2);
    }
  }

  @Test
  void aTaskIdRunsOnceWhenManyThreadsOfTwoDriverInstancesAskAtOnce() throws Exception {
    int threads = 16;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try (Driver a = open(root, "shared");
        Driver b = open(root, "shared")) {
      Task task = sh("once", "echo run >> counter/runs").mount("counter", "counter").build();
      CyclicBarrier start = new CyclicBarrier(threads);
      List<Future<Container>> calls = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        Driver driver = i % 2 == 0 ? a : b;
        calls.add(
            pool.submit(
                () -> {
                  start.await();
                  return driver.runContainer(task);
                }));
      }
      Container first = calls.get(0).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      for (Future<Container> call : calls) {
        assertThat(call.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isSameAs(first);
      }
      assertThat(awaitDone(first).exitCode()).isZero();
      Container count =
          a.runContainer(sh("count", "cat counter/runs").mount("counter", "counter").build());
      assertThat(stdoutWhenDone(count)).isEqualTo("run\n");
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void closingOneInstanceRemovesTheTasksOfEveryInstanceOfTheNamespace() throws Exception {
    Driver b = open(root, "two");
    try (Driver a = open(root, "two")) {
      Container sleeper = a.runContainer(sh("sleeper", "echo $$; exec sleep 300").build());
      assertThat(b.runContainer(sh("sleeper", "echo never").build())).isSameAs(sleeper);
      await().atMost(TIMEOUT).until(() -> !logs(sleeper).out().isEmpty());
      ProcessHandle pid = LocalTesting.process(Long.parseLong(logs(sleeper).out().trim()));

      b.close();

      assertThat(sleeper.status().isDone()).isTrue();
      assertThat(sleeper.status().exitCode()).isEqualTo(137);
      assertThat(alive(pid)).isFalse();
      assertThatThrownBy(() -> logs(sleeper)).isInstanceOf(ContainerNotFoundException.class);
      assertThatThrownBy(() -> b.runContainer(sh("late", "true").build()))
          .isInstanceOf(IllegalStateException.class);
      Container again = a.runContainer(sh("sleeper", "echo fresh").build());
      assertThat(again).isNotSameAs(sleeper);
      assertThat(stdoutWhenDone(again)).isEqualTo("fresh\n");
    } finally {
      b.close();
    }
  }

  @Test
  void closeKillsTasksDeletesTheNamespaceRootAndIsIdempotent() throws Exception {
    Driver other = open(root, "other");
    try {
      Driver driver = open(root, "closing");
      Container sleeper = driver.runContainer(sh("sleeper", "echo $$; exec sleep 300").build());
      Volume data = driver.createVolume("data", 0);
      Container writer =
          driver.runContainer(sh("writer", "echo kept > data/file").mount("data", "data").build());
      assertThat(awaitDone(writer).exitCode()).isZero();
      Container otherTask = other.runContainer(sh("stays", "echo other").build());
      assertThat(stdoutWhenDone(otherTask)).isEqualTo("other\n");
      await().atMost(TIMEOUT).until(() -> !logs(sleeper).out().isEmpty());
      ProcessHandle pid = LocalTesting.process(Long.parseLong(logs(sleeper).out().trim()));
      Path namespaceRoot = root.toRealPath().resolve("closing");
      assertThat(namespaceRoot.resolve("volumes/data/file")).hasContent("kept");

      driver.close();

      assertThat(namespaceRoot).doesNotExist();
      assertThat(alive(pid)).isFalse();
      driver.close();
      assertThatThrownBy(() -> driver.runContainer(sh("after", "true").build()))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("closing");
      assertThatThrownBy(() -> driver.createVolume("after", 0))
          .isInstanceOf(IllegalStateException.class);
      data.cleanup();
      assertThat(logs(otherTask).out()).isEqualTo("other\n");

      try (Driver fresh = open(root, "closing")) {
        assertThat(fresh.createVolume("data", 0).name()).isEqualTo("data");
        Container list = fresh.runContainer(sh("list", "ls -A data").mount("data", "data").build());
        assertThat(stdoutWhenDone(list)).isEmpty();
      }
    } finally {
      other.close();
    }
  }

  @Test
  void createVolumeChecksItsArgumentsAndReturnsAnExistingVolumeWithItsData() {
    try (Driver driver = open(root, "vols")) {
      assertThatThrownBy(() -> driver.createVolume("../escape", 0))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("../escape");
      assertThatThrownBy(() -> driver.createVolume("..", 0))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> driver.createVolume(" ", 0))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> driver.createVolume("sized", -1))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("-1");
      assertThat(root.resolve("vols/volumes")).doesNotExist();

      Volume volume = driver.createVolume("cache", 1024);
      assertThat(volume.name()).isEqualTo("cache");
      Container write =
          driver.runContainer(sh("write", "echo data > c/file").mount("cache", "c").build());
      assertThat(awaitDone(write).exitCode()).isZero();
      driver.createVolume("cache", 0);
      Container read = driver.runContainer(sh("read", "cat c/file").mount("cache", "c").build());
      assertThat(stdoutWhenDone(read)).isEqualTo("data\n");

      volume.cleanup();
      volume.cleanup();
      Container empty = driver.runContainer(sh("empty", "ls -A c").mount("cache", "c").build());
      assertThat(stdoutWhenDone(empty)).isEmpty();
    }
  }

  @Test
  void volumeNamesThatDifferOnlyInCaseAreDifferentVolumes() {
    try (Driver driver = open(root, "case")) {
      Container upper =
          driver.runContainer(sh("upper", "echo upper > v/who").mount("Cache", "v").build());
      Container lower =
          driver.runContainer(sh("lower", "echo lower > v/who").mount("cache", "v").build());
      assertThat(awaitDone(upper).exitCode()).isZero();
      assertThat(awaitDone(lower).exitCode()).isZero();
      Container read = driver.runContainer(sh("read", "cat v/who").mount("Cache", "v").build());
      assertThat(stdoutWhenDone(read)).isEqualTo("upper\n");
    }
  }

  @Test
  void aFailedStartIsReportedAndLeavesNothingBehind() throws Exception {
    try (Driver driver = open(root, "failing")) {
      Task missing =
          Task.builder().id("missing").command("no-such-command-orchestra", "--flag").build();
      assertThatThrownBy(() -> driver.runContainer(missing))
          .isInstanceOf(OrchestraException.class)
          .hasMessageContaining("'missing'")
          .hasMessageContaining("no-such-command-orchestra");
      assertThat(root.toRealPath().resolve("failing/tasks")).isEmptyDirectory();

      Container retry = driver.runContainer(sh("missing", "echo now it runs").build());
      assertThat(stdoutWhenDone(retry)).isEqualTo("now it runs\n");
    }
  }

  /** Writes to two streams; lets a test read what the logger printed while still showing it. */
  private static final class Tee extends OutputStream {
    private final OutputStream first;
    private final OutputStream second;

    Tee(OutputStream first, OutputStream second) {
      this.first = first;
      this.second = second;
    }

    @Override
    public void write(int b) throws java.io.IOException {
      first.write(b);
      second.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws java.io.IOException {
      first.write(b, off, len);
      second.write(b, off, len);
    }

    @Override
    public void flush() throws java.io.IOException {
      first.flush();
      second.flush();
    }
  }
}
