package dev.orchestra.local;

import dev.orchestra.Container;
import dev.orchestra.Driver;
import dev.orchestra.Task;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The JVM before the restart, for {@link ReattachTest}: runs tasks in a namespace, waits until they
 * have ended (all but one, left running), prints {@code <task id>=<container id>} for each, and
 * exits without closing the driver, as a CI server that goes down does.
 *
 * <p>Arguments: the driver's root directory and the namespace.
 */
public final class ReattachChild {

  static final String EXITED = "exited";
  static final String STOPPED = "stopped";
  static final String TIMED_OUT = "timed-out";
  static final String ODD_ID = "build #7 / \u00fcber \u2603";
  static final String RUNNING = "running";

  private ReattachChild() {}

  /**
   * Runs the tasks.
   *
   * @param args the root directory and the namespace
   */
  public static void main(String[] args) {
    Driver driver = LocalTesting.open(Path.of(args[0]), args[1]);

    Container exited =
        driver.runContainer(
            LocalTesting.sh(EXITED, "echo out; printf 'err \\377' >&2; exit 3").build());
    exited.onExit().join();

    Container stopped =
        driver.runContainer(LocalTesting.sh(STOPPED, "echo up; exec sleep 300").build());
    while (!output(stopped).equals("up\n")) {
      stopped.await(Duration.ofMillis(20));
    }
    stopped.stop(Duration.ofSeconds(30));

    Container timedOut =
        driver.runContainer(
            Task.builder()
                .id(TIMED_OUT)
                .command("sleep", "300")
                .timeout(Duration.ofMillis(200))
                .build());
    timedOut.onExit().join();

    Container odd = driver.runContainer(LocalTesting.sh(ODD_ID, "echo odd").build());
    odd.onExit().join();

    Container running =
        driver.runContainer(LocalTesting.sh(RUNNING, "echo $$; exec sleep 300").build());
    while (output(running).isEmpty()) {
      running.await(Duration.ofMillis(20));
    }

    for (Container c : new Container[] {exited, stopped, timedOut, odd}) {
      print(c.id());
    }
    print("pid=" + output(running).trim());
    System.exit(0);
  }

  private static String output(Container c) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    c.logs(out, new ByteArrayOutputStream());
    return out.toString(StandardCharsets.UTF_8);
  }

  private static void print(String line) {
    System.out.println(line);
  }
}
