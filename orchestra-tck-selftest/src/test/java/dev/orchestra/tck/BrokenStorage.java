package dev.orchestra.tck;

import static dev.orchestra.tck.BrokenDrivers.tasks;

import dev.orchestra.Container;
import dev.orchestra.Driver;
import dev.orchestra.Mount;
import dev.orchestra.OrchestraException;
import dev.orchestra.Task;
import dev.orchestra.Volume;
import dev.orchestra.tck.BrokenDrivers.BrokenTck;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Broken drivers of where a task's files are: its task directory, workDir, mounts and volumes. Each
 * is a {@link DriverTck} run against a wrapper of the local driver that breaks one rule, as a
 * driver author could; {@link DriverTckSelfTest#proofs()} states what each fails.
 */
final class BrokenStorage {

  private BrokenStorage() {}

  /**
   * Tasks without mounts or workDir all run in one scratch directory of the namespace (a volume),
   * not in a fresh directory of their own.
   */
  static final class SharedTaskDirectory extends BrokenTck {
    SharedTaskDirectory() {
      super(
          tasks(
              task ->
                  task.mounts().isEmpty() && task.workDir().isEmpty()
                      ? task.toBuilder().mount("scratch", "scratch").workDir("scratch").build()
                      : task));
    }
  }

  /** The workDir is ignored: tasks always start in their task directory. */
  static final class WorkDirIgnored extends BrokenTck {
    WorkDirIgnored() {
      super(tasks(task -> task.toBuilder().workDir(".").build()));
    }
  }

  /** A mount path starting with '/' reaches another volume than the same path without it. */
  static final class AbsoluteMountElsewhere extends BrokenTck {
    AbsoluteMountElsewhere() {
      super(
          tasks(
              task -> {
                List<Mount> mounts = new ArrayList<>();
                for (Mount m : task.mounts()) {
                  mounts.add(m.path().startsWith("/") ? new Mount(m.name() + "-abs", m.path()) : m);
                }
                return task.toBuilder().mounts(mounts).build();
              }));
    }
  }

  /** Every mount of a task reaches the volume of its first mount. */
  static final class MountsAllFirstVolume extends BrokenTck {
    MountsAllFirstVolume() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Container runContainer(Task task) {
                  if (task.mounts().size() < 2) {
                    return super.runContainer(task);
                  }
                  String first = task.mounts().get(0).name();
                  List<Mount> mounts =
                      task.mounts().stream().map(m -> new Mount(first, m.path())).toList();
                  return super.runContainer(task.toBuilder().mounts(mounts).build());
                }
              });
    }
  }

  /** A nested mount path ('cache/m2') is flattened to one directory ('cache-m2'). */
  static final class NestedMountFlattened extends BrokenTck {
    NestedMountFlattened() {
      super(
          tasks(
              task -> {
                List<Mount> mounts = new ArrayList<>();
                for (Mount m : task.mounts()) {
                  String lead = m.path().startsWith("/") ? "/" : "";
                  String rest = m.path().substring(lead.length());
                  mounts.add(new Mount(m.name(), lead + rest.replace('/', '-')));
                }
                return task.toBuilder().mounts(mounts).build();
              }));
    }
  }

  /** Volume.cleanup() does nothing. */
  static final class VolumeCleanupNoOp extends BrokenTck {
    VolumeCleanupNoOp() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Volume wrap(Volume v) {
                  return new ForwardingVolume(v) {
                    @Override
                    public void cleanup() {}
                  };
                }
              });
    }
  }

  /** Volume.name() answers the platform's name rather than the caller's. */
  static final class VolumePlatformName extends BrokenTck {
    VolumePlatformName() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                Volume wrap(Volume v) {
                  return new ForwardingVolume(v) {
                    @Override
                    public String name() {
                      return ns + "-" + delegate.name();
                    }
                  };
                }
              });
    }
  }

  /** A negative volume size is taken as the platform's default (zero) instead of refused. */
  static final class NegativeSizeAccepted extends BrokenTck {
    NegativeSizeAccepted() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Volume createVolume(String name, long sizeBytes) {
                  return super.createVolume(name, Math.max(0, sizeBytes));
                }
              });
    }
  }

  /** A volume of a given size is refused: the driver supports only the platform's default size. */
  static final class SizedVolumesRefused extends BrokenTck {
    SizedVolumesRefused() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Volume createVolume(String name, long sizeBytes) {
                  if (sizeBytes > 0) {
                    throw new OrchestraException(
                        "volume '" + name + "': sizes are not supported (asked " + sizeBytes + ")");
                  }
                  return super.createVolume(name, sizeBytes);
                }
              });
    }
  }

  /**
   * Volumes are not kept apart by namespace: a volume name belongs to the namespace that used it
   * first, and a task of another namespace mounting that name runs where the volume is. (The self-
   * test runs it one test at a time, so that tests of one run do not share volumes.)
   */
  static final class VolumesShared extends BrokenTck {
    /** Each volume name in use, with the namespace that used it first and a driver of it. */
    private static final Map<String, Owner> OWNERS = new ConcurrentHashMap<>();

    private record Owner(String namespace, Driver driver) {}

    VolumesShared() {
      super(
          (ns, real) ->
              new ForwardingDriver(real) {
                @Override
                public Container runContainer(Task task) {
                  if (task.mounts().isEmpty()) {
                    return super.runContainer(task);
                  }
                  Owner owner = ownerOf(task.mounts().get(0).name());
                  return owner.namespace().equals(ns)
                      ? super.runContainer(task)
                      : wrap(
                          owner
                              .driver()
                              .runContainer(task.toBuilder().id(ns + "." + task.id()).build()));
                }

                @Override
                public Volume createVolume(String name, long sizeBytes) {
                  return wrap(ownerOf(name).driver().createVolume(name, sizeBytes));
                }

                @Override
                public void close() {
                  OWNERS.values().removeIf(o -> o.driver() == real);
                  super.close();
                }

                private Owner ownerOf(String volume) {
                  return OWNERS.computeIfAbsent(volume, v -> new Owner(ns, real));
                }
              });
    }
  }
}
