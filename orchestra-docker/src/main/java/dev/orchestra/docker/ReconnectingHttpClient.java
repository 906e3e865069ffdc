package dev.orchestra.docker;

import com.github.dockerjava.transport.DockerHttpClient;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.URI;
import org.apache.hc.core5.http.ConnectionClosedException;
import org.apache.hc.core5.http.NoHttpResponseException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transport under the driver's clients, made to survive a restart of the engine.
 *
 * <p>The HTTP client keeps idle connections to the engine and never checks them before use. After
 * the engine restarted, each of them fails the first request sent on it ("Broken pipe", or no
 * response at all), although the engine is back. Such a failure happens before the engine read the
 * request (the process that accepted the connection is gone), so the request is sent again, on the
 * next connection, until one is fresh: a request whose body cannot be read twice (a stream) or that
 * takes over the connection (attach) is never sent again. A failure to connect at all (the engine
 * is down) is not retried: it becomes an {@link EngineUnreachableException} naming the engine's
 * address, at once.
 */
final class ReconnectingHttpClient implements DockerHttpClient {

  private static final Logger LOG = LoggerFactory.getLogger(ReconnectingHttpClient.class);

  private final DockerHttpClient delegate;
  private final URI host;
  private final int maxConnections;

  /**
   * @param delegate the transport
   * @param host the engine's address, for messages
   * @param maxConnections how many idle connections the transport may keep: the most a restart can
   *     leave stale
   */
  ReconnectingHttpClient(DockerHttpClient delegate, URI host, int maxConnections) {
    this.delegate = delegate;
    this.host = host;
    this.maxConnections = maxConnections;
  }

  @Override
  public Response execute(Request request) {
    boolean repeatable =
        request.hijackedInput() == null && (request.bodyBytes() != null || request.body() == null);
    for (int attempt = 1; ; attempt++) {
      try {
        return delegate.execute(request);
      } catch (RuntimeException e) {
        Throwable cause = EngineErrors.transportCause(e);
        if (cause == null) {
          throw e;
        }
        if (repeatable && isStaleConnection(cause) && attempt <= maxConnections) {
          LOG.debug(
              "{} {} failed on a connection the engine at {} closed ({}); sending it again",
              request.method(),
              request.path(),
              host,
              EngineErrors.rootCause(cause));
          continue;
        }
        throw new EngineUnreachableException(host, cause);
      }
    }
  }

  @Override
  public void close() throws IOException {
    delegate.close();
  }

  /**
   * Whether a failure means a kept connection the engine closed: nothing answered a request sent on
   * it. A refused or impossible connection is not one.
   */
  static boolean isStaleConnection(Throwable failure) {
    if (failure instanceof ConnectException) {
      return false;
    }
    if (failure instanceof NoHttpResponseException
        || failure instanceof ConnectionClosedException) {
      return true;
    }
    String message = failure.getMessage() == null ? "" : failure.getMessage();
    return (failure instanceof SocketException || failure.getClass() == IOException.class)
        && (message.contains("Broken pipe") || message.contains("Connection reset"));
  }

  /** The engine cannot be reached at all: its message names the engine's address. */
  static final class EngineUnreachableException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    EngineUnreachableException(URI host, Throwable cause) {
      super(
          "no answer from the Docker engine at " + host + ": " + EngineErrors.rootCause(cause),
          cause);
    }
  }
}
