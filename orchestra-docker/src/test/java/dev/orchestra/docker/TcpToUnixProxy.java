package dev.orchestra.docker;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves a local engine socket on a loopback TCP port, passing half-closes through, so that tests
 * can reach the engine the way a {@code tcp://} engine is reached.
 */
final class TcpToUnixProxy implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TcpToUnixProxy.class);

  private final ServerSocket server;
  private final Path target;
  private final List<Closeable> open = new CopyOnWriteArrayList<>();

  TcpToUnixProxy(Path target) throws IOException {
    this.target = target;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::accept, "tcp-to-unix-proxy");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** The address to give the driver: {@code tcp://127.0.0.1:port}. */
  String host() {
    return "tcp://127.0.0.1:" + server.getLocalPort();
  }

  /** Cuts every connection made so far, as a network failure would; new ones still work. */
  void dropConnections() throws IOException {
    for (Closeable c : open) {
      c.close();
      open.remove(c);
    }
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        SocketChannel engine = SocketChannel.open(StandardProtocolFamily.UNIX);
        engine.connect(UnixDomainSocketAddress.of(target));
        open.add(client);
        open.add(engine);
        InputStream fromClient = client.getInputStream();
        OutputStream toClient = client.getOutputStream();
        // Channels.newInputStream/newOutputStream would serialise a blocking read and a write on
        // the channel's lock: read and write the channel directly instead.
        pump(
            () -> {
              byte[] buffer = new byte[64 * 1024];
              int n;
              while ((n = fromClient.read(buffer)) >= 0) {
                ByteBuffer chunk = ByteBuffer.wrap(buffer, 0, n);
                while (chunk.hasRemaining()) {
                  engine.write(chunk);
                }
              }
              engine.shutdownOutput();
            });
        pump(
            () -> {
              ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
              while (engine.read(buffer) >= 0) {
                toClient.write(buffer.array(), 0, buffer.position());
                toClient.flush();
                buffer.clear();
              }
              client.shutdownOutput();
            });
      } catch (IOException e) {
        if (!server.isClosed()) {
          LOG.warn("proxy connection failed: {}", e.toString());
        }
      }
    }
  }

  private interface Copy {
    void run() throws IOException;
  }

  private static void pump(Copy copy) {
    Thread t =
        new Thread(
            () -> {
              try {
                copy.run();
              } catch (IOException e) {
                LOG.debug("proxy pump ended: {}", e.toString());
              }
            },
            "tcp-to-unix-proxy pump");
    t.setDaemon(true);
    t.start();
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Closeable c : open) {
      c.close();
    }
  }
}
