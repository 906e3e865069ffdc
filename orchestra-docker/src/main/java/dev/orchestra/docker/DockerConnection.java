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
import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The driver's two clients of one Docker engine: {@link #api()} for calls that answer at once, with
 * a response timeout so that a hung engine cannot block a caller forever, and {@link #streams()}
 * for attach, logs and pull, which stay idle as long as a task is quiet and must never be cut by a
 * timeout.
 *
 * <p>The address comes from docker-java's default configuration ({@code DOCKER_HOST}, TLS through
 * {@code DOCKER_TLS_VERIFY} and {@code DOCKER_CERT_PATH}), unless the {@code host} parameter gives
 * one. No API version is pinned: the engine's own is used.
 */
final class DockerConnection implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(DockerConnection.class);

  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
  static final Duration RESPONSE_TIMEOUT = Duration.ofMinutes(2);
  private static final int MAX_CONNECTIONS = 128;

  private final URI host;
  private final SSLConfig ssl;
  private final String source;
  private final DockerClient api;
  private final DockerClient streams;

  private DockerConnection(
      URI host, SSLConfig ssl, String source, DockerClient api, DockerClient streams) {
    this.host = host;
    this.ssl = ssl;
    this.source = source;
    this.api = api;
    this.streams = streams;
  }

  /**
   * Connects to the engine and checks that it answers.
   *
   * @param hostParam the {@code host} parameter, if given: {@code unix:///path} or {@code
   *     tcp://host:port}
   * @return the connection
   * @throws IllegalArgumentException if the host is not a Docker address
   * @throws OrchestraException if the engine does not answer; the message says where it looked
   */
  static DockerConnection open(Optional<String> hostParam) {
    DefaultDockerClientConfig config = config(hostParam);
    URI host = config.getDockerHost();
    String source =
        hostParam.isPresent()
            ? "the 'host' parameter"
            : System.getenv("DOCKER_HOST") != null
                ? "DOCKER_HOST"
                : "the default, as DOCKER_HOST is not set";
    DockerClient api;
    DockerClient streams;
    try {
      api = client(config, RESPONSE_TIMEOUT);
      streams = client(config, null);
    } catch (IllegalArgumentException e) {
      throw invalidHost(hostParam, e);
    }
    DockerConnection connection =
        new DockerConnection(host, config.getSSLConfig(), source, api, streams);
    try {
      LOG.debug("pinging the Docker engine at {} ({})", host, source);
      api.pingCmd().exec();
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
    LOG.debug("the Docker engine at {} answers", host);
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
            + " (expected unix:///path/to/docker.sock or tcp://host:port)",
        e);
  }

  private static DockerClient client(DefaultDockerClientConfig config, Duration responseTimeout) {
    ApacheDockerHttpClient.Builder http =
        new ApacheDockerHttpClient.Builder()
            .dockerHost(config.getDockerHost())
            .sslConfig(config.getSSLConfig())
            .maxConnections(MAX_CONNECTIONS)
            .connectionTimeout(CONNECT_TIMEOUT);
    if (responseTimeout != null) {
      http.responseTimeout(responseTimeout);
    }
    return DockerClientImpl.getInstance(
        config, new ReconnectingHttpClient(http.build(), config.getDockerHost(), MAX_CONNECTIONS));
  }

  /** The client for calls that answer at once. */
  DockerClient api() {
    return api;
  }

  /** The client for streaming calls: attach, logs, pull. No response timeout. */
  DockerClient streams() {
    return streams;
  }

  /**
   * The transport under {@link #streams()}, for the reads that parse the engine's frames themselves
   * ({@link TimestampedLogRead}).
   */
  DockerHttpClient streamsTransport() {
    return ((DockerClientImpl) streams).getHttpClient();
  }

  /**
   * Attaches to a created container's standard input and delivers {@code input} in the background,
   * then end of file (the container must have {@code StdinOnce}). Returns once the engine accepted
   * the attach.
   *
   * @throws RuntimeException as docker-java throws, if the engine refuses or cannot be reached
   */
  StdinDelivery attachStdin(String containerId, InputStream input, String task) {
    if ("tcp".equals(host.getScheme())) {
      return SocketStdinFeeder.attach(host, ssl, containerId, input, task);
    }
    return StdinFeeder.attach(streams, containerId, input, task);
  }

  /**
   * Opens a raw connection to the engine, for the calls that need a half-close ({@link
   * EngineSocket}).
   *
   * @throws IOException if the engine cannot be reached
   * @throws dev.orchestra.OrchestraException if the engine's address is neither {@code unix://} nor
   *     {@code tcp://}
   */
  EngineSocket socket() throws IOException {
    try {
      return EngineSocket.connect(host, ssl);
    } catch (UnsupportedOperationException e) {
      throw new OrchestraException(
          "the docker driver runs sandbox steps over unix:// and tcp:// engines only, not "
              + describe(),
          e);
    }
  }

  /** Where the engine is, and why there: for messages. */
  String describe() {
    return host + " (from " + source + ")";
  }

  @Override
  public void close() {
    closeClient(api);
    closeClient(streams);
  }

  private void closeClient(DockerClient client) {
    try {
      client.close();
    } catch (IOException e) {
      LOG.warn("closing the connection to the Docker engine at {} failed: {}", host, e.toString());
    }
  }
}
