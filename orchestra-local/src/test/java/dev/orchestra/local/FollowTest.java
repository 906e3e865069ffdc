package dev.orchestra.local;

import static dev.orchestra.local.LocalTesting.TIMEOUT;
import static dev.orchestra.local.LocalTesting.awaitDone;
import static dev.orchestra.local.LocalTesting.logs;
import static dev.orchestra.local.LocalTesting.open;
import static dev.orchestra.local.LocalTesting.sh;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.orchestra.Container;
import dev.orchestra.ContainerNotFoundException;
import dev.orchestra.Driver;
import dev.orchestra.OrchestraInterruptedException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** follow(): live, separated, byte exact, complete at the end, and prompt to interrupt. */
class FollowTest {

  @TempDir Path root;
  private Driver driver;

  @BeforeEach
  void openDriver() {
    driver = open(root, "follow");
  }

  @AfterEach
  void closeDriver() {
    driver.close();
  }

  @Test
  void deliversTheFirstLineBeforeTheTaskEndsThenEverythingAndReturns() throws Exception {
    Container c =
        driver.runContainer(
            sh(
                    "gated",
                    "echo first; echo early >&2;"
                        + " while [ ! -e gate ]; do sleep 0.02; done;"
                        + " echo last; printf 'no newline' >&2")
                .build());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    CompletableFuture<Void> following = CompletableFuture.runAsync(() -> c.follow(out, err));
    try {
      await().atMost(TIMEOUT).until(() -> out.toString(StandardCharsets.UTF_8).equals("first\n"));
      await().atMost(TIMEOUT).until(() -> err.toString(StandardCharsets.UTF_8).equals("early\n"));
      assertThat(c.status().isDone()).isFalse();
      assertThat(following).isNotDone();
    } finally {
      Files.createFile(LocalTesting.taskDir(root, "follow", "gated").resolve("gate"));
    }
    following.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);

    assertThat(c.status().isDone()).isTrue();
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("first\nlast\n");
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("early\nno newline");
  }

  @Test
  void losesAndRepeatsNoByteOfOutputWrittenUpToTheMomentOfExit() {
    Container c =
        driver.runContainer(
            sh("chatty", "seq 1 200000 & seq 200001 300000 >&2; wait; printf '\\000\\377end'")
                .build());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();

    c.follow(out, err);

    assertThat(c.status().isDone()).isTrue();
    LocalTesting.Logs logs = logs(c);
    assertThat(out.toByteArray()).isEqualTo(logs.stdout());
    assertThat(err.toByteArray()).isEqualTo(logs.stderr());
    assertThat(logs.out()).startsWith("1\n2\n").endsWith("200000\n\u0000\ufffdend");
    assertThat(logs.err()).startsWith("200001\n").endsWith("\n300000\n");
  }

  @Test
  void onATaskThatEndedDeliversEverythingAndReturns() {
    Container c = driver.runContainer(sh("ended", "echo out; echo err >&2; exit 4").build());
    assertThat(awaitDone(c).exitCode()).isEqualTo(4);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();

    c.follow(out, err);
    c.follow(out, err);

    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("out\nout\n");
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("err\nerr\n");
  }

  @Test
  void stopsPromptlyWhenTheCallingThreadIsInterrupted() throws Exception {
    Container c = driver.runContainer(sh("endless", "echo up; exec sleep 300").build());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CompletableFuture<Throwable> thrown = new CompletableFuture<>();
    AtomicBoolean flagAfterwards = new AtomicBoolean();
    Thread follower =
        new Thread(
            () -> {
              try {
                c.follow(out, new ByteArrayOutputStream());
                thrown.complete(null);
              } catch (RuntimeException e) {
                flagAfterwards.set(Thread.currentThread().isInterrupted());
                thrown.complete(e);
              }
            },
            "follower");
    follower.start();
    try {
      await().atMost(TIMEOUT).until(() -> out.toString(StandardCharsets.UTF_8).equals("up\n"));

      follower.interrupt();

      assertThat(thrown.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS))
          .isInstanceOf(OrchestraInterruptedException.class)
          .hasMessageContaining("endless");
      assertThat(flagAfterwards).isTrue();
      assertThat(c.status().isDone()).isFalse();
    } finally {
      follower.interrupt();
      follower.join(TIMEOUT.toMillis());
    }
  }

  @Test
  void aCleanedUpTaskCannotBeFollowed() {
    Container c = driver.runContainer(sh("gone", "echo bye").build());
    awaitDone(c);
    c.cleanup();
    assertThatThrownBy(() -> c.follow(new ByteArrayOutputStream(), new ByteArrayOutputStream()))
        .isInstanceOf(ContainerNotFoundException.class)
        .hasMessageContaining("gone");
  }
}
