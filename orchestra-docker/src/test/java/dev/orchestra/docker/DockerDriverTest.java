package dev.orchestra.docker;

import static dev.orchestra.docker.DockerTesting.IMAGE;
import static dev.orchestra.docker.DockerTesting.awaitDone;
import static dev.orchestra.docker.DockerTesting.containersOf;
import static dev.orchestra.docker.DockerTesting.engine;
import static dev.orchestra.docker.DockerTesting.namespace;
import static dev.orchestra.docker.DockerTesting.open;
import static dev.orchestra.docker.DockerTesting.stdout;
import static dev.orchestra.docker.DockerTesting.volumesOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.github.dockerjava.api.command.BuildImageResultCallback;
import com.github.dockerjava.api.command.InspectContainerResponse;
import dev.orchestra.Container;
import dev.orchestra.ContainerLimits;
import dev.orchestra.ContainerNotFoundException;
import dev.orchestra.Driver;
import dev.orchestra.ImageNotFoundException;
import dev.orchestra.OrchestraException;
import dev.orchestra.Task;
import dev.orchestra.Volume;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What only the Docker driver does, checked on a real engine and behind the driver's back. */
@RequiresDocker
class DockerDriverTest {

  private static final String CGROUP_LIMITS =
      "cat /sys/fs/cgroup/cpu/cpu.shares 2>/dev/null || cat /sys/fs/cgroup/cpu.weight;"
          + " cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null"
          + " || cat /sys/fs/cgroup/memory.max";

  private static Task.Builder task(String id, String... command) {
    return Task.builder().id(id).image(IMAGE).command(command);
  }

  @Test
  void runsAsTheRequestedUser() {
    try (Driver driver = open(namespace("user"))) {
      Container c = driver.runContainer(task("whoami", "whoami").user("nobody").build());
      assertThat(awaitDone(c).exitCode()).isZero();
      assertThat(stdout(c)).isEqualTo("nobody\n");
    }
  }

  @Test
  void closeEndsALogsReadInProgress() throws Exception {
    Driver driver = open(namespace("close-logs"));
    ExecutorService reader = Executors.newSingleThreadExecutor();
    try {
      Container c = driver.runContainer(task("big", "sh", "-c", "seq 1 3000000").build());
      assertThat(awaitDone(c).exitCode()).isZero();
      CompletableFuture<Void> started = new CompletableFuture<>();
      // A consumer slow enough that reading the whole log would take minutes.
      OutputStream slow =
          new OutputStream() {
            @Override
            public void write(int b) {
              write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) {
              started.complete(null);
              try {
                TimeUnit.MILLISECONDS.sleep(20);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
          };
      CompletableFuture<Void> read =
          CompletableFuture.runAsync(() -> c.logs(slow, OutputStream.nullOutputStream()), reader);
      started.get(1, TimeUnit.MINUTES);

      driver.close();

      await("logs() to end once the driver is closed")
          .atMost(Duration.ofSeconds(20))
          .until(read::isDone);
      assertThat(read).isCompletedExceptionally();
    } finally {
      driver.close();
      reader.shutdownNow();
    }
  }

  @Test
  void cpuSharesAndMemoryLimitReachTheCgroup() {
    try (Driver driver = open(namespace("limits"))) {
      Container c =
          driver.runContainer(
              task("limits", "sh", "-c", CGROUP_LIMITS)
                  .limits(new ContainerLimits(512, 128L * 1024 * 1024))
                  .build());
      assertThat(awaitDone(c).exitCode()).isZero();
      List<String> lines = stdout(c).lines().toList();
      // cgroup v1 shows the shares; v2 shows them converted to a weight (512 -> 20).
      assertThat(lines.get(0)).isIn("512", "20");
      assertThat(lines.get(1)).isEqualTo(Long.toString(128L * 1024 * 1024));
    }
  }

  @Test
  void memoryLimitAloneLeavesTheCpuDefault() {
    try (Driver driver = open(namespace("memory"))) {
      Container c =
          driver.runContainer(
              task("memory", "sh", "-c", CGROUP_LIMITS)
                  .limits(new ContainerLimits(0, 64L * 1024 * 1024))
                  .build());
      assertThat(awaitDone(c).exitCode()).isZero();
      List<String> lines = stdout(c).lines().toList();
      assertThat(lines.get(0)).isIn("1024", "100");
      assertThat(lines.get(1)).isEqualTo(Long.toString(64L * 1024 * 1024));
    }
  }

  @Test
  void privilegedReachesTheEngine() {
    String namespace = namespace("priv");
    try (Driver driver = open(namespace)) {
      // Creating a network link needs CAP_NET_ADMIN, which only a privileged container has.
      Task privileged =
          task("privileged", "sh", "-c", "ip link add orchestra0 type dummy && echo privileged")
              .privileged(true)
              .build();
      Container c;
      try {
        c = driver.runContainer(privileged);
      } catch (OrchestraException refused) {
        // Hosts whose capability bounding set is reduced (such as the CI machines) refuse
        // privileged containers: the refusal must carry the engine's answer and leave nothing.
        assertThat(refused)
            .hasMessageContaining("starting privileged container")
            .hasMessageContaining("'privileged'")
            .hasMessageContaining("the engine answered");
        assertThat(containersOf(namespace)).isEmpty();
        // The same task unprivileged starts, so the refusal came from the flag.
        Container plain =
            driver.runContainer(privileged.toBuilder().id("plain").privileged(false).build());
        assertThat(awaitDone(plain).exitCode()).isNotZero();
        return;
      }
      InspectContainerResponse inspected = engine().inspectContainerCmd(c.id()).exec();
      assertThat(inspected.getHostConfig().getPrivileged()).isTrue();
      assertThat(awaitDone(c).exitCode()).isZero();
      assertThat(stdout(c)).isEqualTo("privileged\n");
    }
  }

  @Test
  void localImageRunsWithPullNever() {
    try (Driver driver = open(namespace("never"), Map.of("pull", "never"))) {
      Container c = driver.runContainer(task("local", "echo", "offline").build());
      assertThat(awaitDone(c).exitCode()).isZero();
      assertThat(stdout(c)).isEqualTo("offline\n");
    }
  }

  @Test
  void absentImageFailsClearlyWithPullNever() {
    String namespace = namespace("never");
    String image = "orchestra-test/absent-" + UUID.randomUUID() + ":1";
    try (Driver driver = open(namespace, Map.of("pull", "never"))) {
      assertThatThrownBy(
              () ->
                  driver.runContainer(
                      Task.builder().id("absent").image(image).command("true").build()))
          .isInstanceOf(ImageNotFoundException.class)
          .hasMessageContaining(image)
          .hasMessageContaining("'never'")
          .satisfies(e -> assertThat(((ImageNotFoundException) e).image()).isEqualTo(image));
      assertThat(containersOf(namespace)).isEmpty();
    }
  }

  @Test
  void absentImageThatCannotBePulledFailsClearlyWithPullMissing() {
    String namespace = namespace("missing");
    String image = "orchestra-test/absent-" + UUID.randomUUID() + ":1";
    try (Driver driver = open(namespace)) {
      assertThatThrownBy(
              () ->
                  driver.runContainer(
                      Task.builder()
                          .id("absent")
                          .image(image)
                          .command("true")
                          .mount("cache", "cache")
                          .build()))
          .isInstanceOf(ImageNotFoundException.class)
          .hasMessageContaining(image)
          .hasMessageContaining("could not be pulled");
      assertThat(containersOf(namespace)).isEmpty();
      assertThat(volumesOf(namespace)).isEmpty();
    }
  }

  @Test
  void closeRemovesRunningContainersAndVolumesOfItsNamespaceOnly() {
    String namespace = namespace("close");
    String otherNamespace = namespace("spared");
    try (Driver other = open(otherNamespace)) {
      Container spared = other.runContainer(task("sleeper", "sleep", "300").build());
      other.createVolume("data", 0);
      Driver driver = open(namespace);
      try {
        driver.createVolume("data", 0);
        Container sleeper =
            driver.runContainer(task("sleeper", "sleep", "300").mount("data", "data").build());
        assertThat(sleeper.status().isDone()).isFalse();
        assertThat(containersOf(namespace)).hasSize(1);
        assertThat(volumesOf(namespace)).hasSize(1);

        driver.close();

        assertThat(containersOf(namespace)).isEmpty();
        assertThat(volumesOf(namespace)).isEmpty();
        assertThat(containersOf(otherNamespace)).hasSize(1);
        assertThat(volumesOf(otherNamespace)).hasSize(1);
        assertThat(spared.status().isDone()).isFalse();
        assertThatThrownBy(() -> driver.runContainer(task("late", "true").build()))
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining(namespace);
      } finally {
        driver.close();
      }
    }
    assertThat(containersOf(otherNamespace)).isEmpty();
    assertThat(volumesOf(otherNamespace)).isEmpty();
  }

  @Test
  void containerRemovedBehindTheDriversBackIsNotFound() {
    try (Driver driver = open(namespace("gone"))) {
      Task sleeper = task("vanishing", "sleep", "300").build();
      Container c = driver.runContainer(sleeper);
      engine().removeContainerCmd(c.id()).withForce(true).exec();

      assertThatThrownBy(c::status)
          .isInstanceOf(ContainerNotFoundException.class)
          .hasMessageContaining("vanishing")
          .satisfies(
              e -> assertThat(((ContainerNotFoundException) e).taskId()).isEqualTo("vanishing"));
      assertThatThrownBy(() -> c.logs(new ByteArrayOutputStream(), new ByteArrayOutputStream()))
          .isInstanceOf(ContainerNotFoundException.class);
      c.cleanup();

      Container again =
          driver.runContainer(sleeper.toBuilder().command("echo", "fresh run").build());
      assertThat(again.id()).isNotEqualTo(c.id());
      assertThat(awaitDone(again).exitCode()).isZero();
      assertThat(stdout(again)).isEqualTo("fresh run\n");
    }
  }

  @Test
  void imageEntrypointIsClearedSoTheCommandIsTheWholeArgv(@TempDir Path context)
      throws IOException {
    String image = "orchestra-test/entrypoint:" + UUID.randomUUID().toString().substring(0, 8);
    Files.writeString(
        context.resolve("Dockerfile"),
        "FROM " + IMAGE + "\nENTRYPOINT [\"echo\", \"from-entrypoint\"]\n");
    engine()
        .buildImageCmd(context.toFile())
        .withTags(Set.of(image))
        .exec(new BuildImageResultCallback())
        .awaitImageId();
    try (Driver driver = open(namespace("entry"), Map.of("pull", "never"))) {
      Container c =
          driver.runContainer(
              Task.builder().id("argv").image(image).command("echo", "only", "argv").build());
      assertThat(awaitDone(c).exitCode()).isZero();
      assertThat(stdout(c)).isEqualTo("only argv\n");
    } finally {
      engine().removeImageCmd(image).withForce(true).exec();
    }
  }

  @Test
  void containerNamesLabelsAndTaskDirectory() {
    String namespace = namespace("names");
    try (Driver driver = open(namespace)) {
      String taskId = "Build #1 (ünïcode)";
      Container c = driver.runContainer(task(taskId, "pwd").mount("Cache Dir", "cache").build());
      String name = DockerNames.of(namespace, taskId);
      InspectContainerResponse inspected = engine().inspectContainerCmd(c.id()).exec();
      assertThat(inspected.getName()).isEqualTo("/" + name);
      assertThat(inspected.getConfig().getLabels())
          .containsEntry(Labels.NAMESPACE, namespace)
          .containsEntry(Labels.TASK_ID, taskId);
      assertThat(awaitDone(c).exitCode()).isZero();
      assertThat(stdout(c)).isEqualTo("/tmp/orchestra/" + name + "\n");

      var volume = engine().inspectVolumeCmd(DockerNames.of(namespace, "Cache Dir")).exec();
      assertThat(volume.getLabels())
          .containsEntry(Labels.NAMESPACE, namespace)
          .containsEntry(Labels.VOLUME, "Cache Dir");
    }
  }

  @Test
  void aForeignContainerHoldingTheNameIsRefusedClearly() {
    String namespace = namespace("foreign");
    String name = DockerNames.of(namespace, "job");
    String foreign =
        engine().createContainerCmd(IMAGE).withName(name).withCmd("true").exec().getId();
    try (Driver driver = open(namespace)) {
      assertThatThrownBy(() -> driver.runContainer(task("job", "true").build()))
          .isInstanceOf(OrchestraException.class)
          .hasMessageContaining(name)
          .hasMessageContaining("no Orchestra namespace");
    } finally {
      engine().removeContainerCmd(foreign).withForce(true).exec();
    }
  }

  @Test
  void logsKeepBytesThatAreNotText() {
    try (Driver driver = open(namespace("binary"))) {
      Container c =
          driver.runContainer(
              task("bytes", "sh", "-c", "printf '\\377\\000\\376x'; printf 'e\\200' >&2").build());
      assertThat(awaitDone(c).exitCode()).isZero();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      c.logs(out, err);
      assertThat(out.toByteArray()).containsExactly(0xff, 0x00, 0xfe, 'x');
      assertThat(err.toByteArray()).containsExactly('e', 0x80);
    }
  }

  @Test
  void stdinOfSeveralMegabytesArrivesWholeThenEndOfFile() throws NoSuchAlgorithmException {
    byte[] input = new byte[5 * 1024 * 1024 + 17];
    new Random(42).nextBytes(input);
    String md5 = HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(input));
    try (Driver driver = open(namespace("stdin"))) {
      Container c = driver.runContainer(task("md5", "md5sum").stdin(input).build());
      assertThat(awaitDone(c).exitCode()).isZero();
      assertThat(stdout(c)).isEqualTo(md5 + "  -\n");
    }
  }

  @Test
  void oneContainerForSixteenThreadsOverTwoDriverInstances() throws Exception {
    String namespace = namespace("idem");
    Task once = task("once", "sh", "-c", "echo ran; sleep 1").build();
    ExecutorService pool = Executors.newFixedThreadPool(16);
    try (Driver first = open(namespace);
        Driver second = open(namespace)) {
      List<CompletableFuture<Container>> runs =
          IntStream.range(0, 16)
              .mapToObj(
                  i ->
                      CompletableFuture.supplyAsync(
                          () -> (i % 2 == 0 ? first : second).runContainer(once), pool))
              .toList();
      Set<String> ids =
          runs.stream()
              .map(CompletableFuture::join)
              .map(Container::id)
              .collect(java.util.stream.Collectors.toSet());
      assertThat(ids).hasSize(1);
      assertThat(containersOf(namespace)).hasSize(1);
      Container c = runs.get(0).join();
      assertThat(awaitDone(c).exitCode()).isZero();
      assertThat(stdout(c)).isEqualTo("ran\n");
    } finally {
      pool.shutdownNow();
      assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  void stdinTextIsUtf8() {
    try (Driver driver = open(namespace("text"))) {
      Container c = driver.runContainer(task("cat", "cat").stdin("héllo\nwörld").build());
      assertThat(awaitDone(c).exitCode()).isZero();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      c.logs(out, new ByteArrayOutputStream());
      assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("héllo\nwörld");
    }
  }

  @Test
  void aTaskThatIgnoresItsStdinEndsNormallyAndTheStreamIsClosed() {
    AtomicBoolean closed = new AtomicBoolean();
    InputStream input =
        new ByteArrayInputStream(new byte[16 * 1024 * 1024]) {
          @Override
          public void close() {
            closed.set(true);
          }
        };
    try (Driver driver = open(namespace("ignore"))) {
      Container c = driver.runContainer(task("ignore", "true").stdin(input).build());
      assertThat(awaitDone(c).exitCode()).isZero();
      await().atMost(DockerTesting.TASK_TIMEOUT).untilTrue(closed);
    }
  }

  @Test
  void aVolumeARunningTaskUsesIsNotRemovedButNamed() {
    String namespace = namespace("busy");
    try (Driver driver = open(namespace)) {
      Volume volume = driver.createVolume("busy", 0);
      Container c = driver.runContainer(task("user", "sleep", "300").mount("busy", "v").build());
      assertThatThrownBy(volume::cleanup)
          .isInstanceOf(OrchestraException.class)
          .hasMessageContaining("'busy'")
          .hasMessageContaining("in use by")
          .hasMessageContaining("task 'user'");
      c.cleanup();
      volume.cleanup();
      assertThat(volumesOf(namespace)).isEmpty();
    }
  }

  @Test
  void stdinOverTcpArrivesWholeThenEndOfFile() throws Exception {
    byte[] input = new byte[4 * 1024 * 1024 + 3];
    new Random(7).nextBytes(input);
    String md5 = HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(input));
    try (TcpEngine engine = TcpEngine.open();
        Driver driver = open(namespace("tcp"), Map.of("host", engine.host()))) {
      List<Container> tasks = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        tasks.add(driver.runContainer(task("md5-" + i, "md5sum").stdin(input).build()));
      }
      Container ignoring = driver.runContainer(task("ignore", "true").stdin(input).build());
      for (Container c : tasks) {
        assertThat(awaitDone(c).exitCode()).isZero();
        assertThat(stdout(c)).isEqualTo(md5 + "  -\n");
      }
      assertThat(awaitDone(ignoring).exitCode()).isZero();
    }
  }
}
