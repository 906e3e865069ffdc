package dev.orchestra.docker;

import dev.orchestra.Driver;
import org.junit.jupiter.api.AfterAll;

/**
 * The whole driver contract through {@code host=ssh://}: a private {@code sshd} ({@link TestSshd})
 * on a loopback port in front of the real engine.
 */
@RequiresDocker
class DockerSshDriverTckTest extends DockerDriverTckTest {

  @AfterAll
  static void stopSshd() {
    TestSshd.closeShared();
  }

  @Override
  protected Driver newDriver(String namespace) {
    return DockerTesting.open(namespace, TestSshd.shared().params());
  }
}
