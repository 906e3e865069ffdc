package dev.orchestra.docker;

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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;

/**
 * The Docker driver's reliability run against a real engine. Leftovers are the namespace's
 * containers and volumes on the engine and its client-side step directories ({@code
 * orchestra-docker-<namespace>-*} in the temporary directory); interference is {@code docker rm -f}
 * and {@code docker volume rm} through an engine client of the test's own. For the unresponsive
 * platform tests the engine is reached over TCP ({@link TcpEngine}), with the kit's proxy in
 * between, and a request timeout of {@value #REQUEST_TIMEOUT}.
 */
@RequiresDocker
class DockerReliabilityTest extends ReliabilityTck {

  /** System property: the bytes of the big output test; 10^9 proves the whole gigabyte. */
  static final String BIG_OUTPUT_PROPERTY = "orchestra.reliability.bigOutputBytes";

  /**
   * The request timeout of the drivers behind the kit's proxy: short, so that the stalled platform
   * tests are quick, and still several times the slowest call seen on a loaded shared engine.
   */
  static final String REQUEST_TIMEOUT = "PT10S";

  private static TcpEngine tcpEngine;

  @AfterAll
  static void closeTcpEngine() throws IOException {
    if (tcpEngine != null) {
      tcpEngine.close();
    }
  }

  @Override
  protected Optional<InetSocketAddress> platformEndpoint() {
    synchronized (DockerReliabilityTest.class) {
      if (tcpEngine == null) {
        try {
          tcpEngine = TcpEngine.open();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
      URI host = URI.create(tcpEngine.host());
      return Optional.of(new InetSocketAddress(host.getHost(), host.getPort()));
    }
  }

  @Override
  protected Optional<Driver> newDriverThrough(String namespace, InetSocketAddress proxy) {
    return Optional.of(
        DockerTesting.open(
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
    return DockerTesting.open(namespace);
  }

  /**
   * 100 MB unless {@value #BIG_OUTPUT_PROPERTY} says otherwise: every byte of a container's output
   * goes through the engine's log driver and back through its logs API, which on the 2-core CI
   * machines moves a few MB per second; the whole gigabyte would take several minutes of the build.
   */
  @Override
  protected long bigOutputBytes() {
    return Long.getLong(BIG_OUTPUT_PROPERTY, 100_000_000L);
  }

  @Override
  protected List<String> leftovers(String namespace) {
    List<String> left = new ArrayList<>();
    DockerTesting.containersOf(namespace).forEach(c -> left.add("container " + c));
    DockerTesting.volumesOf(namespace).forEach(v -> left.add("volume " + v));
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
    DockerTesting.engine().removeContainerCmd(container.id()).withForce(true).exec();
  }

  @Override
  protected void removeVolumeBehindDriver(String namespace, String volumeName) {
    var volumes =
        DockerTesting.engine()
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
        DockerTesting.engine().removeVolumeCmd(v.getName()).exec();
        removed = v.getName();
      }
    }
    if (removed == null) {
      throw new IllegalStateException("no volume '" + volumeName + "' in namespace " + namespace);
    }
  }
}
