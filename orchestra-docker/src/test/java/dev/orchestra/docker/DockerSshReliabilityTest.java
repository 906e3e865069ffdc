package dev.orchestra.docker;

import dev.orchestra.Driver;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;

/**
 * The Docker driver's reliability run through {@code host=ssh://}: a private {@code sshd} ({@link
 * TestSshd}) on a loopback port in front of the real engine. For the unresponsive platform tests
 * the kit's proxy stands between the driver and the {@code sshd}, so that it is the SSH link that
 * stops answering.
 */
@RequiresDocker
class DockerSshReliabilityTest extends DockerReliabilityTest {

  @AfterAll
  static void stopSshd() {
    TestSshd.closeShared();
  }

  @Override
  protected Driver newDriver(String namespace) {
    return DockerTesting.open(namespace, TestSshd.shared().params());
  }

  @Override
  protected Optional<InetSocketAddress> platformEndpoint() {
    return Optional.of(new InetSocketAddress("127.0.0.1", TestSshd.shared().port()));
  }

  @Override
  protected Optional<Driver> newDriverThrough(String namespace, InetSocketAddress proxy) {
    TestSshd.shared().trustPort(proxy.getPort());
    Map<String, String> params = new java.util.HashMap<>(TestSshd.shared().params());
    params.put(DockerDriverProvider.HOST, TestSshd.shared().hostAt(proxy.getPort()));
    params.put(DockerDriverProvider.REQUEST_TIMEOUT, REQUEST_TIMEOUT);
    return Optional.of(DockerTesting.open(namespace, params));
  }
}
