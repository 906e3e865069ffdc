package dev.orchestra.cli;

import picocli.CommandLine.Option;

/** The options every command takes. */
final class CommonOptions {

  /** The option's name, looked up in a parse result by {@link Main}. */
  static final String DEBUG = "--debug";

  @Option(
      names = DEBUG,
      description = "Log every platform call on stderr, and show the stack trace of an error.")
  boolean debug;
}
