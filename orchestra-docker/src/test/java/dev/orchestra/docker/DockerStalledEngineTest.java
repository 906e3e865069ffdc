package dev.orchestra.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.OrchestraException;
import dev.orchestra.Task;
import dev.orchestra.tck.FaultProxy;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Pattern;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The driver on an engine that accepts requests and stops answering, as Debian's dockerd 20.10.24
 * does in its libnetwork deadlock (every create, start and inspect blocks, with no error): each
 * call fails within a bound with an {@link OrchestraException} naming the request, the task and the
 * engine, and what it left behind is removed once the engine answers again. The stall is a {@link
 * FaultProxy} in front of the test engine ({@link TcpEngine}) that stops answering anything from
 * the moment it sees the request chosen; the driver reaches it over {@code tcp://}, or over {@code
 * unix://} through a bridge ({@link TcpToUnixProxy#toTcp}), where a socket has no read timeout and
 * the driver's own bound is all there is.
 *
 * <p>The bounds asserted here are hang guards, several times what the calls take, not timings.
 */
@RequiresDocker
class DockerStalledEngineTest {

  /**
   * The drivers' request timeout: the stalled start waits it out, and the same driver then runs the
   * task again, whose create and start must each be answered within it. On an engine that the
   * parallel lanes keep at a load of 19, a start once took longer than 10 s.
   */
  private static final Duration TIMEOUT = Duration.ofSeconds(20);

  private static final Duration BOUND = TIMEOUT.multipliedBy(3);
  private static final Pattern START = Pattern.compile("POST [^ ]*/containers/[^/ ]+/start[ ?]");

  @ParameterizedTest(name = "over {0}://")
  @ValueSource(strings = {"tcp", "unix"})
  @DisplayName(
      "a start the engine never answers fails runContainer within three request timeouts, naming"
          + " the start, the task and the engine; once the engine answers again the container and"
          + " its new volume are removed, and the task id runs fresh")
  void unansweredStart(String transport) throws Exception {
    String namespace = DockerTesting.namespace("stall");
    try (TcpEngine tcp = TcpEngine.open();
        FaultProxy proxy = FaultProxy.start(endpoint(tcp));
        TcpToUnixProxy unix =
            transport.equals("unix") ? TcpToUnixProxy.toTcp(proxy.address()) : null) {
      String host = unix != null ? unix.host() : "tcp://127.0.0.1:" + proxy.address().getPort();
      Driver driver =
          DockerTesting.open(
              namespace,
              Map.of(
                  DockerDriverProvider.HOST,
                  host,
                  DockerDriverProvider.REQUEST_TIMEOUT,
                  TIMEOUT.toString()));
      try {
        Task task =
            Task.builder()
                .id("victim")
                .image(DockerTesting.IMAGE)
                .command("sh", "-c", "echo ran > v/ran; echo ran")
                .mount("fresh", "v")
                .build();
        proxy.stallWhenSent(START);
        Throwable thrown =
            assertTimeoutPreemptively(BOUND, () -> catchThrowable(() -> driver.runContainer(task)));
        assertThat(thrown)
            .isInstanceOf(OrchestraException.class)
            .hasMessageContaining("starting container")
            .hasMessageContaining("task 'victim'")
            .hasMessageContaining(host)
            .hasMessageContaining("did not answer within " + TIMEOUT);
        assertThat(proxy.mode())
            .as("the proxy saw the start")
            .isEqualTo(FaultProxy.Mode.UNANSWERED);

        proxy.mode(FaultProxy.Mode.PASS);
        // Removed in the background once the engine answers, before any close(). A bound, not a
        // target: the removal retries back off to one every 30 s, each attempt bounded by the
        // request timeout, and the volume goes only after its container; on an engine that
        // parallel tests keep busy (a load of 17 to 21) 90 s, and once 3 minutes, were not
        // enough. The driver's DeferredRemovals log each attempt (debug, in the test output).
        try {
          await("the container and the volume of the failed start to be removed")
              .atMost(Duration.ofMinutes(5))
              .pollInterval(Duration.ofMillis(200))
              .until(
                  () ->
                      DockerTesting.containersOf(namespace).isEmpty()
                          && DockerTesting.volumesOf(namespace).isEmpty());
        } catch (ConditionTimeoutException e) {
          throw new AssertionError(
              "still on the engine: containers "
                  + DockerTesting.engine()
                      .listContainersCmd()
                      .withShowAll(true)
                      .withLabelFilter(Map.of(Labels.NAMESPACE, namespace))
                      .exec()
                      .stream()
                      .map(c -> c.getId() + " " + c.getState() + " (" + c.getStatus() + ")")
                      .toList()
                  + ", volumes "
                  + DockerTesting.volumesOf(namespace),
              e);
        }

        Container again = driver.runContainer(task);
        ContainerStatus status = DockerTesting.awaitDone(again);
        assertThat(status.exitCode()).as("exit code of the fresh run").isZero();
        assertThat(DockerTesting.stdout(again)).isEqualTo("ran\n");
      } finally {
        proxy.mode(FaultProxy.Mode.PASS);
        driver.close();
      }
      assertThat(DockerTesting.containersOf(namespace)).as("containers left").isEmpty();
      assertThat(DockerTesting.volumesOf(namespace)).as("volumes left").isEmpty();
    }
  }

  @Test
  @DisplayName(
      "with the engine stalled, a new run of the id whose start was not answered fails clearly"
          + " instead of returning the container that never started")
  void rerunWhileStalledFailsClearly() throws Exception {
    String namespace = DockerTesting.namespace("stall");
    try (TcpEngine tcp = TcpEngine.open();
        FaultProxy proxy = FaultProxy.start(endpoint(tcp))) {
      Driver driver =
          DockerTesting.open(
              namespace,
              Map.of(
                  DockerDriverProvider.HOST,
                  "tcp://127.0.0.1:" + proxy.address().getPort(),
                  DockerDriverProvider.REQUEST_TIMEOUT,
                  TIMEOUT.toString()));
      try {
        Task task = Task.builder().id("victim").image(DockerTesting.IMAGE).command("true").build();
        proxy.stallWhenSent(START);
        assertThatThrownBy(() -> driver.runContainer(task)).isInstanceOf(OrchestraException.class);
        Throwable again =
            assertTimeoutPreemptively(BOUND, () -> catchThrowable(() -> driver.runContainer(task)));
        assertThat(again)
            .isInstanceOf(OrchestraException.class)
            .hasMessageContaining("task 'victim'")
            .hasMessageContaining("did not answer");
      } finally {
        proxy.mode(FaultProxy.Mode.PASS);
        driver.close();
      }
      assertThat(DockerTesting.containersOf(namespace)).as("containers left").isEmpty();
    }
  }

  private static InetSocketAddress endpoint(TcpEngine tcp) {
    URI host = URI.create(tcp.host());
    return new InetSocketAddress(host.getHost(), host.getPort());
  }
}
