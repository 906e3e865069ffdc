package dev.orchestra.docker;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * The test engine reached over {@code tcp://}: the engine of {@code DOCKER_HOST} itself when it is
 * a TCP address, else a {@link TcpToUnixProxy} in front of its unix socket. A test on any other
 * kind of address is aborted with the reason.
 */
final class TcpEngine implements AutoCloseable {

  private final String host;
  private final TcpToUnixProxy proxy;

  private TcpEngine(String host, TcpToUnixProxy proxy) {
    this.host = host;
    this.proxy = proxy;
  }

  static TcpEngine open() throws IOException {
    String dockerHost = System.getenv().getOrDefault("DOCKER_HOST", "unix:///var/run/docker.sock");
    Assumptions.assumeTrue(
        dockerHost.startsWith("unix://") || dockerHost.startsWith("tcp://"),
        "the engine is at " + dockerHost);
    if (dockerHost.startsWith("tcp://")) {
      return new TcpEngine(dockerHost, null);
    }
    TcpToUnixProxy proxy = new TcpToUnixProxy(Path.of(dockerHost.substring("unix://".length())));
    return new TcpEngine(proxy.host(), proxy);
  }

  /**
   * The engine of {@code socket}, or of {@code DOCKER_HOST} when it is a TCP address and {@code
   * socket} is Docker's default.
   */
  static TcpEngine open(Path socket) throws IOException {
    if (!socket.equals(DockerTesting.DEFAULT_SOCKET)) {
      TcpToUnixProxy proxy = new TcpToUnixProxy(socket);
      return new TcpEngine(proxy.host(), proxy);
    }
    return open();
  }

  /** The {@code tcp://} address to give the driver as its {@code host} parameter. */
  String host() {
    return host;
  }

  @Override
  public void close() throws IOException {
    if (proxy != null) {
      proxy.close();
    }
  }
}
