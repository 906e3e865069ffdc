package dev.orchestra.docker;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves a local engine socket on a loopback TCP port, passing half-closes through, so that tests
 * can reach the engine the way a {@code tcp://} engine is reached. {@link #toTcp} bridges the other
 * way: a unix socket in front of a TCP address, so that a {@code unix://} engine can be stalled by
 * a TCP proxy; {@link #unixToUnix} puts a unix socket in front of the engine's, for {@link
 * #holdRequests}.
 */
final class TcpToUnixProxy implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TcpToUnixProxy.class);

  private final ServerSocketChannel server;
  private final SocketAddress target;
  private final StandardProtocolFamily targetFamily;
  private final Path socketDir;
  private final List<Closeable> open = new CopyOnWriteArrayList<>();

  /** Requests that reach the engine late ({@link #holdRequests}); null while none are. */
  private volatile Hold hold;

  private final AtomicInteger held = new AtomicInteger();

  /** What {@link #holdRequests} asked for. */
  private record Hold(Pattern pattern, Duration time) {}

  /** Serves the unix socket {@code target} on a loopback TCP port. */
  TcpToUnixProxy(Path target) throws IOException {
    this(
        ServerSocketChannel.open(StandardProtocolFamily.INET)
            .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)),
        UnixDomainSocketAddress.of(target),
        StandardProtocolFamily.UNIX,
        null);
  }

  private TcpToUnixProxy(
      ServerSocketChannel server,
      SocketAddress target,
      StandardProtocolFamily targetFamily,
      Path socketDir) {
    this.server = server;
    this.target = target;
    this.targetFamily = targetFamily;
    this.socketDir = socketDir;
    Thread acceptor = new Thread(this::accept, "tcp-to-unix-proxy");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** Serves a TCP address on a unix socket of its own, in a new directory under {@code /tmp}. */
  static TcpToUnixProxy toTcp(InetSocketAddress target) throws IOException {
    return onUnixSocket(target, StandardProtocolFamily.INET);
  }

  /**
   * Serves a unix socket on a unix socket of its own, in a new directory under {@code /tmp}: a
   * client's interrupt closes its connection (a channel), as on the engine's own socket.
   */
  static TcpToUnixProxy unixToUnix(Path target) throws IOException {
    return onUnixSocket(UnixDomainSocketAddress.of(target), StandardProtocolFamily.UNIX);
  }

  private static TcpToUnixProxy onUnixSocket(SocketAddress target, StandardProtocolFamily family)
      throws IOException {
    // A short path: a unix socket's path may not exceed 107 bytes.
    Path dir = Files.createTempDirectory(Path.of("/tmp"), "orchestra-bridge-");
    ServerSocketChannel server =
        ServerSocketChannel.open(StandardProtocolFamily.UNIX)
            .bind(UnixDomainSocketAddress.of(dir.resolve("docker.sock")));
    return new TcpToUnixProxy(server, target, family, dir);
  }

  /** The address to give the driver: {@code tcp://127.0.0.1:port}, or {@code unix:///path}. */
  String host() throws IOException {
    SocketAddress local = server.getLocalAddress();
    if (local instanceof UnixDomainSocketAddress unix) {
      return "unix://" + unix.getPath();
    }
    return "tcp://127.0.0.1:" + ((InetSocketAddress) local).getPort();
  }

  /** Cuts every connection made so far, as a network failure would; new ones still work. */
  void dropConnections() throws IOException {
    for (Closeable c : open) {
      c.close();
      open.remove(c);
    }
  }

  /**
   * From now on, a read of the client's bytes that matches {@code pattern} (in their ISO-8859-1
   * text, say the request line {@code POST /v1.41/containers/create}) reaches the engine {@code
   * time} later, and so does everything after it on that connection, its end included: an engine
   * that takes that long to receive the request, and then carries it out whether or not the client
   * is still there.
   */
  void holdRequests(Pattern pattern, Duration time) {
    hold = new Hold(pattern, time);
  }

  /** How many reads {@link #holdRequests} has held so far. */
  int requestsHeld() {
    return held.get();
  }

  private void accept() {
    while (server.isOpen()) {
      try {
        SocketChannel client = server.accept();
        SocketChannel engine = SocketChannel.open(targetFamily);
        engine.connect(target);
        open.add(client);
        open.add(engine);
        pump(client, engine, true);
        pump(engine, client, false);
      } catch (IOException e) {
        if (server.isOpen()) {
          LOG.warn("proxy connection failed: {}", e.toString());
        }
      }
    }
  }

  /**
   * Copies one direction on a thread of its own, then passes the end on as a half-close. Reads and
   * writes the channels directly: a stream of {@code Channels} would serialise a blocking read and
   * a write on the channel's lock.
   */
  private void pump(SocketChannel from, SocketChannel to, boolean fromClient) {
    Thread t =
        new Thread(
            () -> {
              try {
                ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
                while (from.read(buffer) >= 0) {
                  buffer.flip();
                  Hold h = hold;
                  if (fromClient && h != null && matches(h.pattern(), buffer)) {
                    held.incrementAndGet();
                    LOG.debug("holding a request for {}", h.time());
                    Thread.sleep(h.time().toMillis());
                  }
                  while (buffer.hasRemaining()) {
                    to.write(buffer);
                  }
                  buffer.clear();
                }
                to.shutdownOutput();
              } catch (IOException e) {
                LOG.debug("proxy pump ended: {}", e.toString());
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "tcp-to-unix-proxy pump");
    t.setDaemon(true);
    t.start();
  }

  private static boolean matches(Pattern pattern, ByteBuffer buffer) {
    String text =
        new String(
            buffer.array(),
            buffer.arrayOffset() + buffer.position(),
            buffer.remaining(),
            StandardCharsets.ISO_8859_1);
    return pattern.matcher(text).find();
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Closeable c : open) {
      c.close();
    }
    if (socketDir != null) {
      Files.deleteIfExists(socketDir.resolve("docker.sock"));
      Files.deleteIfExists(socketDir);
    }
  }
}
