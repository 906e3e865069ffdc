package dev.orchestra.tck;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Task;
import dev.orchestra.tck.BrokenDrivers.BrokenTck;
import dev.orchestra.tck.ForwardingDriver.ForwardingContainer;
import java.util.EnumSet;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Broken drivers of names and ids: the driver's name, container ids, idempotent runs, find, and the
 * capabilities declared. Each is a {@link DriverTck} run against a wrapper of the local driver that
 * breaks one rule, as a driver author could; {@link DriverTckSelfTest#proofs()} states what each
 * fails.
 */
final class BrokenIdentity {

  private BrokenIdentity() {}

  /** name() is the implementation's class name, not the lower-case name it is registered by. */
  static final class NameIsClassName extends BrokenTck {
    NameIsClassName() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public String name() {
                  return delegate.getClass().getSimpleName();
                }
              });
    }
  }

  /**
   * id() answers the task id until the platform's id is known, which the first status() reads: the
   * id changes during the container's life.
   */
  static final class IdResolvedLate extends BrokenTck {
    IdResolvedLate() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Container runContainer(Task task) {
                  return late(task.id(), delegate.runContainer(task));
                }

                @Override
                public Optional<Container> find(String taskId) {
                  return delegate.find(taskId).map(c -> late(taskId, c));
                }

                private Container late(String taskId, Container c) {
                  AtomicBoolean known = new AtomicBoolean();
                  return new ForwardingContainer(c) {
                    @Override
                    public String id() {
                      return known.get() ? delegate.id() : taskId;
                    }

                    @Override
                    public ContainerStatus status() {
                      ContainerStatus s = delegate.status();
                      known.set(true);
                      return s;
                    }
                  };
                }
              });
    }
  }

  /**
   * runContainer of a task id already taken starts the task again under a suffixed name, as a
   * driver that resolves a name conflict by renaming, rather than returning the existing container.
   */
  static final class NotIdempotent extends BrokenTck {
    /** How often each task id of each namespace was asked for. */
    private static final Map<String, AtomicInteger> CALLS = new ConcurrentHashMap<>();

    NotIdempotent() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Container runContainer(Task task) {
                  int earlier =
                      CALLS
                          .computeIfAbsent(ns + "/" + task.id(), k -> new AtomicInteger())
                          .getAndIncrement();
                  return super.runContainer(
                      earlier == 0 ? task : task.toBuilder().id(task.id() + "#" + earlier).build());
                }
              });
    }
  }

  /** find() never finds anything. */
  static final class FindAlwaysEmpty extends BrokenTck {
    FindAlwaysEmpty() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Optional<Container> find(String taskId) {
                  return Optional.empty();
                }
              });
    }
  }

  /**
   * find() falls back to every container any driver of this class ever started: other namespaces'
   * tasks and cleaned-up ones are found too.
   */
  static final class FindRemembersEverything extends BrokenTck {
    private static final Map<String, Container> EVER = new ConcurrentHashMap<>();

    FindRemembersEverything() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Container runContainer(Task task) {
                  Container c = super.runContainer(task);
                  EVER.put(task.id(), c);
                  return c;
                }

                @Override
                public Optional<Container> find(String taskId) {
                  Optional<Container> found = super.find(taskId);
                  return found.isPresent() ? found : Optional.ofNullable(EVER.get(taskId));
                }
              });
    }
  }

  /**
   * Declares every capability, though the local driver honours none of the task options: its test
   * class reads back the CPU shares honestly (a process of the host has none).
   */
  static final class CapabilitiesOverclaimed extends BrokenTck {
    CapabilitiesOverclaimed() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Set<Capability> capabilities() {
                  return EnumSet.allOf(Capability.class);
                }
              });
    }

    @Override
    protected OptionalLong appliedCpuShares(Container container) {
      return OptionalLong.of(0);
    }
  }
}
