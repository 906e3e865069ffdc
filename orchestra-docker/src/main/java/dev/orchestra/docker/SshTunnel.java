package dev.orchestra.docker;

import com.jcraft.jsch.Channel;
import com.jcraft.jsch.ChannelDirectStreamLocal;
import com.jcraft.jsch.ChannelExec;
import com.jcraft.jsch.HostKey;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.Session;
import dev.orchestra.OrchestraException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SSH transport: one SSH session to the remote machine, and a private local Unix socket (in a
 * directory only this user can enter) whose every connection becomes a channel to the remote
 * engine's socket. The driver's Unix-socket transport then talks to that local socket as it talks
 * to a local engine, half-closing stdin included.
 *
 * <p>A channel is a {@code direct-streamlocal} forward to the engine's socket (OpenSSH's {@code ssh
 * -L local.sock:/var/run/docker.sock}); where the server refuses socket forwarding ({@code
 * AllowStreamLocalForwarding no}) it is {@code docker system dial-stdio} run on the remote machine,
 * as the Docker CLI does for {@code ssh://}.
 *
 * <p>Host keys are checked against {@code known_hosts}: an unknown or changed key is refused unless
 * checking was turned off. Connecting, the handshake and the login are bounded by the connect
 * timeout, opening a channel by the request timeout; the session sends keep-alives, so that a link
 * that died silently ends every channel. A session that dropped is opened again at the next call
 * ({@link #ensureConnected()}, and at the next local connection).
 *
 * <p>Limit: JSch reads the session on one thread, so a channel whose local reader stops reading
 * slows every other channel of the session once its window is full.
 */
final class SshTunnel implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(SshTunnel.class);

  private static final int BUFFER = 64 * 1024;
  private static final AtomicInteger THREADS = new AtomicInteger();

  private final SshTarget target;
  private final Duration connectTimeout;
  private final Duration channelTimeout;
  private final JSch jsch;
  private final Path directory;
  private final Path socket;
  private final ServerSocketChannel server;
  private final ExecutorService threads;

  /** Guarded by {@code this}. */
  private Session session;

  /**
   * Whether channels run {@code docker system dial-stdio}: set when the first {@code
   * direct-streamlocal} channel is refused. OpenSSH answers a refused forward and an engine socket
   * that cannot be reached alike ("open failed"), so only a refusal before any forward worked
   * switches; a later refusal is the engine's.
   */
  private volatile boolean dialStdio;

  private volatile boolean forwardWorked;

  /** Why the last local connection got no channel; reported once, by {@link #check()}. */
  private volatile IOException channelFailure;

  private volatile boolean closed;

  private SshTunnel(
      SshTarget target,
      Duration connectTimeout,
      Duration channelTimeout,
      JSch jsch,
      Path directory,
      ServerSocketChannel server) {
    this.target = target;
    this.connectTimeout = connectTimeout;
    this.channelTimeout = channelTimeout;
    this.jsch = jsch;
    this.directory = directory;
    this.socket = directory.resolve("engine.sock");
    this.server = server;
    this.threads =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "orchestra-docker ssh " + THREADS.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Logs in to the remote machine and starts serving the local socket.
   *
   * @param connectTimeout the bound of connecting, the key exchange and the login
   * @param channelTimeout the bound of opening one channel
   * @throws OrchestraException if the machine cannot be reached, its host key is unknown or
   *     changed, or the login fails: the message names the machine and, for a host key, its
   *     fingerprint
   */
  static SshTunnel open(SshTarget target, Duration connectTimeout, Duration channelTimeout) {
    JSch jsch = new JSch();
    Path directory = null;
    ServerSocketChannel server = null;
    try {
      if (Files.isRegularFile(target.knownHosts)) {
        // Read from a stream: JSch then never writes to the user's file (it would add the key
        // of an unknown host when checking is off).
        try (InputStream knownHosts = Files.newInputStream(target.knownHosts)) {
          jsch.setKnownHosts(knownHosts);
        }
      }
      for (Path identity : target.identities) {
        jsch.addIdentity(identity.toString(), target.passphrase());
      }
      directory =
          Files.createTempDirectory(
              "orchestra-ssh-",
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
      server.bind(UnixDomainSocketAddress.of(directory.resolve("engine.sock")));
    } catch (JSchException | IOException e) {
      closeQuietly(server);
      deleteQuietly(directory);
      throw new OrchestraException(
          "cannot prepare the SSH connection to " + target + ": " + reason(e), e);
    }
    SshTunnel tunnel =
        new SshTunnel(target, connectTimeout, channelTimeout, jsch, directory, server);
    try {
      tunnel.ensureConnected();
    } catch (IOException e) {
      tunnel.close();
      throw new OrchestraException(e.getMessage(), e);
    }
    tunnel.threads.execute(tunnel::accept);
    return tunnel;
  }

  /** The local socket's address, {@code unix:///.../engine.sock}, for the driver's transport. */
  URI localHost() {
    return URI.create("unix://" + socket);
  }

  /** The remote engine's address, for messages. */
  SshTarget target() {
    return target;
  }

  /**
   * Opens the session again if it dropped; returns at once while it is up.
   *
   * @throws IOException saying why the machine cannot be reached or refused the login
   */
  /** The tunnel as the transport's {@link ReconnectingHttpClient.Link}. */
  ReconnectingHttpClient.Link link() {
    return new ReconnectingHttpClient.Link() {
      @Override
      public void ready() throws IOException {
        ensureConnected();
      }

      @Override
      public void check() throws IOException {
        SshTunnel.this.check();
      }
    };
  }

  /**
   * Reports, once, why the last local connection got no channel: called when a connection ended
   * before the engine answered, so that the caller fails at once with the reason instead of trying
   * the next connection.
   *
   * @throws IOException why the last channel could not be opened, if it could not
   */
  void check() throws IOException {
    IOException failure = channelFailure;
    if (failure != null) {
      channelFailure = null;
      throw failure;
    }
  }

  synchronized void ensureConnected() throws IOException {
    if (closed) {
      throw new IOException("the SSH connection to " + target + " is closed");
    }
    if (session != null && session.isConnected()) {
      return;
    }
    if (session != null) {
      LOG.warn("the SSH connection to {} dropped; connecting again", target);
    }
    long start = System.nanoTime();
    Session s = null;
    try {
      s = jsch.getSession(target.user, target.hostName, target.port);
      s.setConfig("StrictHostKeyChecking", target.strictHostKeyChecking ? "yes" : "no");
      s.setConfig("PreferredAuthentications", "publickey");
      int interval = (int) Math.min(Duration.ofSeconds(10).toMillis(), connectTimeout.toMillis());
      s.setServerAliveInterval(interval);
      s.setServerAliveCountMax(3);
      s.connect((int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()));
    } catch (JSchException e) {
      String hostKey = s == null ? null : hostKey(s);
      if (s != null) {
        s.disconnect();
      }
      // No cause: the engine's errors show the root cause, and this message is the clear one.
      IOException failure = new IOException(loginFailure(e, hostKey));
      failure.addSuppressed(e);
      throw failure;
    }
    session = s;
    LOG.info(
        "connected over SSH to {} in {} ms",
        target,
        Duration.ofNanos(System.nanoTime() - start).toMillis());
  }

  private String hostKey(Session s) {
    HostKey key = s.getHostKey();
    return key == null ? null : key.getType() + " " + key.getFingerPrint(jsch);
  }

  private String loginFailure(JSchException e, String hostKey) {
    String message = e.getMessage() == null ? "" : e.getMessage();
    String where = "the SSH server " + target.knownHostsName() + " (for " + target + ")";
    if (message.startsWith("UnknownHostKey") || message.startsWith("reject HostKey")) {
      return "refusing "
          + where
          + ": its host key "
          + (hostKey == null ? "" : hostKey + " ")
          + "is not in "
          + target.knownHosts
          + ". Check the fingerprint, then add the key (ssh-keyscan -p "
          + target.port
          + " "
          + target.hostName
          + " >> "
          + target.knownHosts
          + "), or set strictHostKeyChecking=no (insecure: anyone on the path can pose as the"
          + " server)";
    }
    if (message.startsWith("HostKey has been changed")) {
      return "refusing "
          + where
          + ": its host key changed, it is now "
          + (hostKey == null ? "unknown" : hostKey)
          + ", not the one in "
          + target.knownHosts
          + " (someone may pose as the server). If the change is expected, remove the old key"
          + " (ssh-keygen -R '"
          + target.knownHostsName()
          + "' -f "
          + target.knownHosts
          + ")";
    }
    if (message.startsWith("Auth fail") || message.startsWith("Auth cancel")) {
      return "the SSH login of user '"
          + target.user
          + "' at "
          + where
          + " failed with "
          + (target.identities.isEmpty()
              ? "no key (set 'identityFile', or IdentityFile in ~/.ssh/config)"
              : "the keys " + target.identities)
          + ": "
          + message;
    }
    return "cannot connect over SSH to " + where + ": " + reason(e);
  }

  private static String reason(Exception e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = e.getMessage();
    return root == e ? String.valueOf(message) : message + " (" + root + ")";
  }

  private void accept() {
    while (!closed) {
      SocketChannel local;
      try {
        local = server.accept();
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        if (!closed) {
          LOG.warn("the local socket {} of the SSH connection failed: {}", socket, e.toString());
        }
        return;
      }
      threads.execute(() -> forward(local));
    }
  }

  /**
   * Carries one local connection through a new channel, both ways, until both ends finished. When
   * no channel opens, the local connection is closed at once, so that its request fails at once and
   * does not wait for an answer until its deadline.
   */
  private void forward(SocketChannel local) {
    Link link;
    try {
      ensureConnected();
      link = openChannel(local);
    } catch (IOException | JSchException | RuntimeException e) {
      IOException failure = noChannel(e);
      if (e instanceof RuntimeException) {
        LOG.warn("{}", failure.getMessage(), e);
      } else {
        LOG.debug("no channel to the engine at {}: {}", target, failure.getMessage());
      }
      channelFailure = failure;
      closeQuietly(local);
      return;
    }
    threads.execute(link::toRemote);
    link.fromRemote();
  }

  /** Why a local connection got no channel, as {@link #check()} reports it. */
  private IOException noChannel(Exception e) {
    if (e instanceof JSchException) {
      return new IOException(
          "the SSH server "
              + target.knownHostsName()
              + " opened no channel to the engine's socket "
              + target.engineSocket
              + " (is the engine running there, and may user '"
              + target.user
              + "' use its socket?): "
              + e.getMessage());
    }
    if (e instanceof IOException) {
      return new IOException(e.getMessage());
    }
    return new IOException("no channel to the engine at " + target + ": " + e, e);
  }

  /** One local connection and its channel; each direction ends on its own, both end the link. */
  private final class Link {

    private final SocketChannel local;
    private final Channel channel;
    private final InputStream fromRemote;
    private final OutputStream toRemote;
    private final AtomicInteger open = new AtomicInteger(2);

    Link(SocketChannel local, Channel channel, InputStream fromRemote, OutputStream toRemote) {
      this.local = local;
      this.channel = channel;
      this.fromRemote = fromRemote;
      this.toRemote = toRemote;
    }

    void fromRemote() {
      try {
        byte[] buffer = new byte[BUFFER];
        for (int n; (n = fromRemote.read(buffer)) >= 0; ) {
          ByteBuffer bytes = ByteBuffer.wrap(buffer, 0, n);
          while (bytes.hasRemaining()) {
            local.write(bytes);
          }
        }
        local.shutdownOutput();
        finished();
      } catch (IOException e) {
        failed(e);
      }
    }

    void toRemote() {
      try {
        ByteBuffer bytes = ByteBuffer.allocate(BUFFER);
        while (local.read(bytes) >= 0) {
          toRemote.write(bytes.array(), 0, bytes.position());
          toRemote.flush();
          bytes.clear();
        }
        // The local side half-closed (stdin's end of file): so does the channel.
        toRemote.close();
        finished();
      } catch (IOException e) {
        failed(e);
      }
    }

    private void finished() {
      if (open.decrementAndGet() == 0) {
        end();
      }
    }

    private void failed(IOException e) {
      LOG.debug("a channel to the engine at {} ended: {}", target, e.toString());
      open.set(0);
      end();
    }

    private void end() {
      channel.disconnect();
      closeQuietly(local);
    }
  }

  private Link openChannel(SocketChannel local) throws JSchException, IOException {
    Session s;
    synchronized (this) {
      s = session;
    }
    int timeout = (int) Math.min(Integer.MAX_VALUE, channelTimeout.toMillis());
    long start = System.nanoTime();
    if (!dialStdio) {
      ChannelDirectStreamLocal channel =
          (ChannelDirectStreamLocal) newChannel(s, "direct-streamlocal@openssh.com");
      channel.setSocketPath(target.engineSocket);
      // The streams must exist before connect: JSch delivers into them from the start.
      InputStream in = channel.getInputStream();
      OutputStream out = channel.getOutputStream();
      try {
        channel.connect(timeout);
        forwardWorked = true;
        opened(start);
        return new Link(local, channel, in, out);
      } catch (JSchException e) {
        if (!s.isConnected() || forwardWorked) {
          throw e;
        }
        LOG.warn(
            "the SSH server of {} refuses to forward Unix sockets; running 'docker system"
                + " dial-stdio' there instead",
            target);
        dialStdio = true;
      }
    }
    ChannelExec exec = (ChannelExec) newChannel(s, "exec");
    exec.setCommand(dialStdioCommand());
    exec.setErrStream(new BoundedLog(), true);
    InputStream in = exec.getInputStream();
    OutputStream out = exec.getOutputStream();
    exec.connect(timeout);
    opened(start);
    return new Link(local, exec, in, out);
  }

  /**
   * A new channel of the session. JSch answers {@code null} instead of failing when the session
   * went down after its check that it is up (the server was killed, say): that is a failure here.
   */
  private static Channel newChannel(Session s, String type) throws JSchException {
    Channel channel = s.openChannel(type);
    if (channel == null) {
      throw new JSchException("the SSH session went down while opening a '" + type + "' channel");
    }
    return channel;
  }

  private void opened(long start) {
    LOG.debug(
        "channel to {} open in {} ms{}",
        target,
        Duration.ofNanos(System.nanoTime() - start).toMillis(),
        dialStdio ? " (dial-stdio)" : "");
  }

  private String dialStdioCommand() {
    if (target.engineSocket.equals(SshTarget.DEFAULT_ENGINE_SOCKET)) {
      return "docker system dial-stdio";
    }
    return "docker -H 'unix://" + target.engineSocket.replace("'", "'\\''") + "' system dial-stdio";
  }

  /** What {@code dial-stdio} says on stderr (it is silent unless it fails), logged line by line. */
  private final class BoundedLog extends OutputStream {

    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    @Override
    public synchronized void write(int b) {
      if (b == '\n') {
        LOG.warn(
            "docker system dial-stdio at {}: {}", target, line.toString(StandardCharsets.UTF_8));
        line.reset();
      } else if (line.size() < 4096) {
        line.write(b);
      }
    }
  }

  @Override
  public void close() {
    Session s;
    synchronized (this) {
      closed = true;
      s = session;
    }
    closeQuietly(server);
    if (s != null) {
      s.disconnect();
    }
    threads.shutdownNow();
    deleteQuietly(directory);
  }

  private static void closeQuietly(java.io.Closeable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (IOException e) {
      LOG.debug("closing {} failed: {}", c, e.toString());
    }
  }

  private static void deleteQuietly(Path directory) {
    if (directory == null) {
      return;
    }
    List<Path> paths = new ArrayList<>(List.of(directory.resolve("engine.sock"), directory));
    for (Path p : paths) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException e) {
        LOG.warn("cannot delete {} of the SSH connection: {}", p, e.toString());
      }
    }
  }
}
