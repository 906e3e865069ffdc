package dev.orchestra.docker;

import com.github.dockerjava.api.DockerClient;
import dev.orchestra.Container;
import dev.orchestra.Driver;
import dev.orchestra.spi.Names;
import dev.orchestra.tck.ReliabilityTck;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.TestInfo;

/**
 * The Docker driver's reliability run against a real engine, Docker's ({@link
 * DockerReliabilityTest}) or Podman's ({@link PodmanReliabilityTest}): a subclass says which
 * ({@link #engineClient()}, {@link #engineSocket()}, {@link #open}). Leftovers are the namespace's
 * containers and volumes on the engine and its client-side step directories ({@code
 * orchestra-docker-<namespace>-*} in the temporary directory); interference is {@code docker rm -f}
 * and {@code docker volume rm} through an engine client of the test's own. For the unresponsive
 * platform tests the engine is reached over TCP ({@link TcpEngine}), with the kit's proxy in
 * between, and a request timeout of {@value #REQUEST_TIMEOUT}.
 */
abstract class EngineReliabilityKit extends ReliabilityTck {

  /** System property: the bytes of the big output test; 10^9 proves the whole gigabyte. */
  static final String BIG_OUTPUT_PROPERTY = "orchestra.reliability.bigOutputBytes";

  /**
   * The request timeout of the drivers behind the kit's proxy: short, so that the stalled platform
   * tests are quick, and still longer than the slowest call seen on a loaded shared engine (with
   * the three engines' kits side by side at a load of 27, Podman once took more than 10 s to start
   * a container).
   */
  static final String REQUEST_TIMEOUT = "PT20S";

  /**
   * The TCP front of each test class's engine, opened by the first test that needs it and closed
   * after the class's last: per class, since the classes run side by side and one that ends first
   * must not cut the connections of another on the same engine.
   */
  private static final Map<Class<?>, TcpEngine> TCP_ENGINES = new HashMap<>();

  /** A client of the engine for looking and acting behind the driver's back. */
  abstract DockerClient engineClient();

  /** The engine's unix socket: the kit's proxy reaches it over TCP through it. */
  abstract Path engineSocket();

  /** A driver of the namespace on the engine, with these parameters besides the engine's. */
  abstract Driver open(String namespace, Map<String, String> params);

  @AfterAll
  static void closeTcpEngine(TestInfo test) throws IOException {
    TcpEngine engine;
    synchronized (TCP_ENGINES) {
      engine = TCP_ENGINES.remove(test.getTestClass().orElseThrow());
    }
    if (engine != null) {
      engine.close();
    }
  }

  @Override
  protected Optional<InetSocketAddress> platformEndpoint() {
    synchronized (TCP_ENGINES) {
      TcpEngine tcpEngine = TCP_ENGINES.get(getClass());
      if (tcpEngine == null) {
        try {
          tcpEngine = TcpEngine.open(engineSocket());
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        TCP_ENGINES.put(getClass(), tcpEngine);
      }
      URI host = URI.create(tcpEngine.host());
      return Optional.of(new InetSocketAddress(host.getHost(), host.getPort()));
    }
  }

  @Override
  protected Optional<Driver> newDriverThrough(String namespace, InetSocketAddress proxy) {
    return Optional.of(
        open(
            namespace,
            Map.of(
                DockerDriverProvider.HOST,
                "tcp://" + proxy.getHostString() + ":" + proxy.getPort(),
                DockerDriverProvider.REQUEST_TIMEOUT,
                REQUEST_TIMEOUT)));
  }

  /**
   * Six request timeouts: a call is one request, close() one more, a frozen follow is ended after
   * one timeout of quiet, half a timeout until the next check and a timeout for the ping.
   */
  @Override
  protected Duration unresponsivePlatformBound() {
    return Duration.parse(REQUEST_TIMEOUT).multipliedBy(6);
  }

  @Override
  protected Driver newDriver(String namespace) {
    return open(namespace, Map.of());
  }

  /**
   * Whether this lane runs the exhaustive groups (load, big output) at their whole size. Only
   * {@link DockerReliabilityTest} does: the driver's own handling of load and big output is the
   * same code on every engine, and the lanes share the machine's two cores. The others run them at
   * the size that proves what they add (the SSH tunnel's channels, Podman's service and log path).
   */
  abstract boolean exhaustive();

  /**
   * 200 tasks (the kit's count) in the {@link #exhaustive()} lane; 50 from eight threads elsewhere.
   */
  @Override
  protected int loadTasks() {
    return exhaustive() ? super.loadTasks() : 50;
  }

  /**
   * 100 MB in the {@link #exhaustive()} lane, 10 MB elsewhere, unless {@value #BIG_OUTPUT_PROPERTY}
   * says otherwise: every byte of a container's output goes through the engine's log driver and
   * back through its logs API, which on the 2-core CI machines moves a few MB per second; the whole
   * gigabyte would take several minutes of the build. Ten megabytes still pass an SSH channel's
   * window, or Podman's log path, thousands of times over.
   */
  @Override
  protected long bigOutputBytes() {
    return Long.getLong(BIG_OUTPUT_PROPERTY, exhaustive() ? 100_000_000L : 10_000_000L);
  }

  @Override
  protected List<String> leftovers(String namespace) {
    List<String> left = new ArrayList<>();
    DockerTesting.containersOf(engineClient(), namespace).forEach(c -> left.add("container " + c));
    DockerTesting.volumesOf(engineClient(), namespace).forEach(v -> left.add("volume " + v));
    Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
    String prefix = "orchestra-docker-" + Names.safe(namespace) + "-";
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(tmp, prefix + "*")) {
      dirs.forEach(d -> left.add("client-side directory " + d));
    } catch (IOException e) {
      left.add("temporary directory " + tmp + " (unreadable: " + e + ")");
    }
    return left;
  }

  @Override
  protected void removeContainerBehindDriver(String namespace, String taskId, Container container) {
    engineClient().removeContainerCmd(container.id()).withForce(true).exec();
  }

  @Override
  protected void removeVolumeBehindDriver(String namespace, String volumeName) {
    var volumes =
        engineClient()
            .listVolumesCmd()
            .withFilter("label", List.of(Labels.namespaceFilter(namespace)))
            .exec()
            .getVolumes();
    String removed = null;
    for (var v :
        volumes == null
            ? List.<com.github.dockerjava.api.command.InspectVolumeResponse>of()
            : volumes) {
      Map<String, String> labels = v.getLabels() == null ? Map.of() : v.getLabels();
      if (volumeName.equals(labels.get(Labels.VOLUME))) {
        engineClient().removeVolumeCmd(v.getName()).exec();
        removed = v.getName();
      }
    }
    if (removed == null) {
      throw new IllegalStateException("no volume '" + volumeName + "' in namespace " + namespace);
    }
  }
}
