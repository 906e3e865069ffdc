package dev.orchestra.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Streams over a Unix domain socket. {@code Channels.newInputStream} would serialise a blocking
 * read and a write on the channel's lock; these read and write the channel directly.
 */
final class UnixSockets {

  private static final String UNIX = "unix://";

  /** The engine's socket: {@code DOCKER_HOST} when it is a {@code unix://} address. */
  static Path engineSocket() {
    return socketOf(System.getenv("DOCKER_HOST")).orElse(Path.of("/var/run/docker.sock"));
  }

  /** The socket of a {@code unix://} engine address; empty for any other address, or none. */
  static Optional<Path> socketOf(String host) {
    return host != null && host.startsWith(UNIX)
        ? Optional.of(Path.of(host.substring(UNIX.length())))
        : Optional.empty();
  }

  private UnixSockets() {}

  static SocketChannel connect(Path socket) throws IOException {
    SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      channel.connect(UnixDomainSocketAddress.of(socket));
    } catch (IOException e) {
      channel.close();
      throw e;
    }
    return channel;
  }

  static InputStream input(SocketChannel channel) {
    return new InputStream() {
      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
          return 0;
        }
        int n;
        do {
          n = channel.read(ByteBuffer.wrap(b, off, len));
        } while (n == 0);
        return n;
      }
    };
  }

  static OutputStream output(SocketChannel channel) {
    return new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(b, off, len);
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
      }
    };
  }
}
