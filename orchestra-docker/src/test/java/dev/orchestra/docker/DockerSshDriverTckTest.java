package dev.orchestra.docker;

import dev.orchestra.Driver;
import org.junit.jupiter.api.AfterAll;

/**
 * The whole driver contract through {@code host=ssh://}: a private {@code sshd} ({@link TestSshd})
 * on a loopback port in front of the real engine.
 */
@RequiresDocker
class DockerSshDriverTckTest extends DockerDriverTckTest {

  private static TestSshd sshd;

  static synchronized TestSshd sshd() {
    if (sshd == null) {
      sshd = TestSshd.start();
    }
    return sshd;
  }

  @AfterAll
  static synchronized void stopSshd() {
    if (sshd != null) {
      sshd.close();
      sshd = null;
    }
  }

  @Override
  protected Driver newDriver(String namespace) {
    return DockerTesting.open(namespace, sshd().params());
  }
}
