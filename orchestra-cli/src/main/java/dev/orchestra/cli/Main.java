package dev.orchestra.cli;

import dev.orchestra.DriverNotFoundException;
import dev.orchestra.OrchestraException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * The {@code orchestra} command: {@code run}, {@code drivers}, {@code close} and {@code tck}.
 *
 * <p>Exit codes: a task's own exit code for {@code run}; {@value #USAGE} for bad input (an unknown
 * option, a malformed value, an unknown driver or driver parameter); {@value #FAILURE} when a
 * driver fails (an unreachable engine, a missing image); 128 + the signal's number when SIGINT or
 * SIGTERM ended a run (see {@link TaskRunner}). Every error is one line on standard error, with its
 * stack trace only under {@code --debug}.
 */
public final class Main {

  /** The exit code of a driver failure. */
  static final int FAILURE = 1;

  /** The exit code of bad input. */
  static final int USAGE = 2;

  /** The level of Orchestra's own loggers (the drivers' platform calls). */
  private static final String LOG_LEVEL_PROPERTY = "org.slf4j.simpleLogger.log.dev.orchestra";

  private final Stdio stdio;
  private final boolean configureLogging;

  /**
   * Creates the command.
   *
   * @param stdio the streams to work with
   * @param configureLogging whether {@code --debug} may set the process-wide log level (only the
   *     real process does this: the level is fixed once the first logger exists)
   */
  Main(Stdio stdio, boolean configureLogging) {
    this.stdio = stdio;
    this.configureLogging = configureLogging;
  }

  /**
   * Runs the command with the process's own streams and exits with its exit code.
   *
   * @param args the command line
   */
  public static void main(String[] args) {
    int code = new Main(Stdio.system(), true).run(args);
    if (shuttingDown()) {
      // A signal (Ctrl-C, SIGTERM) shuts the JVM down, with the status a shell reports for a
      // process the signal ended: 128 + its number, 130 or 143. exit() would race it.
      return;
    }
    System.exit(code);
  }

  /** Whether the JVM is shutting down: it then refuses new shutdown hooks. */
  private static boolean shuttingDown() {
    Thread probe = new Thread(() -> {});
    try {
      Runtime.getRuntime().addShutdownHook(probe);
      Runtime.getRuntime().removeShutdownHook(probe);
      return false;
    } catch (IllegalStateException e) {
      return true;
    }
  }

  /**
   * Runs the command.
   *
   * @param args the command line
   * @return the exit code
   */
  int run(String... args) {
    return commandLine().execute(args);
  }

  /** The command tree, wired to this instance's streams, handlers and exit codes. */
  CommandLine commandLine() {
    CommandLine cli = new CommandLine(new OrchestraCommand());
    cli.addSubcommand(new CommandLine.HelpCommand());
    cli.addSubcommand(new RunCommand(stdio));
    cli.addSubcommand(new DriversCommand());
    cli.addSubcommand(new CloseCommand());
    cli.addSubcommand(new TckCommand());
    // Everything after the command's first word belongs to the task, as with `docker run`.
    cli.getSubcommands().get("run").setStopAtPositional(true);
    // The settings below reach the subcommands added above.
    cli.setOut(writer(stdio.out()));
    cli.setErr(writer(stdio.err()));
    cli.setExecutionStrategy(this::execute);
    cli.setParameterExceptionHandler(Main::usageError);
    cli.setExecutionExceptionHandler(this::failure);
    return cli;
  }

  private int execute(ParseResult parsed) {
    if (configureLogging) {
      if (isDebug(parsed)) {
        System.setProperty(LOG_LEVEL_PROPERTY, "debug");
      } else if (isTck(parsed)) {
        // The TCK runs every option on purpose: the driver's warnings about ignored ones would
        // bury the report, which shows every failure itself.
        System.setProperty(LOG_LEVEL_PROPERTY, "error");
      }
    }
    return new CommandLine.RunLast().execute(parsed);
  }

  private static boolean isTck(ParseResult parsed) {
    return parsed.subcommand() != null
        && parsed.subcommand().commandSpec().userObject() instanceof TckCommand;
  }

  private static int usageError(ParameterException e, String[] args) {
    CommandLine cmd = e.getCommandLine();
    String name = cmd.getCommandSpec().qualifiedName();
    cmd.getErr().printf("%s: %s (see '%s --help')%n", name, oneLine(e), name);
    cmd.getErr().flush();
    return USAGE;
  }

  private int failure(Exception e, CommandLine cmd, ParseResult parsed) {
    PrintWriter err = cmd.getErr();
    String name = cmd.getCommandSpec().qualifiedName();
    boolean badInput =
        e instanceof IllegalArgumentException || e instanceof DriverNotFoundException;
    boolean debug = isDebug(parsed);
    if (badInput || e instanceof OrchestraException) {
      err.printf("%s: %s%n", name, oneLine(e));
    } else {
      err.printf(
          "%s: unexpected error: %s%s%n",
          name,
          e.toString().strip().replaceAll("\\s*\\R\\s*", " "),
          debug ? "" : " (--debug shows the stack trace)");
    }
    if (debug) {
      e.printStackTrace(err);
    }
    err.flush();
    return badInput ? USAGE : FAILURE;
  }

  private static boolean isDebug(ParseResult parsed) {
    for (ParseResult p = parsed; p != null; p = p.subcommand()) {
      if (p.hasMatchedOption(CommonOptions.DEBUG)) {
        return true;
      }
    }
    return false;
  }

  /**
   * An exception's message on one line, for an error report.
   *
   * @param e the exception
   * @return its message with line breaks folded into spaces, or its class name when it has none
   */
  static String oneLine(Throwable e) {
    String message = e.getMessage();
    if (message == null || message.isBlank()) {
      return e.getClass().getName();
    }
    return message.strip().replaceAll("\\s*\\R\\s*", " ");
  }

  private static PrintWriter writer(OutputStream out) {
    return new PrintWriter(new OutputStreamWriter(out, Charset.defaultCharset()), true);
  }
}
