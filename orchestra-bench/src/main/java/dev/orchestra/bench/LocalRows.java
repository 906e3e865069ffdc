package dev.orchestra.bench;

import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import dev.orchestra.Task;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** The rows of the local driver. */
final class LocalRows {

  private final Settings settings;

  LocalRows(Settings settings) {
    this.settings = settings;
  }

  /**
   * N {@code true} tasks started, then all observed done, against N plain processes with output
   * discarded and against N plain processes that get the same files as a task (the floor); two rows
   * from one rotation.
   */
  List<Row> spawn() throws Exception {
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
    Rotation.Trial floor =
        round -> {
          Path root = Files.createTempDirectory("orchestra-bench-floor");
          try {
            List<CompletableFuture<?>> ends = new ArrayList<>(n);
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
              Path task = Files.createDirectory(root.resolve("spawn-" + i));
              Path work = Files.createDirectory(task.resolve("work"));
              Process p =
                  new ProcessBuilder("true")
                      .directory(work.toFile())
                      .redirectOutput(task.resolve("stdout").toFile())
                      .redirectError(task.resolve("stderr").toFile())
                      .start();
              p.getOutputStream().close();
              ends.add(p.onExit().thenAccept(ended -> record(task, ended.exitValue())));
            }
            CompletableFuture.allOf(ends.toArray(CompletableFuture[]::new))
                .get(5, TimeUnit.MINUTES);
            return System.nanoTime() - t0;
          } finally {
            delete(root);
          }
        };
    List<Samples> s =
        Rotation.run(settings.warmups(), settings.quickRuns(), List.of(library, baseline, floor));
    String order = Rotation.describeOrder("L", "B", "F");
    String what =
        n
            + " tasks started one after the other, then every onExit() awaited (each exit 0"
            + " checked); the driver's close() (deleting the task directories) not timed. Per"
            + " task the library also makes a task directory and its working directory, writes"
            + " the output into two log files (stdout, stderr: what logs() and follow() read),"
            + " and records the exit in a file (what a driver in a later JVM finds), which the"
            + " plain baseline does not.";
    Row floorRow =
        Row.timed(
            "local spawn floor",
            n + " x runContainer(true) + onExit",
            "ProcessBuilder + the same files x" + n,
            s.get(0),
            s.get(2),
            order,
            1.05,
            "The floor: "
                + n
                + " plain processes, each given what a task gets: a directory with a working"
                + " directory in it, stdout and stderr redirected into two files there, and on"
                + " its exit a small record written to a temporary file and renamed into place;"
                + " all awaited; the directories' removal not timed. The three contenders of the"
                + " two local rows take turns in one rotation (L the library, B the plain"
                + " baseline, F the floor).");
    return List.of(
        Row.timed(
                "local spawn",
                n + " x runContainer(true) + onExit",
                "ProcessBuilder.start() + waitFor() x" + n,
                s.get(0),
                s.get(1),
                order,
                1.15,
                what
                    + " Baseline: "
                    + n
                    + " processes started with output discarded, then waited for.")
            .judgedAgainst(floorRow, 1.15),
        floorRow);
  }

  private static void record(Path task, int exitCode) {
    try {
      Path temporary = task.resolve("exit.tmp");
      Files.writeString(temporary, "exitCode=" + exitCode + "\n", StandardCharsets.UTF_8);
      Files.move(temporary, task.resolve("exit"), StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void delete(Path root) throws IOException {
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
