package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.ContainerNotFoundException;
import dev.orchestra.ContainerStatus;
import dev.orchestra.OrchestraInterruptedException;
import java.io.ByteArrayOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@link Container#follow}: the output as it is produced, on two streams, until the task ends.
 * Requires {@link Capability#FOLLOW}.
 */
abstract class FollowRules extends DriverRules {

  FollowRules(DriverTck kit) {
    super(kit);
  }

  @BeforeEach
  void requireFollow() {
    requireCapability(Capability.FOLLOW);
  }

  @Test
  @DisplayName(
      "the first line of each stream arrives, on its own stream, while the task still runs;"
          + " follow() ends once the task is cleaned up")
  void firstLineBeforeEnd() {
    Container c =
        driver.runContainer(task("talker", sh("echo first; echo oops >&2; sleep 300")).build());
    Follower f = new Follower(c);

    awaitAtMost("follow() to deliver the first line of each stream of a running task")
        .untilAsserted(
            () -> {
              f.call.rethrowIfFailed();
              assertThat(f.out()).as("stdout followed").isEqualTo("first\n");
              assertThat(f.err()).as("stderr followed").isEqualTo("oops\n");
            });
    assertThat(c.status().isDone()).as("isDone() of a task sleeping 300 s").isFalse();
    assertThat(f.call.isRunning()).as("follow() still runs while the task runs").isTrue();

    c.cleanup();
    Throwable ended = f.call.thrown(awaitTimeout(), "follow() once the task was cleaned up");
    if (ended != null) {
      assertThat(ended)
          .as("what follow() threw once the task was cleaned up (if anything)")
          .isInstanceOf(ContainerNotFoundException.class);
    }
  }

  @Test
  @DisplayName(
      "1 MiB on each stream written just before exit: follow() delivers it byte for byte,"
          + " nothing lost or doubled, the same bytes as logs()")
  void megabytesAtExitExact() {
    Container c =
        driver.runContainer(
            task(
                    "mebibyte",
                    sh(
                        "sleep 1; yes out | head -c 1048576; printf tail;"
                            + " yes err | head -c 1048576 >&2; printf tail >&2"))
                .build());
    Follower f = new Follower(c);

    f.call.result(awaitTimeout(), "follow() of a task that ends");

    byte[] out = ("out\n".repeat(MIB / 4) + "tail").getBytes(UTF8);
    byte[] err = ("err\n".repeat(MIB / 4) + "tail").getBytes(UTF8);
    assertThat(c.status().isDone()).as("isDone() once follow() returned").isTrue();
    assertSameBytes("stdout followed", f.stdout(), out);
    assertSameBytes("stderr followed", f.stderr(), err);
    Output logs = logsOf(c);
    assertSameBytes("stdout of logs() after follow()", logs.stdout(), out);
    assertSameBytes("stderr of logs() after follow()", logs.stderr(), err);
  }

  @Test
  @DisplayName(
      "follow() returns once the task has ended, with all it wrote, and not before: the status"
          + " is then final")
  void returnsWhenTaskEnds() {
    Container c =
        driver.runContainer(
            task("steps", sh("echo first; sleep 1; echo second >&2; sleep 1; echo last; exit 3"))
                .build());
    Follower f = new Follower(c);

    f.call.result(awaitTimeout(), "follow() of a task that ends after 2 s");

    ContainerStatus s = c.status();
    assertThat(s.isDone()).as("isDone() once follow() returned").isTrue();
    assertThat(s.exitCode()).as("exit code once follow() returned").isEqualTo(3);
    assertThat(f.out()).as("stdout followed").isEqualTo("first\nlast\n");
    assertThat(f.err()).as("stderr followed").isEqualTo("second\n");
  }

  @Test
  @DisplayName("follow() of a finished task delivers everything and returns, as often as asked")
  void finishedTask() {
    Result r = runToEnd(task("done", sh("echo out; printf err >&2; exit 2")).build());

    for (int call = 1; call <= 2; call++) {
      Follower f = new Follower(r.container());
      f.call.result(promptly(), "follow() of a finished task");
      assertThat(f.out()).as("stdout followed, call %d", call).isEqualTo("out\n");
      assertThat(f.err()).as("stderr followed, call %d", call).isEqualTo("err");
    }
  }

  @Test
  @DisplayName(
      "interrupting the following thread stops follow() promptly with"
          + " OrchestraInterruptedException, its interrupt flag set; the task runs on")
  void interruptStopsFollow() {
    Container c = driver.runContainer(task("talker", sh("echo first; sleep 300")).build());
    Follower f = new Follower(c);
    awaitAtMost("follow() to deliver the first line")
        .untilAsserted(
            () -> {
              f.call.rethrowIfFailed();
              assertThat(f.out()).as("stdout followed").isEqualTo("first\n");
            });

    f.call.interrupt();

    Throwable thrown = f.call.thrown(promptly(), "follow() after its thread was interrupted");
    assertThat(thrown)
        .as("what follow() threw when its thread was interrupted")
        .isInstanceOf(OrchestraInterruptedException.class);
    assertThat(f.call.interruptFlagAtEnd())
        .as("interrupt flag of the following thread after follow() threw")
        .isTrue();
    assertThat(c.status().isDone()).as("isDone() of the task whose follower stopped").isFalse();
  }

  /** A follow() call on a thread of its own, into buffers a test reads while it runs. */
  private final class Follower {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    final Background<Void> call;

    Follower(Container c) {
      call =
          inBackground(
              "follow of " + c.id(),
              () -> {
                c.follow(out, err);
                return null;
              });
    }

    byte[] stdout() {
      return out.toByteArray();
    }

    byte[] stderr() {
      return err.toByteArray();
    }

    String out() {
      return new String(stdout(), UTF8);
    }

    String err() {
      return new String(stderr(), UTF8);
    }
  }
}
