package dev.orchestra.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.DockerClientException;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import com.github.dockerjava.transport.DockerHttpClient;
import com.github.dockerjava.transport.SSLConfig;
import dev.orchestra.OrchestraException;
import dev.orchestra.spi.Exceptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The driver's two clients of one Docker engine: {@link #api()} for calls that answer at once, each
 * bounded by the request timeout (until the answer begins, and each read of it) so that a stalled
 * engine cannot block a caller longer, and {@link #streams()} for attach, follow, events and pull,
 * which stay idle as long as a task is quiet and must never be cut by a timeout while the engine
 * answers: only the wait for their answer to begin is bounded (see {@link RequestDeadlines}); a
 * stream that then goes quiet is watched by {@link StreamWatch}.
 *
 * <p>The address comes from docker-java's default configuration ({@code DOCKER_HOST}, TLS through
 * {@code DOCKER_TLS_VERIFY} and {@code DOCKER_CERT_PATH}), unless the {@code host} parameter gives
 * one. No API version is pinned: the engine's own is used.
 *
 * <p>An {@code ssh://} address is reached through an {@link SshTunnel}: the clients then talk to
 * its private local socket as to a {@code unix://} engine, and every message names the {@code
 * ssh://} address.
 */
final class DockerConnection implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(DockerConnection.class);

  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

  /**
   * The default bound of one request, see {@link DockerDriverProvider#REQUEST_TIMEOUT}: several
   * times the slowest request of a busy engine (a start, while many containers start and stop at
   * once on a small loaded machine), so that a busy engine is not taken for a stalled one.
   */
  static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(60);

  private static final int MAX_CONNECTIONS = 128;

  /** The engine's address for messages: the {@code ssh://} one when tunnelled. */
  private final URI host;

  /** Where the clients connect: {@link #host}, or the tunnel's local socket. */
  private final URI endpoint;

  private final SshTunnel tunnel;
  private final SSLConfig ssl;
  private final String source;
  private final RequestDeadlines deadlines;
  private final DefaultDockerClientConfig config;
  private final DockerClient api;

  /** The engine that answers: set once it is known, read by both clients' transports. */
  private final AtomicReference<EngineFlavour> flavour;

  /** Replaced by {@link #replaceStreams()}; guarded by {@code this}. */
  private DockerClient streams;

  private boolean closed;

  /** The connections {@link #socket()} gave out, open still: {@link #close()} drops them. */
  private final Set<EngineSocket> sockets = ConcurrentHashMap.newKeySet();

  private DockerConnection(
      DefaultDockerClientConfig config,
      URI host,
      SshTunnel tunnel,
      String source,
      RequestDeadlines deadlines,
      DockerClient api,
      DockerClient streams,
      AtomicReference<EngineFlavour> flavour) {
    this.config = config;
    this.flavour = flavour;
    this.host = host;
    this.endpoint = config.getDockerHost();
    this.tunnel = tunnel;
    this.ssl = config.getSSLConfig();
    this.source = source;
    this.deadlines = deadlines;
    this.api = api;
    this.streams = streams;
  }

  /**
   * Connects to the engine with the default request timeout, and checks that it answers.
   *
   * @see #open(Optional, Duration)
   */
  static DockerConnection open(Optional<String> hostParam) {
    return open(hostParam, DEFAULT_REQUEST_TIMEOUT);
  }

  /**
   * Connects to the engine with no SSH parameters, detects which engine it is, and checks that it
   * answers.
   *
   * @see #open(Optional, Duration, SshTarget.Params, Optional)
   */
  static DockerConnection open(Optional<String> hostParam, Duration requestTimeout) {
    return open(hostParam, requestTimeout, SshTarget.Params.NONE, Optional.empty());
  }

  /**
   * Connects to the engine and checks that it answers.
   *
   * @param hostParam the {@code host} parameter, if given: {@code unix:///path}, {@code
   *     tcp://host:port} or {@code ssh://user@host:port[/engine.sock]}
   * @param requestTimeout the bound of each request that is not a stream, and of opening an SSH
   *     channel
   * @param sshParams the parameters of an {@code ssh://} address; ignored (with a warning) for
   *     another
   * @param engine the engine the caller named ({@code engine} parameter), or empty to detect it
   *     from the engine's {@code GET /_ping}
   * @return the connection
   * @throws IllegalArgumentException if the host is not a Docker address
   * @throws OrchestraException if the engine does not answer, or the SSH server cannot be reached
   *     or refuses (its host key, the login); the message says where it looked
   */
  static DockerConnection open(
      Optional<String> hostParam,
      Duration requestTimeout,
      SshTarget.Params sshParams,
      Optional<EngineFlavour> engine) {
    Optional<String> address =
        hostParam.or(() -> Optional.ofNullable(System.getenv("DOCKER_HOST")));
    SshTunnel tunnel = null;
    if (address.isPresent() && SshTarget.isSsh(address.get())) {
      tunnel =
          SshTunnel.open(
              SshTarget.parse(address.get(), sshParams), CONNECT_TIMEOUT, requestTimeout);
    } else if (!sshParams.equals(SshTarget.Params.NONE)) {
      // They may come from the environment, set for other drivers of this process.
      LOG.warn(
          "ignoring the SSH parameters of driver 'docker' ({}): the engine's address is not ssh://",
          sshParams);
    }
    try {
      return open(hostParam, requestTimeout, tunnel, engine);
    } catch (RuntimeException e) {
      if (tunnel != null) {
        tunnel.close();
      }
      throw e;
    }
  }

  private static DockerConnection open(
      Optional<String> hostParam,
      Duration requestTimeout,
      SshTunnel tunnel,
      Optional<EngineFlavour> engine) {
    DefaultDockerClientConfig config =
        config(tunnel == null ? hostParam : Optional.of(tunnel.localHost().toString()));
    URI host = tunnel == null ? config.getDockerHost() : URI.create(tunnel.target().toString());
    String source =
        hostParam.isPresent()
            ? "the 'host' parameter"
            : System.getenv("DOCKER_HOST") != null
                ? "DOCKER_HOST"
                : "the default, as DOCKER_HOST is not set";
    RequestDeadlines deadlines = new RequestDeadlines(host, requestTimeout);
    DockerClient api;
    DockerClient streams;
    AtomicReference<EngineFlavour> flavour =
        new AtomicReference<>(engine.orElse(EngineFlavour.DOCKER));
    try {
      api = client(config, host, tunnel, deadlines, true, flavour);
      streams = client(config, host, tunnel, deadlines, false, flavour);
    } catch (IllegalArgumentException e) {
      deadlines.close();
      throw invalidHost(hostParam, e);
    }
    DockerConnection connection =
        new DockerConnection(config, host, tunnel, source, deadlines, api, streams, flavour);
    try {
      LOG.debug("pinging the Docker engine at {} ({})", host, source);
      EngineFlavour answered = connection.ping();
      if (engine.isEmpty()) {
        flavour.set(answered);
      }
    } catch (RuntimeException e) {
      connection.close();
      Throwable interruption = EngineErrors.interruption(e);
      if (interruption != null) {
        throw Exceptions.launder("connecting to the Docker engine at " + host, interruption);
      }
      throw new OrchestraException(
          "cannot reach the Docker engine at "
              + host
              + " (from "
              + source
              + "): "
              + EngineErrors.rootCause(e)
              + "; start the engine, or point DOCKER_HOST or the 'host' parameter at one",
          e);
    }
    LOG.debug(
        "the engine at {} answers; it is {} ({})",
        host,
        flavour.get().parameterValue(),
        engine.isPresent() ? "as the 'engine' parameter says" : "detected");
    return connection;
  }

  private static DefaultDockerClientConfig config(Optional<String> hostParam) {
    DefaultDockerClientConfig.Builder builder =
        DefaultDockerClientConfig.createDefaultConfigBuilder();
    hostParam.ifPresent(
        h -> {
          if (h.isBlank()) {
            throw new IllegalArgumentException(
                "parameter 'host' of driver 'docker' must not be blank");
          }
          builder.withDockerHost(h.strip());
        });
    try {
      return builder.build();
    } catch (DockerClientException | IllegalArgumentException e) {
      throw invalidHost(hostParam, e);
    }
  }

  private static IllegalArgumentException invalidHost(
      Optional<String> hostParam, RuntimeException e) {
    return new IllegalArgumentException(
        "the Docker engine address "
            + hostParam.map(h -> "'" + h + "' (parameter 'host')").orElse("from DOCKER_HOST")
            + " is not valid: "
            + e.getMessage()
            + " (expected unix:///path/to/docker.sock, tcp://host:port or"
            + " ssh://user@host[:port])",
        e);
  }

  /**
   * A client. For quick calls a {@code tcp://} socket's own read timeout is the request timeout; a
   * {@code unix://} socket ignores it, and {@link RequestDeadlines} enforces the bound there. A
   * stream's socket has no read timeout: the transport would end a quiet stream as if the engine
   * had (it discards a connection after any failed read), so only {@link RequestDeadlines} bounds
   * the wait for its answer to begin, which on {@code tcp://} frees the caller, not the socket (see
   * {@link StreamWatch}).
   */
  private static DockerClient client(
      DefaultDockerClientConfig config,
      URI host,
      SshTunnel tunnel,
      RequestDeadlines deadlines,
      boolean quickCalls,
      AtomicReference<EngineFlavour> flavour) {
    ApacheDockerHttpClient.Builder http =
        new ApacheDockerHttpClient.Builder()
            .dockerHost(config.getDockerHost())
            .sslConfig(config.getSSLConfig())
            .maxConnections(MAX_CONNECTIONS)
            .connectionTimeout(CONNECT_TIMEOUT);
    if (quickCalls) {
      http.responseTimeout(deadlines.timeout());
    }
    return DockerClientImpl.getInstance(
        config,
        new ReconnectingHttpClient(
            http.build(),
            host,
            tunnel == null ? () -> {} : tunnel.link(),
            MAX_CONNECTIONS,
            deadlines,
            quickCalls,
            flavour));
  }

  /** The client for calls that answer at once; each is bounded by the request timeout. */
  DockerClient api() {
    return api;
  }

  /**
   * The client for streaming calls: attach, follow, events, pull. Only the wait for the answer to
   * begin is bounded.
   */
  synchronized DockerClient streams() {
    return streams;
  }

  /**
   * The transport under {@link #api()}, for the quick reads that parse the engine's frames
   * themselves ({@link TimestampedLogRead}): bounded as every quick call is.
   */
  DockerHttpClient apiTransport() {
    return ((DockerClientImpl) api).getHttpClient();
  }

  /**
   * Asks whether the engine answers at all ({@code GET /_ping}), bounded by the request timeout.
   *
   * @return the engine that answered, read from the answer's headers ({@link EngineFlavour#ofPing})
   * @throws RuntimeException as any call of {@link #api()} does when the engine cannot be reached
   *     or refuses
   */
  EngineFlavour ping() {
    DockerHttpClient.Request request =
        DockerHttpClient.Request.builder()
            .method(DockerHttpClient.Request.Method.GET)
            .path("/_ping")
            .build();
    try (DockerHttpClient.Response answer = apiTransport().execute(request)) {
      if (answer.getStatusCode() != 200) {
        throw EngineErrors.refusal(
            answer.getStatusCode(),
            new String(answer.getBody().readNBytes(4096), StandardCharsets.UTF_8));
      }
      return EngineFlavour.ofPing(answer.getHeaders());
    } catch (IOException e) {
      throw new ReconnectingHttpClient.EngineUnreachableException(host, e);
    }
  }

  /**
   * Replaces the streams client with a new one and closes the old one, which closes every
   * connection it holds: the only way to free a thread that waits on a {@code tcp://} socket for an
   * answer that never begins. Every stream of the old client ends (a caller that follows one gets a
   * cut connection); so called only once the engine stopped answering pings.
   */
  void replaceStreams() {
    DockerClient old;
    synchronized (this) {
      if (closed) {
        return;
      }
      old = streams;
      streams = client(config, host, tunnel, deadlines, false, flavour);
    }
    LOG.warn("closing every stream to the Docker engine at {}: it stopped answering", host);
    closeClient(old);
  }

  /** The engine that answers, detected or named by the {@code engine} parameter. */
  EngineFlavour flavour() {
    return flavour.get();
  }

  /** The bound of each request that is not a stream. */
  Duration requestTimeout() {
    return deadlines.timeout();
  }

  /**
   * Attaches to a created container's standard input and delivers {@code input} in the background,
   * then end of file (the container must have {@code StdinOnce}). Returns once the engine accepted
   * the attach.
   *
   * @throws RuntimeException as docker-java throws, if the engine refuses or cannot be reached
   */
  StdinDelivery attachStdin(String containerId, InputStream input, String task) {
    if ("tcp".equals(endpoint.getScheme()) || !flavour().closedAttachKeepsInput()) {
      return SocketStdinFeeder.attach(this, containerId, input, task);
    }
    return StdinFeeder.attach(streams(), containerId, input, task);
  }

  /**
   * Opens a raw connection to the engine, for the calls that need a half-close ({@link
   * EngineSocket}). Its connect and the wait for each answer's head are bounded by the request
   * timeout.
   *
   * @throws IOException if the engine cannot be reached
   * @throws dev.orchestra.OrchestraException if the engine's address is neither {@code unix://} nor
   *     {@code tcp://}
   */
  EngineSocket socket() throws IOException {
    if (tunnel != null) {
      tunnel.ensureConnected();
    }
    try {
      EngineSocket socket;
      try {
        socket = EngineSocket.connect(endpoint, ssl, deadlines);
      } catch (InterruptedIOException e) { // a timeout names the engine already
        throw e;
      } catch (IOException e) {
        // Named as the driver's other calls name it: the user's address, not a tunnel's.
        throw new IOException(
            "no answer from the Docker engine at " + host + ": " + EngineErrors.rootCause(e), e);
      }
      sockets.add(socket);
      socket.whenClosed(() -> sockets.remove(socket));
      boolean closing;
      synchronized (this) {
        closing = closed;
      }
      if (closing) {
        socket.close(); // close() ran meanwhile: no read may outlive the driver
      }
      return socket;
    } catch (UnsupportedOperationException e) {
      throw new OrchestraException(
          "the docker driver runs sandbox steps over unix:// and tcp:// engines only, not "
              + describe(),
          e);
    }
  }

  /**
   * Whether {@link #socket()} reaches the engine: over {@code unix://} and {@code tcp://} (with TLS
   * when configured), which includes an {@code ssh://} engine through its tunnel's local socket.
   */
  boolean hasRawSockets() {
    String scheme = endpoint.getScheme();
    return "unix".equals(scheme) || "tcp".equals(scheme);
  }

  /** Where the clients connect: the engine's address, or the SSH tunnel's local socket. */
  URI endpoint() {
    return endpoint;
  }

  /** Where the engine is, and why there: for messages. */
  String describe() {
    return host + " (from " + source + ")";
  }

  @Override
  public void close() {
    DockerClient toClose;
    synchronized (this) {
      closed = true;
      toClose = streams;
    }
    closeClient(api);
    closeClient(toClose);
    for (EngineSocket socket : List.copyOf(sockets)) {
      socket.close(); // ends a logs() or a step's output read in progress
    }
    deadlines.close();
    if (tunnel != null) {
      tunnel.close();
    }
  }

  private void closeClient(DockerClient client) {
    try {
      client.close();
    } catch (IOException e) {
      LOG.warn("closing the connection to the Docker engine at {} failed: {}", host, e.toString());
    }
  }
}
