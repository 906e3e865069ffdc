package dev.orchestra.docker;

import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;

/**
 * The engine accepted a request and did not answer it within the driver's {@code requestTimeout}: a
 * transport failure ({@link java.io.IOException}) whose message names the engine and the bound. Not
 * an interruption, although it may have been enforced by interrupting the waiting thread.
 */
final class EngineTimeoutException extends SocketTimeoutException {

  private static final long serialVersionUID = 1L;

  EngineTimeoutException(URI host, Duration timeout, Throwable cause) {
    super(
        "the Docker engine at "
            + host
            + " did not answer within "
            + timeout
            + " (the driver's parameter "
            + DockerDriverProvider.REQUEST_TIMEOUT
            + ")");
    if (cause != null) {
      initCause(cause);
    }
  }
}
