package dev.orchestra.tck;

import static dev.orchestra.tck.BrokenDrivers.containers;
import static dev.orchestra.tck.BrokenDrivers.tasks;

import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.Task;
import dev.orchestra.tck.BrokenDrivers.BrokenTck;
import dev.orchestra.tck.BrokenDrivers.WholeLines;
import dev.orchestra.tck.ForwardingDriver.ForwardingContainer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Broken drivers of what a task is given and gives: its command, environment, stdin, logs and
 * followed output. Each is a {@link DriverTck} run against a wrapper of the local driver that
 * breaks one rule, as a driver author could; {@link DriverTckSelfTest#proofs()} states what each
 * fails.
 */
final class BrokenOutput {

  private BrokenOutput() {}

  /** Empty arguments of the command are dropped, as when a command line is joined and split. */
  static final class ArgsDropEmpty extends BrokenTck {
    ArgsDropEmpty() {
      super(
          tasks(
              task -> {
                List<String> kept = task.command().stream().filter(a -> !a.isEmpty()).toList();
                return task.toBuilder().command(kept).build();
              }));
    }
  }

  /** The caller's marker variable is passed on to every task. */
  static final class EnvLeaksCaller extends BrokenTck {
    EnvLeaksCaller() {
      super(
          tasks(
              task -> {
                String marker = System.getenv(DriverTck.CALLER_MARKER);
                return marker == null
                    ? task
                    : task.toBuilder().env(DriverTck.CALLER_MARKER, marker).build();
              }));
    }
  }

  /** Variables with an empty value are dropped. */
  static final class EnvDropsEmpty extends BrokenTck {
    EnvDropsEmpty() {
      super(
          tasks(
              task -> {
                Map<String, String> kept = new LinkedHashMap<>(task.env());
                kept.values().removeIf(String::isEmpty);
                Task.Builder b = Task.builder().id(task.id()).command(task.command()).env(kept);
                task.mounts().forEach(m -> b.mount(m.name(), m.path()));
                task.workDir().ifPresent(b::workDir);
                task.stdin().ifPresent(b::stdin);
                return b.build();
              }));
    }
  }

  /** The task's input is replaced by no input at all. */
  static final class StdinDropped extends BrokenTck {
    StdinDropped() {
      super(tasks(task -> task.toBuilder().stdin(new byte[0]).build()));
    }
  }

  /**
   * A task given no stdin gets one that is never closed, as a container created with an open stdin
   * nobody writes to: a task that reads it waits rather than reading end of file. (The stream ends
   * after 30 s, so that nothing is left waiting.)
   */
  static final class StdinNeverClosed extends BrokenTck {
    StdinNeverClosed() {
      super(
          tasks(
              task ->
                  task.stdin().isPresent()
                      ? task
                      : task.toBuilder().stdin(new Silent(Duration.ofSeconds(30))).build()));
    }

    /** A stream that gives no byte until its time is over (or its reader is interrupted). */
    private static final class Silent extends InputStream {
      private final CountDownLatch never = new CountDownLatch(1);
      private final Duration time;

      Silent(Duration time) {
        this.time = time;
      }

      @Override
      public int read() {
        try {
          never.await(time.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return -1;
      }
    }
  }

  /** stderr is written into stdout, as with a terminal attached: the stderr stream stays empty. */
  static final class LogsMergedIntoStdout extends BrokenTck {
    LogsMergedIntoStdout() {
      super(
          containers(
              c ->
                  new ForwardingContainer(c) {
                    @Override
                    public void logs(OutputStream stdout, OutputStream stderr) {
                      delegate.logs(stdout, stdout);
                    }
                  }));
    }
  }

  /** logs() passes on whole lines only: a last line without newline is lost. */
  static final class LogsDropPartialLastLine extends BrokenTck {
    LogsDropPartialLastLine() {
      super(
          containers(
              c ->
                  new ForwardingContainer(c) {
                    @Override
                    public void logs(OutputStream stdout, OutputStream stderr) {
                      delegate.logs(new WholeLines(stdout), new WholeLines(stderr));
                    }
                  }));
    }
  }

  /**
   * The logs pass through a String (decoded as UTF-8 and encoded again): bytes that are no UTF-8
   * are replaced.
   */
  static final class LogsDecodedAsText extends BrokenTck {
    LogsDecodedAsText() {
      super(
          containers(
              c ->
                  new ForwardingContainer(c) {
                    @Override
                    public void logs(OutputStream stdout, OutputStream stderr) {
                      ByteArrayOutputStream out = new ByteArrayOutputStream();
                      ByteArrayOutputStream err = new ByteArrayOutputStream();
                      delegate.logs(out, err);
                      try {
                        stdout.write(text(out));
                        stderr.write(text(err));
                      } catch (IOException e) {
                        throw new UncheckedIOException(e);
                      }
                    }
                  }));
    }

    private static byte[] text(ByteArrayOutputStream bytes) {
      return bytes.toString(StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8);
    }
  }

  /** Logs are empty until the task has finished. */
  static final class LogsOnlyAfterExit extends BrokenTck {
    LogsOnlyAfterExit() {
      super(
          containers(
              c ->
                  new ForwardingContainer(c) {
                    @Override
                    public void logs(OutputStream stdout, OutputStream stderr) {
                      if (delegate.status().isDone()) {
                        delegate.logs(stdout, stderr);
                      }
                    }
                  }));
    }
  }

  /** follow() waits for the task to end, then writes the logs: nothing arrives live. */
  static final class FollowOnlyAfterExit extends BrokenTck {
    FollowOnlyAfterExit() {
      super(
          containers(
              c ->
                  new ForwardingContainer(c) {
                    @Override
                    public void follow(OutputStream stdout, OutputStream stderr) {
                      delegate.await(Duration.ofDays(1));
                      delegate.logs(stdout, stderr);
                    }
                  }));
    }
  }

  /** follow() writes what there is so far and returns at once, as logs() does. */
  static final class FollowReturnsAtOnce extends BrokenTck {
    FollowReturnsAtOnce() {
      super(
          containers(
              c ->
                  new ForwardingContainer(c) {
                    @Override
                    public void follow(OutputStream stdout, OutputStream stderr) {
                      delegate.logs(stdout, stderr);
                    }
                  }));
    }
  }

  /** follow() passes on whole lines only: a last line without newline is lost at exit. */
  static final class FollowDropsPartialLastLine extends BrokenTck {
    FollowDropsPartialLastLine() {
      super(
          containers(
              c ->
                  new ForwardingContainer(c) {
                    @Override
                    public void follow(OutputStream stdout, OutputStream stderr) {
                      delegate.follow(new WholeLines(stdout), new WholeLines(stderr));
                    }
                  }));
    }
  }

  /** follow() never returns by itself, even once the task has ended; an interrupt ends it. */
  static final class FollowNeverReturns extends BrokenTck {
    FollowNeverReturns() {
      super(
          containers(
              c ->
                  new ForwardingContainer(c) {
                    @Override
                    public void follow(OutputStream stdout, OutputStream stderr) {
                      delegate.follow(stdout, stderr);
                      try {
                        new CountDownLatch(1).await();
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new OrchestraInterruptedException("follow() was interrupted", e);
                      }
                    }
                  }));
    }
  }

  /** An interrupted follow() returns quietly and clears the interrupt flag. */
  static final class FollowSwallowsInterrupt extends BrokenTck {
    FollowSwallowsInterrupt() {
      super(
          containers(
              c ->
                  new ForwardingContainer(c) {
                    @Override
                    public void follow(OutputStream stdout, OutputStream stderr) {
                      try {
                        delegate.follow(stdout, stderr);
                      } catch (OrchestraInterruptedException e) {
                        Thread.interrupted();
                      }
                    }
                  }));
    }
  }
}
