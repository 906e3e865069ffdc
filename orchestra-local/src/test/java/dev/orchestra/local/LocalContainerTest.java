package dev.orchestra.local;

import static dev.orchestra.local.LocalTesting.TIMEOUT;
import static dev.orchestra.local.LocalTesting.awaitDone;
import static dev.orchestra.local.LocalTesting.logs;
import static dev.orchestra.local.LocalTesting.open;
import static dev.orchestra.local.LocalTesting.sh;
import static dev.orchestra.local.LocalTesting.stdoutWhenDone;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.orchestra.Container;
import dev.orchestra.ContainerNotFoundException;
import dev.orchestra.Driver;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.Task;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One task's process: environment, input, output, exit code, directory, mounts and cleanup. */
class LocalContainerTest {

  @TempDir Path root;
  private Driver driver;

  @BeforeEach
  void openDriver() {
    driver = open(root, "containers");
  }

  @AfterEach
  void closeDriver() {
    driver.close();
  }

  private Path taskRoot(String taskId) throws IOException {
    return root.toRealPath().resolve("containers/tasks").resolve(taskId);
  }

  @Test
  void theEnvironmentHoldsOnlyTheTaskVariablesAndPath() {
    Map<String, String> given =
        Map.of("SPACED", "a b  c", "EQUALS", "k=v=w", "EMPTY", "", "ACCENT", "h\u00e9llo \u2603");
    Container c = driver.runContainer(Task.builder().id("env").command("env").env(given).build());
    Map<String, String> seen = new HashMap<>();
    stdoutWhenDone(c)
        .lines()
        .forEach(
            line ->
                seen.put(
                    line.substring(0, line.indexOf('=')), line.substring(line.indexOf('=') + 1)));
    Map<String, String> expected = new HashMap<>(given);
    expected.put("PATH", System.getenv("PATH"));
    assertThat(seen).isEqualTo(expected);
  }

  @Test
  void aTaskMaySetItsOwnPath() {
    Container c =
        driver.runContainer(
            Task.builder().id("path").command("/usr/bin/env").env("PATH", "/nowhere").build());
    assertThat(stdoutWhenDone(c)).isEqualTo("PATH=/nowhere\n");
  }

  @Test
  void exitCodesAreTheProcessOwnAndSignalsRead128PlusN() {
    Container three = driver.runContainer(sh("three", "exit 3").build());
    Container term = driver.runContainer(sh("term", "kill -TERM $$").build());
    assertThat(awaitDone(three).exitCode()).isEqualTo(3);
    assertThat(awaitDone(term).exitCode()).isEqualTo(143);
    assertThat(three.status()).isSameAs(three.status());
  }

  @Test
  void logsAreBinaryExactSeparateAndRepeatable() {
    Container c =
        driver.runContainer(sh("bytes", "printf 'out\\000\\377'; printf 'no newline' >&2").build());
    awaitDone(c);
    for (int i = 0; i < 2; i++) {
      LocalTesting.Logs logs = logs(c);
      assertThat(logs.stdout()).containsExactly('o', 'u', 't', 0, 0xff);
      assertThat(logs.err()).isEqualTo("no newline");
    }
  }

  @Test
  void logsStreamWhileTheTaskRuns() {
    Container c = driver.runContainer(sh("running", "echo first; exec sleep 300").build());
    await().atMost(TIMEOUT).until(() -> logs(c).out().equals("first\n"));
    assertThat(c.status().isDone()).isFalse();
    assertThat(c.status().exitCode()).isEqualTo(-1);
  }

  @Test
  void stdinStreamIsDeliveredWholeThenClosed() {
    byte[] input = new byte[3 * 1024 * 1024 + 17];
    new Random(42).nextBytes(input);
    AtomicBoolean closed = new AtomicBoolean();
    FilterInputStream source =
        new FilterInputStream(new ByteArrayInputStream(input)) {
          @Override
          public void close() throws IOException {
            closed.set(true);
            super.close();
          }
        };
    Container c =
        driver.runContainer(Task.builder().id("cat").command("cat").stdin(source).build());
    assertThat(awaitDone(c).exitCode()).isZero();
    assertThat(logs(c).stdout()).isEqualTo(input);
    await().atMost(TIMEOUT).untilTrue(closed);
  }

  @Test
  void withoutStdinTheTaskReadsEndOfFileAtOnce() {
    Container c = driver.runContainer(Task.builder().id("cat").command("cat").build());
    assertThat(awaitDone(c).exitCode()).isZero();
    assertThat(logs(c).stdout()).isEmpty();
  }

  @Test
  void theWorkingDirectoryIsTheTaskDirectoryOrTheGivenOneInsideIt() throws Exception {
    Container plain = driver.runContainer(Task.builder().id("plain").command("pwd").build());
    Container nested =
        driver.runContainer(
            Task.builder().id("nested").command("pwd").workDir("/src/module").build());
    assertThat(stdoutWhenDone(plain)).isEqualTo(taskRoot("plain").resolve("work") + "\n");
    assertThat(stdoutWhenDone(nested))
        .isEqualTo(taskRoot("nested").resolve("work/src/module") + "\n");
  }

  @Test
  void mountsAppearInsideTheTaskDirectoryAbsoluteRelativeAndNested() {
    Task write =
        sh("write", "echo hi > ./test/hello && echo m2 > cache/m2/file && echo c > cache/top")
            .mount("greeting", "/test")
            .mount("maven", "cache/m2")
            .mount("cache", "cache")
            .build();
    assertThat(awaitDone(driver.runContainer(write)).exitCode()).isZero();

    Task read =
        sh("read", "cat test/hello cache/m2/file cache/top")
            .mount("greeting", "test")
            .mount("cache", "/cache")
            .mount("maven", "/cache/m2")
            .build();
    Container c = driver.runContainer(read);
    assertThat(stdoutWhenDone(c)).isEqualTo("hi\nm2\nc\n");
  }

  @Test
  void cleanupStopsTheTaskDeletesItsDirectoryAndForgetsIt() throws Exception {
    Container c = driver.runContainer(sh("sleepy", "echo up; exec sleep 300").build());
    await().atMost(TIMEOUT).until(() -> logs(c).out().equals("up\n"));
    String id = c.id();

    c.cleanup();
    c.cleanup();

    assertThat(c.id()).isEqualTo(id);
    assertThat(c.status().isDone()).isTrue();
    assertThat(c.status().exitCode()).isEqualTo(137);
    assertThat(taskRoot("sleepy")).doesNotExist();
    assertThatThrownBy(() -> c.logs(new ByteArrayOutputStream(), new ByteArrayOutputStream()))
        .isInstanceOf(ContainerNotFoundException.class)
        .hasMessageContaining("sleepy");
    Container again = driver.runContainer(sh("sleepy", "echo second").build());
    assertThat(again).isNotSameAs(c);
    assertThat(stdoutWhenDone(again)).isEqualTo("second\n");
  }

  @Test
  void cleanupRemovesLinksWithoutFollowingThem(@TempDir Path outside) throws Exception {
    Path sentinel = Files.writeString(outside.resolve("sentinel"), "keep me");
    Task task =
        sh(
                "links",
                "ln -s \"$OUTSIDE\" escape && ln -s \"$OUTSIDE/sentinel\" file && echo v > vol/f")
            .env("OUTSIDE", outside.toString())
            .mount("precious", "vol")
            .build();
    Container c = driver.runContainer(task);
    assertThat(awaitDone(c).exitCode()).isZero();

    c.cleanup();

    assertThat(sentinel).hasContent("keep me");
    Container read = driver.runContainer(sh("read", "cat vol/f").mount("precious", "vol").build());
    assertThat(stdoutWhenDone(read)).isEqualTo("v\n");
  }

  @Test
  void cleanupDeletesDirectoriesATaskMadeReadOnly() throws Exception {
    Container c =
        driver.runContainer(
            sh("readonly", "mkdir -p ro/sub && touch ro/sub/f && chmod -R a-w ro").build());
    assertThat(awaitDone(c).exitCode()).isZero();
    c.cleanup();
    assertThat(taskRoot("readonly")).doesNotExist();
  }

  @Test
  void blockingCallsAnswerInterruption() {
    Container c = driver.runContainer(sh("interrupted", "echo some output").build());
    awaitDone(c);
    Thread.currentThread().interrupt();
    try {
      assertThatThrownBy(() -> logs(c)).isInstanceOf(OrchestraInterruptedException.class);
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
      assertThatThrownBy(c::cleanup).isInstanceOf(OrchestraInterruptedException.class);
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
    assertThat(logs(c).out()).isEqualTo("some output\n");
  }
}
