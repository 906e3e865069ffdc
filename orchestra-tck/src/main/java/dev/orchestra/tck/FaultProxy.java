package dev.orchestra.tck;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP proxy on a loopback port in front of a platform's endpoint, that can make the platform stop
 * answering: for tests of what a driver does when its platform (an engine, an API server, the
 * network between them) hangs instead of failing.
 *
 * <p>In {@link Mode#PASS} it forwards bytes both ways, half-closes included. In the other modes
 * nothing is forwarded on any connection, old or new, while every connection stays open, so that a
 * client sees neither an error nor an answer. Every connection that was open during such a stall,
 * or accepted during one, is closed when the mode returns to {@link Mode#PASS}: nothing held back
 * during a stall ever reaches the platform late, so a test knows exactly what the platform saw.
 *
 * <p>Thread-safe. Each connection costs two daemon threads.
 */
public final class FaultProxy implements AutoCloseable {

  /** What the proxy does with the bytes of its connections. */
  public enum Mode {
    /** Forwards every byte both ways. */
    PASS,
    /**
     * Accepts connections and never answers: the bytes of new connections are read and dropped, so
     * that a client's request seems sent; open connections stop forwarding.
     */
    UNANSWERED,
    /**
     * Stops forwarding in both directions on every connection and reads nothing more, as a frozen
     * network path or process would; new connections are accepted and never read.
     */
    FROZEN
  }

  private static final Logger LOG = LoggerFactory.getLogger(FaultProxy.class);
  private static final int BUFFER = 64 * 1024;

  /** How many bytes of a connection's past are searched with its new bytes for a trigger. */
  private static final int TRIGGER_WINDOW = 512;

  private final InetSocketAddress target;
  private final ServerSocket server;
  private final Object lock = new Object();
  private final List<Link> links = new ArrayList<>();
  private Mode mode = Mode.PASS;
  private Pattern trigger;
  private int accepted;
  private boolean closed;

  private FaultProxy(InetSocketAddress target, ServerSocket server) {
    this.target = target;
    this.server = server;
  }

  /**
   * Starts a proxy in {@link Mode#PASS} on a free loopback port.
   *
   * @param target where to forward connections
   * @return the running proxy; close it
   * @throws IOException if no port can be opened
   */
  public static FaultProxy start(InetSocketAddress target) throws IOException {
    if (target == null) {
      throw new IllegalArgumentException("target must not be null");
    }
    ServerSocket server = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
    FaultProxy proxy = new FaultProxy(target, server);
    Thread acceptor = new Thread(proxy::acceptLoop, "fault-proxy accept " + server.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
    return proxy;
  }

  /**
   * The address to give the driver instead of the platform's.
   *
   * @return the proxy's loopback address and port
   */
  public InetSocketAddress address() {
    return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
  }

  /**
   * The platform's endpoint.
   *
   * @return where the proxy forwards to
   */
  public InetSocketAddress target() {
    return target;
  }

  /**
   * The current mode.
   *
   * @return the mode
   */
  public Mode mode() {
    synchronized (lock) {
      return mode;
    }
  }

  /**
   * Changes the mode for every connection at once. Leaving {@link Mode#PASS} stalls every open
   * connection; returning to it closes every connection that was open during the stall (their
   * held-back bytes are dropped) and forwards new ones again. Also disarms {@link #stallWhenSent}.
   *
   * @param newMode the mode
   */
  public void mode(Mode newMode) {
    if (newMode == null) {
      throw new IllegalArgumentException("mode must not be null");
    }
    List<Link> doomed = new ArrayList<>();
    synchronized (lock) {
      trigger = null;
      switchTo(newMode, doomed);
    }
    doomed.forEach(Link::close);
    LOG.debug("fault proxy {} -> {}: {}", address(), target, newMode);
  }

  /**
   * Arms a trigger: as soon as a client sends bytes that match {@code pattern} (searched in the
   * ISO-8859-1 text of what it sent, for example an HTTP request line such as {@code POST
   * /v1.41/containers/x/start}), the proxy forwards what came before the match and then switches to
   * {@link Mode#UNANSWERED}: the platform accepted that request and never answers it, nor anything
   * else. {@link #mode(Mode)} disarms it.
   *
   * @param pattern what the client's bytes must match
   */
  public void stallWhenSent(Pattern pattern) {
    if (pattern == null) {
      throw new IllegalArgumentException("pattern must not be null");
    }
    synchronized (lock) {
      trigger = pattern;
    }
  }

  /**
   * How many connections the proxy accepted so far.
   *
   * @return the count
   */
  public int connectionsAccepted() {
    synchronized (lock) {
      return accepted;
    }
  }

  /** Stops accepting and closes every connection. Idempotent. */
  @Override
  public void close() {
    List<Link> all;
    synchronized (lock) {
      closed = true;
      all = new ArrayList<>(links);
      links.clear();
      lock.notifyAll();
    }
    closeQuietly(server);
    all.forEach(Link::close);
  }

  @Override
  public String toString() {
    return "FaultProxy[" + address() + " -> " + target + ", " + mode() + "]";
  }

  // ---- guarded by lock

  private void switchTo(Mode newMode, List<Link> doomed) {
    if (newMode == mode) {
      return;
    }
    if (mode == Mode.PASS) {
      links.forEach(l -> l.stalled = true);
    }
    if (newMode == Mode.PASS) {
      for (Link l : List.copyOf(links)) {
        if (l.stalled) {
          l.closed = true;
          links.remove(l);
          doomed.add(l);
        }
      }
    }
    mode = newMode;
    lock.notifyAll();
  }

  // ---- connections

  private void acceptLoop() {
    while (true) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        synchronized (lock) {
          if (closed) {
            return;
          }
        }
        LOG.debug("fault proxy {}: accept failed: {}", address(), e.toString());
        continue;
      }
      try {
        open(client);
      } catch (IOException e) {
        LOG.debug("fault proxy {}: cannot reach {}: {}", address(), target, e.toString());
        closeQuietly(client);
      }
    }
  }

  private void open(Socket client) throws IOException {
    Link link = new Link(client);
    Mode now;
    synchronized (lock) {
      if (closed) {
        closeQuietly(client);
        return;
      }
      accepted++;
      links.add(link);
      now = mode;
      link.stalled = now != Mode.PASS;
    }
    if (now != Mode.PASS) {
      // Never connected upstream: closed when the mode returns to PASS.
      if (now == Mode.UNANSWERED) {
        thread("drain", () -> drain(client.getInputStream()));
      }
      return;
    }
    Socket upstream = new Socket();
    upstream.connect(target, 10_000);
    boolean gone;
    synchronized (lock) {
      link.upstream = upstream;
      gone = link.closed || closed;
    }
    if (gone) {
      link.close();
      return;
    }
    thread("up", () -> pump(link, client.getInputStream(), upstream, true));
    thread("down", () -> pump(link, upstream.getInputStream(), client, false));
  }

  /** Reads and drops a client's bytes: its request seems sent, and is never answered. */
  private static void drain(InputStream in) throws IOException {
    byte[] buffer = new byte[BUFFER];
    while (in.read(buffer) >= 0) {
      // dropped
    }
  }

  private void pump(Link link, InputStream in, Socket out, boolean fromClient) throws IOException {
    byte[] buffer = new byte[BUFFER];
    String window = "";
    OutputStream sink = out.getOutputStream();
    while (true) {
      if (!awaitForwarding(link)) {
        return;
      }
      int n = in.read(buffer);
      if (n < 0) {
        if (awaitForwarding(link)) {
          out.shutdownOutput();
        }
        return;
      }
      int forward = n;
      if (fromClient) {
        String chunk = new String(buffer, 0, n, StandardCharsets.ISO_8859_1);
        int hit = triggerAt(window, chunk);
        if (hit >= 0) {
          forward = hit;
          if (forward > 0) {
            sink.write(buffer, 0, forward);
            sink.flush();
          }
          LOG.debug("fault proxy {}: trigger sent; no more answers", address());
          continue;
        }
        String all = window + chunk;
        window = all.substring(Math.max(0, all.length() - TRIGGER_WINDOW));
      }
      if (!awaitForwarding(link)) {
        return;
      }
      sink.write(buffer, 0, forward);
      sink.flush();
    }
  }

  /**
   * Where in {@code chunk} a match of the armed trigger starts (0 when it started in the window),
   * stalling everything; -1 if there is none.
   */
  private int triggerAt(String window, String chunk) {
    List<Link> doomed = new ArrayList<>();
    synchronized (lock) {
      if (trigger == null || mode != Mode.PASS) {
        return -1;
      }
      Matcher m = trigger.matcher(window + chunk);
      boolean found = false;
      while (!found && m.find()) {
        // A match within the window alone was sent before the trigger was armed.
        found = m.end() > window.length();
      }
      if (!found) {
        return -1;
      }
      trigger = null;
      switchTo(Mode.UNANSWERED, doomed);
      return Math.max(0, m.start() - window.length());
    }
  }

  /** Waits while the link is stalled; {@code false} once it is closed. */
  private boolean awaitForwarding(Link link) {
    synchronized (lock) {
      while (!link.closed && !closed && (link.stalled || mode != Mode.PASS)) {
        try {
          lock.wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
      return !link.closed && !closed;
    }
  }

  private interface Io {
    void run() throws IOException;
  }

  private void thread(String what, Io body) {
    Thread t =
        new Thread(
            () -> {
              try {
                body.run();
              } catch (IOException e) {
                LOG.trace("fault proxy {}: {} ended: {}", address(), what, e.toString());
              }
            },
            "fault-proxy " + what + " " + server.getLocalPort());
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(Closeable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (IOException e) {
      LOG.trace("closing failed: {}", e.toString());
    }
  }

  /** One client connection and, when it was accepted while passing, its upstream connection. */
  private static final class Link {
    final Socket client;
    volatile Socket upstream;

    /** Whether it was open during a stall: closed when the proxy passes again. Under lock. */
    boolean stalled;

    /** Under lock. */
    boolean closed;

    Link(Socket client) {
      this.client = client;
    }

    void close() {
      closeQuietly(client);
      closeQuietly(upstream);
    }
  }
}
