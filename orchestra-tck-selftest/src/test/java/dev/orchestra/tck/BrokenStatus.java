package dev.orchestra.tck;

import static dev.orchestra.tck.BrokenDrivers.containers;
import static dev.orchestra.tck.BrokenDrivers.statuses;

import dev.orchestra.ContainerStatus;
import dev.orchestra.ExitReason;
import dev.orchestra.tck.BrokenDrivers.BrokenTck;
import dev.orchestra.tck.BrokenDrivers.Status;
import dev.orchestra.tck.ForwardingDriver.ForwardingContainer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Broken drivers of a task's status: exit codes, reasons, and waiting for the end. Each is a {@link
 * DriverTck} run against a wrapper of the local driver that breaks one rule, as a driver author
 * could; {@link DriverTckSelfTest#proofs()} states what each fails.
 */
final class BrokenStatus {

  private BrokenStatus() {}

  /**
   * The exit code is kept in a signed byte, as a wait status is easily misread: codes from 128 up
   * read negative, 255 reads -1.
   */
  static final class ExitCodeInByte extends BrokenTck {
    ExitCodeInByte() {
      super(statuses(s -> s.isDone() ? new Status(true, (byte) s.exitCode(), s.reason()) : s));
    }
  }

  /**
   * A finished task reads running again on every fifth poll: a stale read of a status that is not
   * kept once known.
   */
  static final class StatusFlickers extends BrokenTck {
    StatusFlickers() {
      super(
          containers(
              c -> {
                AtomicInteger polls = new AtomicInteger();
                return new ForwardingContainer(c) {
                  @Override
                  public ContainerStatus status() {
                    ContainerStatus s = delegate.status();
                    return s.isDone() && polls.incrementAndGet() % 5 == 0
                        ? ContainerStatus.running()
                        : s;
                  }
                };
              }));
    }
  }

  /** A running task reads exit code 0, as a platform's state holds it until the task ends. */
  static final class RunningExitCodeZero extends BrokenTck {
    RunningExitCodeZero() {
      super(statuses(s -> s.isDone() ? s : new Status(false, 0, ExitReason.RUNNING)));
    }
  }

  /** The reason is made from the exit code alone: a running task (exit code -1) reads EXITED. */
  static final class ReasonIgnoresRunning extends BrokenTck {
    ReasonIgnoresRunning() {
      super(statuses(s -> s.isDone() ? s : new Status(false, s.exitCode(), ExitReason.EXITED)));
    }
  }

  /** A task's own exit code from 128 up reads SIGNALED: off by one, as 128 is no signal. */
  static final class SignaledFrom128 extends BrokenTck {
    SignaledFrom128() {
      super(
          statuses(
              s ->
                  s.reason() == ExitReason.EXITED && s.exitCode() >= 128
                      ? new Status(true, s.exitCode(), ExitReason.SIGNALED)
                      : s));
    }
  }

  /** Every finished task reads EXITED, whatever ended it. */
  static final class ReasonAlwaysExited extends BrokenTck {
    ReasonAlwaysExited() {
      super(statuses(s -> s.isDone() ? ContainerStatus.done(s.exitCode(), ExitReason.EXITED) : s));
    }
  }

  /** await() does not wait: it returns the current status at once. */
  static final class AwaitReturnsAtOnce extends BrokenTck {
    AwaitReturnsAtOnce() {
      super(
          containers(
              c ->
                  new ForwardingContainer(c) {
                    @Override
                    public ContainerStatus await(Duration timeout) {
                      return delegate.status();
                    }
                  }));
    }
  }

  /** onExit() returns a future nobody ever completes. */
  static final class OnExitNeverCompletes extends BrokenTck {
    OnExitNeverCompletes() {
      super(
          containers(
              c ->
                  new ForwardingContainer(c) {
                    @Override
                    public CompletableFuture<ContainerStatus> onExit() {
                      return new CompletableFuture<>();
                    }
                  }));
    }
  }
}
