package dev.orchestra.local;

import static org.awaitility.Awaitility.await;

import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import dev.orchestra.Task;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** What the tests of the local driver share: opening it under a test's root, waiting, reading. */
final class LocalTesting {

  static final Duration TIMEOUT = Duration.ofSeconds(30);

  private LocalTesting() {}

  /** Opens the driver through the registry, rooted in a test's own directory. */
  static Driver open(Path root, String namespace) {
    return Orchestra.open("local", namespace, Map.of("root", root.toString()));
  }

  /** The task directory of a task, where it runs: {@code <root>/<namespace>/tasks/<id>/work}. */
  static Path taskDir(Path root, String namespace, String taskId) throws IOException {
    return root.toRealPath().resolve(namespace).resolve("tasks").resolve(taskId).resolve("work");
  }

  /** A task running {@code script} with {@code sh -c}. */
  static Task.Builder sh(String id, String script) {
    return Task.builder().id(id).command("sh", "-c", script);
  }

  static ContainerStatus awaitDone(Container container) {
    await().atMost(TIMEOUT).until(() -> container.status().isDone());
    return container.status();
  }

  /** Both logs of a container, as bytes. */
  record Logs(byte[] stdout, byte[] stderr) {
    String out() {
      return new String(stdout, StandardCharsets.UTF_8);
    }

    String err() {
      return new String(stderr, StandardCharsets.UTF_8);
    }

    List<String> outLines() {
      return out().lines().toList();
    }
  }

  static Logs logs(Container container) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    container.logs(out, err);
    return new Logs(out.toByteArray(), err.toByteArray());
  }

  /** Waits until the task is done and returns its standard output. */
  static String stdoutWhenDone(Container container) {
    awaitDone(container);
    return logs(container).out();
  }

  /**
   * The running process of a pid, captured while it runs: its handle knows the process's start
   * time, so that a later {@link #alive(ProcessHandle)} is not fooled when the pid is reused (pids
   * wrap quickly on a busy machine).
   */
  static ProcessHandle process(long pid) {
    return ProcessHandle.of(pid)
        .filter(LocalTesting::alive)
        .orElseThrow(() -> new AssertionError("pid " + pid + " does not run"));
  }

  static List<ProcessHandle> processes(List<String> pidLines) {
    return pidLines.stream().map(line -> process(Long.parseLong(line))).toList();
  }

  /**
   * Whether a process still runs: it exists, it is the same process (not a reused pid), and it is
   * not a zombie (an ended process that its new parent, init, has not collected yet; on this
   * machine that can take a second).
   */
  static boolean alive(ProcessHandle process) {
    if (!process.isAlive()) {
      return false;
    }
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
      return !stat.substring(stat.lastIndexOf(')')).startsWith(") Z");
    } catch (IOException e) {
      return !(e instanceof NoSuchFileException);
    }
  }
}
