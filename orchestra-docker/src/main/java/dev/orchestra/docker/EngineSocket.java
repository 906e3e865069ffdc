package dev.orchestra.docker;

import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.transport.SSLConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.Locale;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One raw connection to the engine, for the calls that hijack it (attach, exec start): an HTTP
 * request that the engine upgrades to a plain byte stream in both directions.
 *
 * <p>docker-java's HttpClient 5 transport cannot half-close such a stream: it ends an attach only
 * by aborting the connection, which loses what is still in flight. This connection can: {@link
 * #shutdownOutput()} tells the engine that the input has ended while the output keeps flowing,
 * which is how a task (or an exec) reads end of file after every byte of its standard input, and
 * how the output of an exec is still read whole afterwards. Speaks {@code unix://} (a Unix domain
 * socket) and {@code tcp://} (with TLS when the connection has it).
 *
 * <p>It also reads a plain answer whose body is large ({@link #get}, a container's log): straight
 * into one buffer ({@link AnswerBody}), without the HTTP client's layers.
 *
 * <p>One thread may read while another writes. Not otherwise thread-safe.
 */
final class EngineSocket implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EngineSocket.class);
  private static final int MAX_HEADER_BYTES = 64 * 1024;

  private final Transport transport;
  private final String hostHeader;
  private final String where;
  private final RequestDeadlines deadlines;
  private final RequestDeadlines.Reads reads;
  private volatile Runnable whenClosed = () -> {};

  private EngineSocket(
      Transport transport, String hostHeader, String where, RequestDeadlines deadlines) {
    this.transport = transport;
    this.hostHeader = hostHeader;
    this.where = where;
    this.deadlines = deadlines;
    this.reads = deadlines.reads();
  }

  /**
   * Connects to the engine, within the request timeout.
   *
   * @param host {@code unix:///path} or {@code tcp://host:port}
   * @param ssl the TLS settings for {@code tcp://}, or {@code null} for plain TCP
   * @param deadlines the bound of the connect, the TLS handshake and each wait for an answer's head
   * @return the connection, not yet upgraded
   * @throws IOException if the engine cannot be reached ({@link EngineTimeoutException} if it did
   *     not answer in time)
   * @throws UnsupportedOperationException for any other kind of address
   */
  static EngineSocket connect(URI host, SSLConfig ssl, RequestDeadlines deadlines)
      throws IOException {
    String scheme = host.getScheme() == null ? "" : host.getScheme().toLowerCase(Locale.ROOT);
    return switch (scheme) {
      case "unix" ->
          new EngineSocket(deadlines.run(() -> unix(host)), "docker", host.toString(), deadlines);
      case "tcp" ->
          new EngineSocket(
              tcp(host, ssl, deadlines.timeout()), host.getHost(), host.toString(), deadlines);
      default ->
          throw new UnsupportedOperationException(
              "raw engine connections speak unix:// and tcp://, not " + host);
    };
  }

  /**
   * Sends a request and reads the head of the answer, within the request timeout. Returns once the
   * engine switched the connection to a raw stream: {@link #input()} and {@link #output()} then
   * carry its bytes, with no timeout.
   *
   * @param method the HTTP method
   * @param path the request path and query, for example {@code /exec/abc/start}
   * @param jsonBody the request body (JSON), or {@code null} for none
   * @throws IOException if the connection fails ({@link EngineTimeoutException} if the engine did
   *     not answer in time; the connection is then unusable)
   * @throws DockerException (or a subtype for 400, 404 and 409) if the engine refused, with its
   *     answer
   */
  void upgrade(String method, String path, String jsonBody) throws IOException {
    // A tcp:// socket's own timeout bounds each read; a unix:// channel ignores it, and the
    // deadline's interrupt closes it instead.
    transport.readTimeout((int) Math.min(Integer.MAX_VALUE, deadlines.timeout().toMillis()));
    deadlines.run(() -> exchange(method, path, jsonBody));
    transport.readTimeout(0);
  }

  private Void exchange(String method, String path, String jsonBody) throws IOException {
    byte[] body = jsonBody == null ? new byte[0] : jsonBody.getBytes(StandardCharsets.UTF_8);
    String head =
        method
            + " "
            + path
            + " HTTP/1.1\r\n"
            + "Host: "
            + hostHeader
            + "\r\n"
            + "Content-Type: "
            + (jsonBody == null ? "text/plain" : "application/json")
            + "\r\n"
            + "Content-Length: "
            + body.length
            + "\r\n"
            + "Connection: Upgrade\r\n"
            + "Upgrade: tcp\r\n\r\n";
    OutputStream out = output();
    out.write(head.getBytes(StandardCharsets.US_ASCII));
    out.write(body);
    out.flush();
    LOG.debug("{} {} on {}", method, path, where);
    readUpgrade(input());
    return null;
  }

  /**
   * Sends a {@code GET} (HTTP/1.1, the connection closed after the answer) and reads the head of
   * the answer. Each read, of the head and of the body, is bounded by the request timeout.
   *
   * @param path the request path and query
   * @param flavour the engine, which says how its refusals read as Docker's
   * @param what what is being read, for messages
   * @return the body
   * @throws IOException if the connection fails ({@link EngineTimeoutException} if the engine did
   *     not answer in time; the connection is then unusable)
   * @throws DockerException (or a subtype for 400, 404 and 409) if the engine refused, with its
   *     answer
   */
  AnswerBody get(String path, EngineFlavour flavour, String what) throws IOException {
    transport.readTimeout((int) Math.min(Integer.MAX_VALUE, deadlines.timeout().toMillis()));
    String head =
        "GET " + path + " HTTP/1.1\r\nHost: " + hostHeader + "\r\nConnection: close\r\n\r\n";
    OutputStream out = output();
    out.write(head.getBytes(StandardCharsets.US_ASCII));
    out.flush();
    LOG.debug("GET {} on {}", path, where);
    byte[] buffer = new byte[AnswerBody.BUFFER];
    int limit = 0;
    int end;
    while ((end = headEnd(buffer, limit)) < 0) {
      if (limit > MAX_HEADER_BYTES) {
        throw new IOException("the engine's answer has no end of headers");
      }
      int n = boundedRead(buffer, limit, buffer.length - limit);
      if (n < 0) {
        throw new IOException("the engine closed the connection before answering");
      }
      limit += n;
    }
    String[] lines = new String(buffer, 0, end, StandardCharsets.ISO_8859_1).split("\r\n");
    int code = status(lines[0]);
    boolean chunked = false;
    long length = -1;
    for (String line : lines) {
      String lower = line.toLowerCase(Locale.ROOT);
      if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
        chunked = true;
      } else if (lower.startsWith("content-length:")) {
        length = Long.parseLong(line.substring("content-length:".length()).trim());
      }
    }
    int pos = end + 4;
    AnswerBody body =
        chunked
            ? AnswerBody.chunked(this::boundedRead, buffer, pos, limit, what)
            : length >= 0
                ? AnswerBody.sized(this::boundedRead, buffer, pos, limit, length, what)
                : AnswerBody.until(this::boundedRead, buffer, pos, limit, what);
    if (code >= 400) {
      String text = new String(body.readAtMost(4096), StandardCharsets.UTF_8);
      throw EngineErrors.refusal(flavour.dockerStatus(code, text), text);
    }
    if (code != 200) {
      throw new IOException("the engine answered '" + lines[0] + "' to GET " + path);
    }
    return body;
  }

  /** Where the head in {@code buffer[0 .. limit)} ends (its CRLFCRLF), or -1. */
  private static int headEnd(byte[] buffer, int limit) {
    for (int i = 0; i + 3 < limit; i++) {
      if (buffer[i] == '\r'
          && buffer[i + 1] == '\n'
          && buffer[i + 2] == '\r'
          && buffer[i + 3] == '\n') {
        return i;
      }
    }
    return -1;
  }

  /**
   * One read of the answer, bounded by the request timeout: by the socket's own timeout on {@code
   * tcp://}, by the deadline's interrupt on a channel.
   */
  private int boundedRead(byte[] b, int off, int len) throws IOException {
    if (transport.boundsReads()) {
      try {
        return transport.input().read(b, off, len);
      } catch (SocketTimeoutException e) {
        throw deadlines.timedOut(e);
      }
    }
    return reads.run(() -> transport.input().read(b, off, len));
  }

  /** The engine's bytes after the upgrade. */
  InputStream input() {
    return transport.input();
  }

  /** The bytes to the engine after the upgrade. */
  OutputStream output() {
    return transport.output();
  }

  /**
   * Tells the engine that nothing more will be written; what it sends still arrives.
   *
   * @throws IOException if the connection fails
   */
  void shutdownOutput() throws IOException {
    transport.shutdownOutput();
  }

  @Override
  public void close() {
    reads.close();
    try {
      transport.close();
    } catch (IOException e) {
      LOG.debug("closing a connection to the engine at {} failed: {}", where, e.toString());
    } finally {
      whenClosed.run();
    }
  }

  /** Has {@link #close()} run an action too, after the connection is closed. */
  void whenClosed(Runnable action) {
    whenClosed = action;
  }

  /** Reads the answer's head; anything but a protocol switch is the engine's refusal. */
  private static void readUpgrade(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("the engine closed the connection before answering");
      }
      head.write(b);
      matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
      if (head.size() > MAX_HEADER_BYTES) {
        throw new IOException("the engine's answer has no end of headers");
      }
    }
    String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
    int code = status(lines[0]);
    if (code == 101 || code == 200) {
      return;
    }
    long length = -1;
    for (String line : lines) {
      if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
        length = Long.parseLong(line.substring("content-length:".length()).trim());
      }
    }
    byte[] body = in.readNBytes((int) Math.min(length < 0 ? 4096 : length, 4096));
    throw EngineErrors.refusal(code, new String(body, StandardCharsets.UTF_8));
  }

  /** The status code of an answer's first line. */
  private static int status(String firstLine) throws IOException {
    String[] status = firstLine.split(" ", 3);
    try {
      return Integer.parseInt(status.length > 1 ? status[1] : "");
    } catch (NumberFormatException e) {
      throw new IOException("the engine answered '" + firstLine + "'", e);
    }
  }

  private static Transport unix(URI host) throws IOException {
    SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(host.getPath()));
    return new ChannelTransport(channel);
  }

  private static Transport tcp(URI host, SSLConfig ssl, Duration timeout) throws IOException {
    int port = host.getPort() > 0 ? host.getPort() : (ssl == null ? 2375 : 2376);
    Socket plain = new Socket();
    try {
      plain.connect(
          new InetSocketAddress(host.getHost(), port),
          (int) DockerConnection.CONNECT_TIMEOUT.toMillis());
      // Bounds the TLS handshake's reads.
      plain.setSoTimeout((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
      SSLContext context = ssl == null ? null : ssl.getSSLContext();
      if (context == null) {
        return new SocketTransport(plain);
      }
      SSLSocket tls =
          (SSLSocket) context.getSocketFactory().createSocket(plain, host.getHost(), port, true);
      // Check the engine's certificate names the host, as the HTTP client does.
      SSLParameters parameters = tls.getSSLParameters();
      parameters.setEndpointIdentificationAlgorithm("HTTPS");
      tls.setSSLParameters(parameters);
      tls.startHandshake();
      return new SocketTransport(tls);
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      try {
        plain.close();
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      if (e instanceof IOException io) {
        throw io;
      }
      throw new IOException("setting up TLS to " + host + " failed: " + e, e);
    }
  }

  private interface Transport {
    InputStream input();

    OutputStream output();

    void shutdownOutput() throws IOException;

    void readTimeout(int millis) throws IOException;

    /** Whether {@link #readTimeout} bounds reads (a socket), or is ignored (a channel). */
    boolean boundsReads();

    void close() throws IOException;
  }

  private record SocketTransport(Socket socket) implements Transport {
    @Override
    public InputStream input() {
      try {
        return socket.getInputStream();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }

    @Override
    public OutputStream output() {
      try {
        return socket.getOutputStream();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }

    @Override
    public void shutdownOutput() throws IOException {
      socket.shutdownOutput();
    }

    @Override
    public void readTimeout(int millis) throws IOException {
      socket.setSoTimeout(millis);
    }

    @Override
    public boolean boundsReads() {
      return true;
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /**
   * A Unix domain socket. Its streams call the channel directly: the JDK's {@code
   * Channels.newInputStream} would hold the channel's blocking lock during a read, so that a write
   * from another thread waits for the read to end.
   */
  private static final class ChannelTransport implements Transport {

    private final SocketChannel channel;
    private final InputStream input;
    private final OutputStream output;

    ChannelTransport(SocketChannel channel) {
      this.channel = channel;
      this.input =
          new InputStream() {
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
              return channel.read(ByteBuffer.wrap(b, off, len));
            }
          };
      this.output =
          new OutputStream() {
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

    @Override
    public InputStream input() {
      return input;
    }

    @Override
    public OutputStream output() {
      return output;
    }

    @Override
    public void shutdownOutput() throws IOException {
      channel.shutdownOutput();
    }

    @Override
    public void readTimeout(int millis) {
      // A channel has no read timeout: the deadline's interrupt closes it instead.
    }

    @Override
    public boolean boundsReads() {
      return false;
    }

    @Override
    public void close() throws IOException {
      channel.close();
    }
  }
}
