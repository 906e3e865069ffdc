package dev.orchestra;

import dev.orchestra.spi.DriverParams;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Keeps the values of secret parameters (see {@link DriverParams#isSecret(String)}) out of what a
 * driver provider throws while it opens: a value found in the message or {@code toString} of the
 * exception, of a cause or of a suppressed exception, at any depth, is replaced by {@code ****}.
 */
final class SecretScrubber {

  private static final String HIDDEN = "****";

  private final List<String> secrets;

  private SecretScrubber(List<String> secrets) {
    this.secrets = secrets;
  }

  /**
   * A scrubber for the secret values among the parameters.
   *
   * @param params the parameters a driver was opened with
   * @return a scrubber for the values of the secret-named ones that are not empty
   */
  static SecretScrubber of(Map<String, String> params) {
    return new SecretScrubber(
        params.entrySet().stream()
            .filter(e -> DriverParams.isSecret(e.getKey()) && !e.getValue().isEmpty())
            .map(Map.Entry::getValue)
            .toList());
  }

  /**
   * {@code e} itself when no secret value appears in its stack trace text (messages, causes,
   * suppressed exceptions); otherwise an exception of the same kind ({@link
   * IllegalArgumentException}, {@link OrchestraInterruptedException}, else {@link
   * OrchestraException}) with the message {@code what: } and {@code e} with the secrets replaced,
   * the same stack trace, and copies of the causes and suppressed exceptions scrubbed alike, each
   * naming its original class.
   *
   * @param what what failed, for the message of an exception that is neither an {@link
   *     IllegalArgumentException} nor an {@link OrchestraException}
   * @param e what the provider threw
   * @return the exception to throw
   */
  RuntimeException scrub(String what, RuntimeException e) {
    if (secrets.isEmpty() || !mentionsSecret(e)) {
      return e;
    }
    Map<Throwable, Throwable> copies = new IdentityHashMap<>();
    if (!(e instanceof IllegalArgumentException || e instanceof OrchestraException)) {
      return new OrchestraException(what + ": " + hide(e.toString()), copy(e, copies));
    }
    Throwable cause = e.getCause() == null ? null : copy(e.getCause(), copies);
    String message = hide(e.getMessage());
    RuntimeException scrubbed =
        e instanceof IllegalArgumentException
            ? new IllegalArgumentException(message, cause)
            : e instanceof OrchestraInterruptedException
                ? new OrchestraInterruptedException(message, cause)
                : new OrchestraException(message, cause);
    scrubbed.setStackTrace(e.getStackTrace());
    for (Throwable s : e.getSuppressed()) {
      scrubbed.addSuppressed(copy(s, copies));
    }
    return scrubbed;
  }

  private boolean mentionsSecret(Throwable t) {
    StringWriter text = new StringWriter();
    t.printStackTrace(new PrintWriter(text));
    return secrets.stream().anyMatch(text.toString()::contains);
  }

  private String hide(String text) {
    if (text == null) {
      return null;
    }
    String hidden = text;
    for (String secret : secrets) {
      hidden = hidden.replace(secret, HIDDEN);
    }
    return hidden;
  }

  private Throwable copy(Throwable t, Map<Throwable, Throwable> copies) {
    Throwable known = copies.get(t);
    if (known != null) {
      return known;
    }
    Scrubbed copy = new Scrubbed(hide(t.toString()));
    copy.setStackTrace(t.getStackTrace());
    copies.put(t, copy);
    if (t.getCause() != null) {
      copy.initCause(copy(t.getCause(), copies));
    }
    for (Throwable s : t.getSuppressed()) {
      copy.addSuppressed(copy(s, copies));
    }
    return copy;
  }

  /** A copy of an exception whose text held a secret: its class name and scrubbed message. */
  private static final class Scrubbed extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Scrubbed(String text) {
      super(text);
    }

    @Override
    public String toString() {
      return getMessage();
    }
  }
}
