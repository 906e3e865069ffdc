package dev.orchestra.docker;

import com.github.dockerjava.api.exception.BadRequestException;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.exception.NotFoundException;
import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.spi.Exceptions;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.ClosedByInterruptException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Turns what docker-java throws into the engine's answer and the driver's exceptions. */
final class EngineErrors {

  /** docker-java's message is {@code Status 404: {"message":"No such container: x"}}. */
  private static final Pattern JSON_MESSAGE =
      Pattern.compile("\"message\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

  private EngineErrors() {}

  /**
   * What the engine answered, or why it could not be asked, in one line.
   *
   * @param t what a docker-java call threw
   * @return for example {@code the engine answered HTTP 404: No such container: x}
   */
  static String answer(Throwable t) {
    if (t instanceof DockerException e) {
      return "the engine answered HTTP " + e.getHttpStatus() + ": " + message(e);
    }
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof ReconnectingHttpClient.EngineUnreachableException
          || c instanceof EngineTimeoutException) {
        return c.getMessage();
      }
    }
    return "no answer from the engine: " + rootCause(t);
  }

  /**
   * Whether a failure means that the engine accepted a request and did not answer it in time: it
   * may be stalled, so a clean-up sent at once would most likely wait as long again.
   */
  static boolean isTimeout(Throwable t) {
    return transportCause(t) instanceof java.net.SocketTimeoutException;
  }

  /**
   * The engine's own message in a docker-java exception, without the status and JSON around it.
   *
   * @param e the exception
   * @return the message, for example {@code No such container: x}
   */
  static String message(DockerException e) {
    String raw = e.getMessage() == null ? "" : e.getMessage();
    Matcher m = JSON_MESSAGE.matcher(raw);
    return m.find() ? unescape(m.group(1)) : raw.strip();
  }

  /**
   * The deepest cause of a failure, described in one line.
   *
   * @param t the failure
   * @return for example {@code ConnectException: Connection refused}
   */
  static String rootCause(Throwable t) {
    Throwable root = t;
    // A timeout's own cause is how it was enforced (an interrupt), not why it failed.
    while (!(root instanceof EngineTimeoutException)
        && root.getCause() != null
        && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage();
    return message == null || message.isBlank()
        ? root.getClass().getName()
        : root.getClass().getSimpleName() + ": " + message.strip();
  }

  /**
   * The exception to throw when a call failed: an {@link OrchestraException} (or an interruption)
   * passes as it is, anything else becomes an {@link OrchestraException} with the engine's answer.
   *
   * @param what what was attempted, for example {@code "starting task build in namespace ci"}
   * @param t what the call threw
   * @return the exception to throw
   */
  static RuntimeException failure(String what, Throwable t) {
    if (t instanceof OrchestraException e) {
      return e;
    }
    Throwable interruption = interruption(t);
    if (interruption != null) {
      return Exceptions.launder(what, interruption);
    }
    if (!(t instanceof DockerException) && Thread.currentThread().isInterrupted()) {
      // The transport answers an interrupt in its own ways (a cancelled wait for a pooled
      // connection, say): without an answer from the engine, the interruption is the cause.
      return new OrchestraInterruptedException(what + " was interrupted", t);
    }
    if (t instanceof Error e) {
      throw e;
    }
    return new OrchestraException(what + " failed: " + answer(t), t);
  }

  /**
   * The engine's refusal of a request the driver sent itself, as docker-java would throw it: a
   * subtype for 400, 404 and 409, whose message carries the answer.
   *
   * @param status the HTTP status, 400 or more
   * @param body the answer's body (the engine's JSON {@code {"message": ...}})
   * @return the exception to throw
   */
  static DockerException refusal(int status, String body) {
    String message = "Status " + status + ": " + body.strip();
    return switch (status) {
      case 400 -> new BadRequestException(message);
      case 404 -> new NotFoundException(message);
      case 409 -> new ConflictException(message);
      default -> new DockerException(message, status);
    };
  }

  /**
   * Whether a failure is the transport's, not the engine's answer: the connection could not be made
   * or was cut (the engine stopped, say), so the same call may work once the engine is back.
   */
  static boolean isTransportFailure(Throwable t) {
    return transportCause(t) != null;
  }

  /**
   * The transport's I/O failure among a failure's causes, or {@code null} if the engine answered
   * (an HTTP error comes first) or there is none.
   */
  static IOException transportCause(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof DockerException) {
        return null;
      }
      if (c instanceof IOException io) {
        return io;
      }
    }
    return null;
  }

  /**
   * The interruption somewhere in a failure's causes: docker-java wraps the transport's {@link
   * InterruptedIOException} (an interrupted wait for a pooled connection) in a plain runtime
   * exception. An {@link InterruptedIOException} counts only when the thread's flag is set, since
   * connect timeouts are {@link InterruptedIOException}s too. A request's deadline ({@link
   * EngineTimeoutException}) is never an interruption, whatever its causes.
   */
  static Throwable interruption(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof EngineTimeoutException) {
        // Its cause is how the deadline ended the request (an interrupt it sent and cleared): a
        // timeout, not an interruption of the caller's.
        return null;
      }
      if (c instanceof InterruptedException || c instanceof ClosedByInterruptException) {
        return c;
      }
      if (c instanceof InterruptedIOException
          && Exceptions.isInterruption(c)
          && Thread.currentThread().isInterrupted()) {
        return c;
      }
    }
    return null;
  }

  private static String unescape(String json) {
    StringBuilder s = new StringBuilder(json.length());
    for (int i = 0; i < json.length(); i++) {
      char c = json.charAt(i);
      if (c != '\\' || i + 1 == json.length()) {
        s.append(c);
        continue;
      }
      char next = json.charAt(++i);
      switch (next) {
        case 'n' -> s.append(' ');
        case 't' -> s.append('\t');
        case 'u' -> {
          String hex = i + 4 < json.length() ? json.substring(i + 1, i + 5) : "";
          if (hex.matches("[0-9a-fA-F]{4}")) {
            s.append((char) Integer.parseInt(hex, 16));
            i += 4;
          } else {
            s.append("\\u");
          }
        }
        default -> s.append(next);
      }
    }
    return s.toString().strip();
  }
}
