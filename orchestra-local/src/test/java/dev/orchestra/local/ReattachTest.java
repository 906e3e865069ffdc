package dev.orchestra.local;

import static dev.orchestra.local.LocalTesting.TIMEOUT;
import static dev.orchestra.local.LocalTesting.awaitDone;
import static dev.orchestra.local.LocalTesting.logs;
import static dev.orchestra.local.LocalTesting.open;
import static dev.orchestra.local.LocalTesting.sh;
import static dev.orchestra.local.LocalTesting.stdoutWhenDone;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.ExitReason;
import dev.orchestra.spi.Names;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * find(): running tasks from any driver instance of the JVM, ended ones also after a JVM restart;
 * and what is on disk is never trusted blindly.
 */
class ReattachTest {

  @TempDir Path root;

  @Test
  void aNewDriverInstanceFindsARunningTaskOfTheSameJvm() {
    try (Driver first = open(root, "same-jvm")) {
      Container running = first.runContainer(sh("running", "exec sleep 300").build());

      Driver second = open(root, "same-jvm");
      Container found = second.find("running").orElseThrow();

      assertThat(found).isSameAs(running);
      assertThat(found.status().isDone()).isFalse();
      assertThat(second.find("unknown")).isEmpty();
      found.cleanup();
      assertThat(second.find("running")).isEmpty();
      second.close();
      assertThatThrownBy(() -> second.find("running")).isInstanceOf(IllegalStateException.class);
    }
  }

  @Test
  void refusesAnInvalidTaskId() {
    try (Driver driver = open(root, "bad-ids")) {
      assertThatThrownBy(() -> driver.find(" "))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("task id");
      assertThatThrownBy(() -> driver.find(null)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> driver.find("a\nb")).isInstanceOf(IllegalArgumentException.class);
    }
  }

  /**
   * A JVM runs tasks and exits without closing its driver; a driver of this JVM then finds the
   * ended ones with their exit code, reason, id and logs, and runs none of them again.
   */
  @Test
  void findsTasksThatEndedInAnEarlierJvm() throws Exception {
    Path driverRoot = Files.createDirectory(root.resolve("driver"));
    Path childOut = root.resolve("child.out");
    Path childErr = root.resolve("child.err");
    Process child =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx64m",
                "-Dfile.encoding=UTF-8",
                "-cp",
                System.getProperty("java.class.path"),
                ReattachChild.class.getName(),
                driverRoot.toString(),
                "restart")
            .redirectOutput(childOut.toFile())
            .redirectError(childErr.toFile())
            .start();
    long orphan = -1;
    try {
      assertThat(child.waitFor(2 * TIMEOUT.toSeconds(), TimeUnit.SECONDS))
          .as("the child JVM ended")
          .isTrue();
      assertThat(child.exitValue()).as("child's stderr: %s", Files.readString(childErr)).isZero();
      List<String> ids = Files.readAllLines(childOut);
      assertThat(ids).hasSize(5);
      orphan = Long.parseLong(ids.get(4).substring("pid=".length()));

      try (Driver driver = open(driverRoot, "restart")) {
        Container exited = driver.find(ReattachChild.EXITED).orElseThrow();
        assertThat(exited.id()).isEqualTo(ids.get(0));
        assertEnded(exited, 3, ExitReason.EXITED);
        LocalTesting.Logs logs = logs(exited);
        assertThat(logs.out()).isEqualTo("out\n");
        assertThat(logs.stderr()).containsExactly('e', 'r', 'r', ' ', 0xff);
        ByteArrayOutputStream followed = new ByteArrayOutputStream();
        exited.follow(followed, new ByteArrayOutputStream());
        assertThat(followed.toString(StandardCharsets.UTF_8)).isEqualTo("out\n");
        assertThat(driver.find(ReattachChild.EXITED)).containsSame(exited);
        assertThat(driver.runContainer(sh(ReattachChild.EXITED, "echo never").build()))
            .as("runContainer of a task id that find() knows")
            .isSameAs(exited);
        assertThat(logs(exited).out()).isEqualTo("out\n");

        Container stopped = driver.find(ReattachChild.STOPPED).orElseThrow();
        assertThat(stopped.id()).isEqualTo(ids.get(1));
        assertEnded(stopped, 143, ExitReason.STOPPED);
        assertThat(logs(stopped).out()).isEqualTo("up\n");

        Container timedOut = driver.find(ReattachChild.TIMED_OUT).orElseThrow();
        assertThat(timedOut.id()).isEqualTo(ids.get(2));
        assertEnded(timedOut, 143, ExitReason.TIMED_OUT);

        Container odd = driver.find(ReattachChild.ODD_ID).orElseThrow();
        assertThat(odd.id()).isEqualTo(ids.get(3)).startsWith(Names.safe(ReattachChild.ODD_ID));
        assertThat(logs(odd).out()).isEqualTo("odd\n");

        assertThat(driver.find(ReattachChild.RUNNING))
            .as("a task that still ran when its JVM ended")
            .isEmpty();
        Container again = driver.runContainer(sh(ReattachChild.RUNNING, "echo fresh").build());
        assertThat(stdoutWhenDone(again)).isEqualTo("fresh\n");

        exited.cleanup();
        assertThat(driver.find(ReattachChild.EXITED)).isEmpty();
      }
      assertThat(driverRoot).isEmptyDirectory();
    } finally {
      child.destroyForcibly();
      if (orphan > 0) {
        ProcessHandle.of(orphan).ifPresent(ProcessHandle::destroyForcibly);
      }
    }
  }

  private static void assertEnded(Container c, int exitCode, ExitReason reason) throws Exception {
    ContainerStatus status = c.status();
    assertThat(status.isDone()).isTrue();
    assertThat(status.exitCode()).isEqualTo(exitCode);
    assertThat(status.reason()).isEqualTo(reason);
    assertThat(c.await(TIMEOUT)).isSameAs(status);
    assertThat(c.onExit().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isSameAs(status);
    assertThat(c.stop(TIMEOUT)).isSameAs(status);
  }

  /** What a task directory left on disk can have been turned into. */
  enum Tampering {
    NONE,
    RECORD_MISSING,
    RECORD_GARBLED,
    RECORD_OF_ANOTHER_TASK,
    RECORD_IS_A_LINK,
    STDOUT_IS_A_LINK,
    TASK_ROOT_IS_A_LINK
  }

  /**
   * A task directory as an earlier JVM leaves it, then changed: only the untouched one is found;
   * any other is ignored, runs afresh, and what its links point to is left alone.
   */
  @ParameterizedTest
  @EnumSource(Tampering.class)
  void onlyAnIntactRecordOfTheVeryTaskIsFound(Tampering tampering, @TempDir Path outside)
      throws Exception {
    Path tasks = Files.createDirectories(root.resolve("disk/tasks"));
    Path taskRoot = tasks.resolve("t");
    Path secret = Files.writeString(outside.resolve("secret"), "outside\n");
    if (tampering == Tampering.TASK_ROOT_IS_A_LINK) {
      leaveEndedTask(Files.createDirectory(outside.resolve("t")), "t");
      Files.createSymbolicLink(taskRoot, outside.resolve("t"));
    } else {
      leaveEndedTask(Files.createDirectory(taskRoot), "t");
    }
    Path record = taskRoot.resolve(ExitRecord.FILE);
    switch (tampering) {
      case NONE, TASK_ROOT_IS_A_LINK -> {}
      case RECORD_MISSING -> Files.delete(record);
      case RECORD_GARBLED -> Files.writeString(record, "task=t\npid=12\nexitCode=300\n");
      case RECORD_OF_ANOTHER_TASK -> new ExitRecord("u", 12, 0, ExitReason.EXITED).write(taskRoot);
      case RECORD_IS_A_LINK -> {
        leaveEndedTask(Files.createDirectory(outside.resolve("elsewhere")), "t");
        Files.delete(record);
        Files.createSymbolicLink(record, outside.resolve("elsewhere").resolve(ExitRecord.FILE));
      }
      case STDOUT_IS_A_LINK -> {
        Files.delete(taskRoot.resolve("stdout"));
        Files.createSymbolicLink(taskRoot.resolve("stdout"), secret);
      }
    }

    try (Driver driver = open(root, "disk")) {
      if (tampering == Tampering.NONE) {
        Container found = driver.find("t").orElseThrow();
        assertThat(found.id()).isEqualTo("t-12");
        assertThat(found.status().exitCode()).isEqualTo(4);
        assertThat(found.status().reason()).isEqualTo(ExitReason.TIMED_OUT);
        assertThat(logs(found).out()).isEqualTo("left\n");
        return;
      }
      assertThat(driver.find("t")).isEmpty();
      Container fresh = driver.runContainer(sh("t", "echo fresh").build());
      assertThat(awaitDone(fresh).reason()).isEqualTo(ExitReason.EXITED);
      assertThat(logs(fresh).out()).isEqualTo("fresh\n");
    }
    assertThat(secret).hasContent("outside\n");
    if (tampering == Tampering.TASK_ROOT_IS_A_LINK) {
      assertThat(outside.resolve("t").resolve(ExitRecord.FILE)).exists();
    }
  }

  private static void leaveEndedTask(Path taskRoot, String taskId) throws IOException {
    Files.createDirectory(taskRoot.resolve("work"));
    Files.writeString(taskRoot.resolve("stdout"), "left\n");
    Files.writeString(taskRoot.resolve("stderr"), "");
    new ExitRecord(taskId, 12, 4, ExitReason.TIMED_OUT).write(taskRoot);
  }
}
