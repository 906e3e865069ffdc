package dev.orchestra.docker;

import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.transport.SSLConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Locale;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers a task's standard input to an engine reached over {@code tcp://}, through an attach on a
 * socket of its own.
 *
 * <p>The HttpClient 5 transport can only end an attach by aborting the connection, and over TCP an
 * abortive close (a reset) discards input still in flight, so a task would miss the end of its
 * input. This feeder speaks the attach protocol itself (an HTTP upgrade, then raw bytes), and after
 * the last byte half-closes the socket: the engine reads everything, sees end of file, and, as the
 * container was created with {@code StdinOnce}, closes the task's standard input. The socket is
 * closed once the engine ends the attach.
 */
final class SocketStdinFeeder implements StdinDelivery {

  private static final Logger LOG = LoggerFactory.getLogger(SocketStdinFeeder.class);
  private static final int MAX_HEADER_BYTES = 64 * 1024;

  private final Socket socket;
  private final InputStream input;
  private final String task;
  private volatile boolean abandoned;

  private SocketStdinFeeder(Socket socket, InputStream input, String task) {
    this.socket = socket;
    this.input = input;
    this.task = task;
  }

  /**
   * Attaches to a created container's standard input and starts pumping {@code input} into it on a
   * thread of its own. Returns once the engine accepted the attach.
   *
   * @param host the engine, {@code tcp://host:port}
   * @param ssl the TLS settings, or {@code null} for plain TCP
   * @param containerId the created container
   * @param input the caller's input; closed when delivered or abandoned
   * @param task the task, for messages
   * @return the feeder
   * @throws DockerException as the engine answered, if it refused the attach
   * @throws java.io.UncheckedIOException if the engine cannot be reached
   */
  static SocketStdinFeeder attach(
      URI host, SSLConfig ssl, String containerId, InputStream input, String task) {
    Socket socket = null;
    try {
      socket = connect(host, ssl);
      socket.setSoTimeout((int) DockerConnection.RESPONSE_TIMEOUT.toMillis());
      LOG.debug("attaching the stdin of container {} of {} over {}", containerId, task, host);
      OutputStream out = socket.getOutputStream();
      out.write(
          ("POST /containers/"
                  + containerId
                  + "/attach?stream=1&stdin=1 HTTP/1.1\r\n"
                  + "Host: "
                  + host.getHost()
                  + "\r\n"
                  + "Content-Type: text/plain\r\n"
                  + "Content-Length: 0\r\n"
                  + "Connection: Upgrade\r\n"
                  + "Upgrade: tcp\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      readUpgrade(socket.getInputStream());
      socket.setSoTimeout(0);
    } catch (IOException e) {
      closeQuietly(socket);
      throw new java.io.UncheckedIOException(
          "attaching the standard input of " + task + " over " + host + " failed", e);
    } catch (RuntimeException e) {
      closeQuietly(socket);
      throw e;
    }
    SocketStdinFeeder feeder = new SocketStdinFeeder(socket, input, task);
    Thread pump = new Thread(feeder::pump, "orchestra-stdin " + task);
    pump.setDaemon(true);
    pump.start();
    return feeder;
  }

  @Override
  public void abandon() {
    abandoned = true;
    closeQuietly(socket);
    closeInput();
  }

  private void pump() {
    long delivered = 0;
    try {
      OutputStream out = socket.getOutputStream();
      byte[] buffer = new byte[64 * 1024];
      int n;
      while ((n = input.read(buffer)) >= 0) {
        out.write(buffer, 0, n);
        out.flush();
        delivered += n;
      }
      closeInput();
      socket.shutdownOutput();
      LOG.debug("delivered {} bytes of stdin to {}; waiting for the engine", delivered, task);
      // The engine ends the attach once the task's stdin is closed (or the task ended).
      InputStream in = socket.getInputStream();
      while (in.read(buffer) >= 0) {
        // a stdin-only attach carries no output
      }
    } catch (IOException e) {
      if (abandoned) {
        LOG.debug("stdin of {} abandoned after {} bytes", task, delivered);
      } else {
        LOG.debug(
            "{} stopped taking stdin after {} bytes (it ended?): {}",
            task,
            delivered,
            e.toString());
      }
    } finally {
      closeInput();
      closeQuietly(socket);
    }
  }

  private static Socket connect(URI host, SSLConfig ssl) throws IOException {
    int port = host.getPort() > 0 ? host.getPort() : (ssl == null ? 2375 : 2376);
    Socket plain = new Socket();
    try {
      plain.connect(
          new InetSocketAddress(host.getHost(), port),
          (int) DockerConnection.CONNECT_TIMEOUT.toMillis());
      SSLContext context = ssl == null ? null : ssl.getSSLContext();
      if (context == null) {
        return plain;
      }
      SSLSocket tls =
          (SSLSocket) context.getSocketFactory().createSocket(plain, host.getHost(), port, true);
      // Check the engine's certificate names the host, as the HTTP client does.
      SSLParameters parameters = tls.getSSLParameters();
      parameters.setEndpointIdentificationAlgorithm("HTTPS");
      tls.setSSLParameters(parameters);
      tls.startHandshake();
      return tls;
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      closeQuietly(plain);
      if (e instanceof IOException io) {
        throw io;
      }
      throw new IOException("setting up TLS to " + host + " failed: " + e, e);
    }
  }

  /** Reads the answer's head; anything but a protocol switch is the engine's refusal. */
  private static void readUpgrade(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("the engine closed the connection before answering the attach");
      }
      head.write(b);
      matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
      if (head.size() > MAX_HEADER_BYTES) {
        throw new IOException("the engine's answer to the attach has no end of headers");
      }
    }
    String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
    String[] status = lines[0].split(" ", 3);
    int code;
    try {
      code = Integer.parseInt(status.length > 1 ? status[1] : "");
    } catch (NumberFormatException e) {
      throw new IOException("the engine answered the attach with '" + lines[0] + "'", e);
    }
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
    String message = "Status " + code + ": " + new String(body, StandardCharsets.UTF_8).strip();
    throw code == 404 ? new NotFoundException(message) : new DockerException(message, code);
  }

  private void closeInput() {
    try {
      input.close();
    } catch (IOException e) {
      LOG.warn("closing the stdin stream of {} failed: {}", task, e.toString());
    }
  }

  private static void closeQuietly(Socket socket) {
    if (socket == null) {
      return;
    }
    try {
      socket.close();
    } catch (IOException e) {
      LOG.debug("closing an attach socket failed: {}", e.toString());
    }
  }
}
