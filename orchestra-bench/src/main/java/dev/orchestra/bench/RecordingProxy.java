package dev.orchestra.bench;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the engine's Unix socket on a loopback TCP port (give the driver {@code host=tcp://...})
 * and records every HTTP request that passes: method, path, when it was sent, when the engine's
 * answer began and when it ended. Counting these proves which calls make no engine request, and
 * lists where one task's time goes.
 */
final class RecordingProxy implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(RecordingProxy.class);

  /** One request and its answer; times in {@link System#nanoTime()}, 0 while unknown. */
  static final class Exchange {
    final String method;
    final String path;
    final long sent;
    volatile long answered;
    volatile long ended;
    volatile int status;

    Exchange(String method, String path, long sent) {
      this.method = method;
      this.path = path;
      this.sent = sent;
    }

    /** The path without the API version prefix and with long ids shortened, for reading. */
    String shortPath() {
      return path.replaceFirst("^/v[0-9.]+", "").replaceAll("[0-9a-f]{64}", "{id}");
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT, "%s %s -> %d", method, shortPath(), status);
    }
  }

  private final ServerSocket server;
  private final Path target;
  private final List<Closeable> open = new CopyOnWriteArrayList<>();
  private final List<Exchange> exchanges = new CopyOnWriteArrayList<>();

  RecordingProxy(Path target) throws IOException {
    this.target = target;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    daemon(this::accept, "recording-proxy");
  }

  /** The address to give the driver: {@code tcp://127.0.0.1:port}. */
  String host() {
    return "tcp://127.0.0.1:" + server.getLocalPort();
  }

  /** How many requests passed so far. */
  int requests() {
    return exchanges.size();
  }

  /** The requests sent at or after {@code sinceNanos}, in the order they were sent. */
  List<Exchange> since(long sinceNanos) {
    List<Exchange> list = new ArrayList<>();
    for (Exchange e : exchanges) {
      if (e.sent >= sinceNanos) {
        list.add(e);
      }
    }
    list.sort((a, b) -> Long.compare(a.sent, b.sent));
    return list;
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        client.setTcpNoDelay(true);
        SocketChannel engine = UnixSockets.connect(target);
        open.add(client);
        open.add(engine);
        ConcurrentLinkedQueue<Exchange> pending = new ConcurrentLinkedQueue<>();
        InputStream fromClient = new BufferedInputStream(client.getInputStream(), 64 * 1024);
        OutputStream toEngine = UnixSockets.output(engine);
        InputStream fromEngine = new BufferedInputStream(UnixSockets.input(engine), 64 * 1024);
        OutputStream toClient = client.getOutputStream();
        daemon(
            () -> {
              requests(fromClient, toEngine, pending);
              engine.shutdownOutput();
            },
            "recording-proxy requests");
        daemon(
            () -> {
              answers(fromEngine, toClient, pending);
              client.shutdownOutput();
            },
            "recording-proxy answers");
      } catch (IOException e) {
        if (!server.isClosed()) {
          LOG.warn("proxy connection failed: {}", e.toString());
        }
      }
    }
  }

  private void requests(InputStream in, OutputStream out, ConcurrentLinkedQueue<Exchange> pending)
      throws IOException {
    while (true) {
      Http.Head head = Http.readHead(in);
      if (head == null) {
        return;
      }
      String[] parts = head.firstLine().split(" ", 3);
      Exchange e = new Exchange(parts[0], parts.length > 1 ? parts[1] : "", System.nanoTime());
      pending.add(e);
      exchanges.add(e);
      out.write(head.raw());
      Http.copyBody(head, in, out);
      if (head.header("upgrade") != null) {
        Http.copyAll(in, out);
        return;
      }
    }
  }

  private static void answers(
      InputStream in, OutputStream out, ConcurrentLinkedQueue<Exchange> pending)
      throws IOException {
    while (true) {
      Http.Head head = Http.readHead(in);
      if (head == null) {
        return;
      }
      Exchange e = pending.poll();
      long now = System.nanoTime();
      int status = head.status();
      if (e != null) {
        e.answered = now;
        e.status = status;
      }
      out.write(head.raw());
      boolean bodiless = status == 204 || status == 304 || (e != null && "HEAD".equals(e.method));
      if (status == 101 || (!bodiless && !head.chunked() && head.contentLength() < 0)) {
        // Upgraded, or a body that lasts until the connection closes.
        out.flush();
        Http.copyAll(in, out);
        if (e != null) {
          e.ended = System.nanoTime();
        }
        return;
      }
      if (!bodiless) {
        Http.copyBody(head, in, out);
      }
      out.flush();
      if (e != null) {
        e.ended = System.nanoTime();
      }
    }
  }

  private interface Pump {
    void run() throws IOException;
  }

  private static void daemon(Pump pump, String name) {
    Thread t =
        new Thread(
            () -> {
              try {
                pump.run();
              } catch (IOException e) {
                LOG.debug("proxy pump ended: {}", e.toString());
              }
            },
            name);
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
