package dev.orchestra.local;

import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import dev.orchestra.Task;
import java.util.List;
import java.util.UUID;

/**
 * The README quick start: runs one task with the local driver and prints its output and exit code.
 *
 * <p>Run it with {@code mvn -q -Pquickstart package -DskipTests} at the repository root; pass a
 * command of your own with {@code -Dexec.args="uname -a"}.
 */
public final class QuickStart {

  private QuickStart() {}

  /**
   * Runs the command given as arguments, or a greeting by default.
   *
   * @param args the command and its arguments; none for the default
   * @throws InterruptedException if interrupted while waiting for the task
   */
  public static void main(String[] args) throws InterruptedException {
    List<String> command =
        args.length > 0
            ? List.of(args)
            : List.of(
                "sh",
                "-c",
                "echo \"hello from $GREETER on $(uname -s)\"; echo \"this goes to stderr\" >&2");
    String namespace = "quickstart-" + UUID.randomUUID().toString().substring(0, 8);

    try (Driver driver = Orchestra.open("local", namespace)) {
      Task task = Task.builder().id("hello").command(command).env("GREETER", "orchestra").build();
      Container container = driver.runContainer(task);

      ContainerStatus status = container.status();
      while (!status.isDone()) {
        Thread.sleep(10);
        status = container.status();
      }

      container.logs(System.out, System.err);
      System.out.println("exit code: " + status.exitCode());
    }
  }
}
