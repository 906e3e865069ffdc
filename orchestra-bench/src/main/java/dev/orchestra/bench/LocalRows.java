package dev.orchestra.bench;

import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import dev.orchestra.Task;
import java.lang.ProcessBuilder.Redirect;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** The row of the local driver. */
final class LocalRows {

  private final Settings settings;

  LocalRows(Settings settings) {
    this.settings = settings;
  }

  /** N {@code true} tasks started, then all observed done, against N plain processes. */
  Row spawn() throws Exception {
    int n = settings.localTasks();
    Rotation.Trial library =
        round -> {
          try (Driver driver = Orchestra.open("local", DockerRows.freshNamespace())) {
            List<CompletableFuture<ContainerStatus>> ends = new ArrayList<>(n);
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
              Container c =
                  driver.runContainer(Task.builder().id("spawn-" + i).command("true").build());
              ends.add(c.onExit());
            }
            CompletableFuture.allOf(ends.toArray(CompletableFuture[]::new))
                .get(5, TimeUnit.MINUTES);
            long t1 = System.nanoTime();
            for (CompletableFuture<ContainerStatus> end : ends) {
              DockerRows.requireExit(0, end.join(), "local task");
            }
            return t1 - t0;
          }
        };
    Rotation.Trial baseline =
        round -> {
          List<Process> processes = new ArrayList<>(n);
          long t0 = System.nanoTime();
          for (int i = 0; i < n; i++) {
            processes.add(
                new ProcessBuilder("true")
                    .redirectOutput(Redirect.DISCARD)
                    .redirectError(Redirect.DISCARD)
                    .start());
          }
          for (Process p : processes) {
            DockerRows.requireExit(0, p.waitFor(), "true");
          }
          return System.nanoTime() - t0;
        };
    List<Samples> s = Rotation.run(settings.warmups(), settings.runs(), List.of(library, baseline));
    return Row.timed(
        "local spawn",
        n + " x runContainer(true) + onExit",
        "ProcessBuilder.start() + waitFor() x" + n,
        s.get(0),
        s.get(1),
        Rotation.describeOrder("L", "B"),
        1.15,
        n
            + " tasks started one after the other, then every onExit() awaited (each exit 0"
            + " checked); the driver's close() (deleting the task directories) not timed."
            + " Baseline: "
            + n
            + " processes started with output discarded, then waited for.");
  }
}
