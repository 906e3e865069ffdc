package dev.orchestra.docker;

import com.github.dockerjava.transport.DockerHttpClient;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
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
 *
 * <p>It also bounds what may hang on an engine that stopped answering ({@link RequestDeadlines}):
 * every request until the engine's answer begins, and, for a client of quick calls, every read of
 * the answer. A request the engine accepted and did not answer in time is not sent again: it fails
 * with an {@link EngineUnreachableException} that says so.
 */
final class ReconnectingHttpClient implements DockerHttpClient {

  private static final Logger LOG = LoggerFactory.getLogger(ReconnectingHttpClient.class);

  /** What one bounded read of an answer may fetch at once. */
  private static final int BODY_BUFFER = 64 * 1024;

  /** How many times a read whose failure passes ({@link EngineFlavour#passes}) is sent again. */
  private static final int PASSING_RETRIES = 5;

  /** The pause before the first such retry; the n-th waits n times as long. */
  private static final Duration PASSING_PAUSE = Duration.ofMillis(20);

  private final DockerHttpClient delegate;
  private final URI host;
  private final Link link;
  private final int maxConnections;
  private final RequestDeadlines deadlines;
  private final boolean boundedBodies;

  /** The engine behind it, once detected: how its refusals read as Docker's. */
  private final AtomicReference<EngineFlavour> flavour;

  /**
   * @param delegate the transport
   * @param host the engine's address, for messages
   * @param link readies the link to the engine before each request (an SSH session that dropped is
   *     opened again); what it throws fails the request at once
   * @param maxConnections how many idle connections the transport may keep: the most a restart can
   *     leave stale
   * @param deadlines the bound of each request until its answer begins
   * @param boundedBodies whether each read of an answer is bounded too: for quick calls, not for
   *     streams, which stay quiet as long as a task is
   * @param flavour the engine behind it, {@link EngineFlavour#DOCKER} until detected
   */
  ReconnectingHttpClient(
      DockerHttpClient delegate,
      URI host,
      Link link,
      int maxConnections,
      RequestDeadlines deadlines,
      boolean boundedBodies,
      AtomicReference<EngineFlavour> flavour) {
    this.delegate = delegate;
    this.flavour = flavour;
    this.host = host;
    this.link = link;
    this.maxConnections = maxConnections;
    this.deadlines = deadlines;
    this.boundedBodies = boundedBodies;
  }

  @Override
  public Response execute(Request request) {
    boolean repeatable =
        request.hijackedInput() == null && (request.bodyBytes() != null || request.body() == null);
    int passing = 0;
    for (int attempt = 1; ; attempt++) {
      try {
        link.ready();
      } catch (IOException e) {
        throw new EngineUnreachableException(host, e);
      }
      try {
        Response response = deadlines.run(() -> delegate.execute(request));
        Response answer = boundedBodies ? new BoundedResponse(response) : response;
        EngineFlavour engine = flavour.get();
        if (!engine.mayTranslate(answer.getStatusCode())) {
          return answer;
        }
        boolean mayRetry =
            "GET".equals(request.method()) && repeatable && passing < PASSING_RETRIES;
        Response translated = translated(answer, engine, mayRetry);
        if (translated != null) {
          return translated;
        }
        passing++;
        LOG.debug(
            "{} {}: the engine at {} failed a read that passes; reading again",
            request.method(),
            request.path(),
            host);
        LockSupport.parkNanos(PASSING_PAUSE.toNanos() * passing);
        continue;
      } catch (EngineTimeoutException e) {
        throw new EngineUnreachableException(e);
      } catch (RuntimeException e) {
        Throwable cause = EngineErrors.transportCause(e);
        if (cause == null) {
          throw e;
        }
        if (cause instanceof SocketTimeoutException) {
          // A tcp:// socket's own timeout, the same bound.
          throw new EngineUnreachableException(
              new EngineTimeoutException(host, deadlines.timeout(), e));
        }
        if (repeatable && isStaleConnection(cause) && attempt <= maxConnections) {
          try {
            link.check();
          } catch (IOException failure) {
            throw new EngineUnreachableException(host, failure);
          }
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

  /** What carries the requests to the engine, made ready before each. */
  @FunctionalInterface
  interface Link {

    /**
     * Returns at once while the link is up; otherwise sets it up again.
     *
     * @throws IOException saying why it cannot be set up
     */
    void ready() throws IOException;

    /**
     * Called when a connection ended before the engine answered: throws when the link knows that
     * this was no stale connection but a failure of its own, which another attempt would meet too.
     *
     * @throws IOException the link's failure
     */
    default void check() throws IOException {}
  }

  /**
   * A refusal with the status Docker gives for it ({@link EngineFlavour#dockerStatus}); its body
   * (an error message, small) read here, bounded by the request timeout.
   *
   * @param mayRetry whether the request may be sent again
   * @return the answer; null if it is a failure that passes ({@link EngineFlavour#passes}) and
   *     {@code mayRetry}
   */
  private Response translated(Response answer, EngineFlavour engine, boolean mayRetry) {
    byte[] body;
    try (Response closing = answer) {
      InputStream in = closing.getBody();
      body = deadlines.run(() -> in.readNBytes(BODY_BUFFER));
    } catch (IOException e) {
      throw new EngineUnreachableException(host, e);
    }
    String text = new String(body, StandardCharsets.UTF_8);
    if (mayRetry && engine.passes(answer.getStatusCode(), text)) {
      return null;
    }
    int status = engine.dockerStatus(answer.getStatusCode(), text);
    return new Response() {
      @Override
      public int getStatusCode() {
        return status;
      }

      @Override
      public Map<String, List<String>> getHeaders() {
        return answer.getHeaders();
      }

      @Override
      public String getHeader(String name) {
        return answer.getHeader(name);
      }

      @Override
      public InputStream getBody() {
        return new ByteArrayInputStream(body);
      }

      @Override
      public void close() {
        // The answer was read whole and closed.
      }
    };
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

  /**
   * The engine cannot be reached at all, or did not answer in time: its message names the engine's
   * address.
   */
  static final class EngineUnreachableException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    EngineUnreachableException(URI host, Throwable cause) {
      super(
          "no answer from the Docker engine at " + host + ": " + EngineErrors.rootCause(cause),
          cause);
    }

    EngineUnreachableException(EngineTimeoutException timeout) {
      super(timeout.getMessage(), timeout);
    }
  }

  /** An answer whose body reads are bounded by the request timeout, for quick calls. */
  private final class BoundedResponse implements Response {

    private final Response response;

    BoundedResponse(Response response) {
      this.response = response;
    }

    @Override
    public int getStatusCode() {
      return response.getStatusCode();
    }

    @Override
    public Map<String, List<String>> getHeaders() {
      return response.getHeaders();
    }

    @Override
    public String getHeader(String name) {
      return response.getHeader(name);
    }

    /**
     * Buffered above the bound: docker-java reads a log frame's header byte by byte, and the engine
     * sends a frame per line, so that a bound per read would cost a timer per byte of header.
     */
    @Override
    public InputStream getBody() {
      return new BufferedInputStream(new BoundedBody(response.getBody()), BODY_BUFFER);
    }

    @Override
    public void close() {
      response.close();
    }
  }

  /** Each read bounded by the request timeout. */
  private final class BoundedBody extends FilterInputStream {

    private final RequestDeadlines.Reads reads = deadlines.reads();

    BoundedBody(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      return reads.run(super::read);
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      return reads.run(() -> super.read(b, off, len));
    }

    @Override
    public void close() throws IOException {
      reads.close();
      super.close();
    }
  }
}
