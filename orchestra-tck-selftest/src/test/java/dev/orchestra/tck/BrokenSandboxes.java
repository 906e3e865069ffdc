package dev.orchestra.tck;

import static dev.orchestra.tck.BrokenDrivers.copyOf;
import static dev.orchestra.tck.BrokenDrivers.openReal;

import dev.orchestra.Container;
import dev.orchestra.Driver;
import dev.orchestra.Sandbox;
import dev.orchestra.Task;
import dev.orchestra.spi.Steps;
import dev.orchestra.tck.BrokenDrivers.BrokenTck;
import dev.orchestra.tck.BrokenDrivers.Option;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Broken drivers of sandboxes: one long-lived container and its steps. Each is a {@link DriverTck}
 * run against a wrapper of the local driver that breaks one rule, as a driver author could; {@link
 * DriverTckSelfTest#proofs()} states what each fails.
 */
final class BrokenSandboxes {

  private BrokenSandboxes() {}

  /** createSandbox of a known id starts a second sandbox under a suffixed name. */
  static final class SandboxCreateNotIdempotent extends BrokenTck {
    SandboxCreateNotIdempotent() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                private final Map<String, AtomicInteger> created = new ConcurrentHashMap<>();

                @Override
                public Sandbox createSandbox(Task task) {
                  int earlier =
                      created
                          .computeIfAbsent(task.id(), k -> new AtomicInteger())
                          .getAndIncrement();
                  return super.createSandbox(
                      earlier == 0 ? task : task.toBuilder().id(task.id() + "#" + earlier).build());
                }
              });
    }
  }

  /** Each step runs as a task of its own, in a fresh directory without the sandbox's env. */
  static final class SandboxStepsApart extends BrokenTck {
    SandboxStepsApart() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Sandbox createSandbox(Task task) {
                  return new ForwardingSandbox(real.createSandbox(task)) {
                    @Override
                    public Container exec(Task step) {
                      Steps.requireStep(step);
                      if (delegate.container().status().isDone()) {
                        throw new IllegalStateException("sandbox " + task.id() + " has ended");
                      }
                      return runContainer(step.toBuilder().id(task.id() + "/" + step.id()).build());
                    }
                  };
                }
              });
    }
  }

  /**
   * A step's image, mounts, limits and privileged flag are silently ignored rather than refused:
   * they belong to the sandbox.
   */
  static final class StepOptionsIgnored extends BrokenTck {
    StepOptionsIgnored() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Sandbox wrap(Sandbox sandbox) {
                  return new ForwardingSandbox(sandbox) {
                    @Override
                    public Container exec(Task step) {
                      return super.exec(
                          copyOf(
                                  step,
                                  Option.IMAGE,
                                  Option.MOUNTS,
                                  Option.LIMITS,
                                  Option.PRIVILEGED)
                              .build());
                    }
                  };
                }
              });
    }
  }

  /** A step's stdin is not passed on: the step reads end of file at once. */
  static final class StepStdinDropped extends BrokenTck {
    StepStdinDropped() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Sandbox wrap(Sandbox sandbox) {
                  return new ForwardingSandbox(sandbox) {
                    @Override
                    public Container exec(Task step) {
                      return super.exec(copyOf(step, Option.STDIN).build());
                    }
                  };
                }
              });
    }
  }

  /**
   * exec() in a sandbox whose main process has ended runs the step as a task of its own rather than
   * refusing it.
   */
  static final class EndedSandboxRunsSteps extends BrokenTck {
    EndedSandboxRunsSteps() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Sandbox createSandbox(Task task) {
                  AtomicBoolean closed = new AtomicBoolean();
                  return new ForwardingSandbox(real.createSandbox(task)) {
                    @Override
                    public Container exec(Task step) {
                      if (!closed.get() && delegate.container().status().isDone()) {
                        return runContainer(
                            step.toBuilder().id(task.id() + "/" + step.id()).build());
                      }
                      return super.exec(step);
                    }

                    @Override
                    public void close() {
                      closed.set(true);
                      super.close();
                    }
                  };
                }
              });
    }
  }

  /** Sandbox.close() does nothing. */
  static final class SandboxCloseNoOp extends BrokenTck {
    SandboxCloseNoOp() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Sandbox wrap(Sandbox s) {
                  return new ForwardingSandbox(s) {
                    @Override
                    public void close() {}
                  };
                }
              });
    }
  }

  /** Each exec() starts a new run of the step under a new id. */
  static final class SandboxExecNotIdempotent extends BrokenTck {
    SandboxExecNotIdempotent() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                private final AtomicInteger calls = new AtomicInteger();

                @Override
                Sandbox wrap(Sandbox s) {
                  return new ForwardingSandbox(s) {
                    @Override
                    public Container exec(Task step) {
                      String id = step.id() + "#" + calls.incrementAndGet();
                      return super.exec(step.toBuilder().id(id).build());
                    }
                  };
                }
              });
    }
  }

  /**
   * exec() keeps its own map of steps by id: it looks the step up, and if it is not there starts it
   * under a fresh platform name (an engine's exec instances have no name to find them by) and then
   * records it. Check-then-act without a lock: threads that call at once each start the step.
   */
  static final class SandboxExecRaces extends BrokenTck {
    SandboxExecRaces() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                private final AtomicInteger started = new AtomicInteger();

                @Override
                Sandbox wrap(Sandbox sandbox) {
                  Map<String, Container> steps = new ConcurrentHashMap<>();
                  return new ForwardingSandbox(sandbox) {
                    @Override
                    public Container exec(Task step) {
                      Container known = steps.get(step.id());
                      if (known != null) {
                        return known;
                      }
                      String name = step.id() + "#" + started.incrementAndGet();
                      Container c = super.exec(step.toBuilder().id(name).build());
                      steps.put(step.id(), c);
                      return c;
                    }
                  };
                }
              });
    }
  }

  /**
   * Sandboxes are made by a driver of their own that close() does not close: they outlive the
   * driver. (The self-test closes every real driver at the end.)
   */
  static final class SandboxesOutliveDriver extends BrokenTck {
    SandboxesOutliveDriver() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                private final Driver keeper =
                    openReal(SandboxesOutliveDriver.class, ns + "-keeper", Map.of());

                @Override
                public Sandbox createSandbox(Task task) {
                  return wrap(keeper.createSandbox(task));
                }
              });
    }
  }
}
