package dev.orchestra.docker;

import static dev.orchestra.docker.DockerTesting.IMAGE;
import static dev.orchestra.docker.DockerTesting.TASK_TIMEOUT;
import static dev.orchestra.docker.DockerTesting.namespace;
import static org.assertj.core.api.Assertions.assertThat;

import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.ExitReason;
import dev.orchestra.Task;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Each way Podman's Docker-compatible service differs from Docker, handled by the driver ({@link
 * EngineFlavour}): against the real service, through a driver given its address only.
 */
@RequiresPodman
class PodmanDifferencesTest {

  private static Task.Builder task(String id, String script) {
    return Task.builder().id(id).image(IMAGE).command("sh", "-c", script);
  }

  @Test
  void theEngineIsDetected() {
    try (Driver d = PodmanTesting.open(namespace("pmdetect"), Map.of())) {
      assertThat(((DockerDriver) d).namespace().connection().flavour())
          .isEqualTo(EngineFlavour.PODMAN);
    }
  }

  /** Podman answers a name in use with 500, not 409: the second instance must find the task. */
  @Test
  void anotherInstanceFindsTheTaskByItsNameConflict() {
    String ns = namespace("pmname");
    try (Driver first = PodmanTesting.open(ns, Map.of());
        Driver second = PodmanTesting.open(ns, Map.of())) {
      Container a = first.runContainer(task("same", "sleep 30").build());
      Container b = second.runContainer(task("same", "sleep 30").build());
      assertThat(b.id()).isEqualTo(a.id());
    }
  }

  /** Podman answers the kill of an exited container with 500, not 409: a late stop is quiet. */
  @Test
  void stopOfATaskThatEndedMeanwhileIsQuiet() throws Exception {
    try (Driver d = PodmanTesting.open(namespace("pmstop"), Map.of())) {
      Container c = d.runContainer(task("quick", "exit 4").build());
      ContainerStatus ended = c.onExit().get(TASK_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      c.stop(Duration.ofSeconds(1));
      assertThat(ended.exitCode()).isEqualTo(4);
      assertThat(c.status().exitCode()).isEqualTo(4);
      assertThat(c.status().reason()).isEqualTo(ExitReason.EXITED);
    }
  }

  /** Podman's event filter {@code event=die} matches nothing: the end must still be seen. */
  @Test
  void theEndOfATaskArrivesThroughTheEventStream() throws Exception {
    try (Driver d = PodmanTesting.open(namespace("pmevent"), Map.of())) {
      Container c = d.runContainer(task("later", "sleep 2; exit 3").build());
      ContainerStatus s = c.onExit().get(TASK_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      assertThat(s.exitCode()).isEqualTo(3);
      assertThat(((DockerDriver) d).namespace().events().streamsOpened()).isEqualTo(1);
    }
  }

  /**
   * Podman's reads of a running container's log may end in a record cut short, and its tail reads
   * skip what was written between their two steps: a follow of a task that writes fast, in bursts,
   * must still deliver every byte once.
   */
  @Test
  void aFollowOfAFastWriterIsExact() {
    String script =
        "i=0; while [ $i -lt 20 ]; do seq $((i*2000+1)) $((i*2000+2000)); i=$((i+1));"
            + " sleep 0.1; done; printf tail";
    String expected =
        IntStream.rangeClosed(1, 40_000)
                .mapToObj(Integer::toString)
                .collect(Collectors.joining("\n"))
            + "\ntail";
    try (Driver d = PodmanTesting.open(namespace("pmfollow"), Map.of())) {
      Container c = d.runContainer(task("bursts", script).build());
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      c.follow(out, err);
      String got = out.toString(StandardCharsets.UTF_8);
      int same = 0;
      while (same < Math.min(got.length(), expected.length())
          && got.charAt(same) == expected.charAt(same)) {
        same++;
      }
      assertThat(same)
          .as(
              "bytes followed: %d of %d expected; from byte %d it reads '%s' where '%s' was"
                  + " expected",
              got.length(),
              expected.length(),
              same,
              got.substring(same, Math.min(got.length(), same + 40)),
              expected.substring(same, Math.min(expected.length(), same + 40)))
          .isEqualTo(expected.length())
          .isEqualTo(got.length());
      assertThat(err.size()).isZero();
    }
  }
}
