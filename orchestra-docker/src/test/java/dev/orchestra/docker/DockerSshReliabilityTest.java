package dev.orchestra.docker;

import dev.orchestra.Driver;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;

/**
 * The Docker driver's reliability run through {@code host=ssh://}: a private {@code sshd} ({@link
 * TestSshd}) on a loopback port in front of the real engine, which the kit still looks at directly
 * ({@link DockerReliabilityTest}). For the unresponsive platform tests the kit's proxy stands
 * between the driver and the {@code sshd}, so that it is the SSH link that stops answering.
 */
@RequiresDocker
class DockerSshReliabilityTest extends DockerReliabilityTest {

  @AfterAll
  static void stopSshd() {
    TestSshd.closeShared();
  }

  /** Every driver of the kit goes through the {@code sshd}, unless the parameters say otherwise. */
  @Override
  Driver open(String namespace, Map<String, String> params) {
    Map<String, String> all = new HashMap<>(TestSshd.shared().params());
    all.putAll(params);
    return DockerTesting.open(namespace, all);
  }

  /** The engine behind the {@code sshd} is the one {@link DockerReliabilityTest} loads whole. */
  @Override
  boolean exhaustive() {
    return false;
  }

  @Override
  protected Optional<InetSocketAddress> platformEndpoint() {
    return Optional.of(new InetSocketAddress("127.0.0.1", TestSshd.shared().port()));
  }

  @Override
  protected Optional<Driver> newDriverThrough(String namespace, InetSocketAddress proxy) {
    TestSshd.shared().trustPort(proxy.getPort());
    return Optional.of(
        open(
            namespace,
            Map.of(
                DockerDriverProvider.HOST,
                TestSshd.shared().hostAt(proxy.getPort()),
                DockerDriverProvider.REQUEST_TIMEOUT,
                REQUEST_TIMEOUT)));
  }
}
