package dev.orchestra.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code orchestra} itself: names the subcommands; alone, it shows its usage and exits 2. */
@Command(
    name = "orchestra",
    mixinStandardHelpOptions = true,
    versionProvider = OrchestraCommand.Version.class,
    usageHelpAutoWidth = true,
    headerHeading = "%n",
    descriptionHeading = "%n",
    optionListHeading = "%nOptions:%n",
    header = "Run build tasks as containers on any platform, through pluggable drivers.",
    synopsisSubcommandLabel = "COMMAND",
    commandListHeading = "%nCommands:%n",
    footerHeading = "%n",
    footer = {
      "Examples:",
      "  orchestra run -- sh -c 'echo hello; echo oops >&2; exit 3'",
      "  orchestra run --driver docker --image busybox -e NAME=you -- sh -c 'echo hi $NAME'",
      "  orchestra drivers",
      "  orchestra tck --driver local"
    })
final class OrchestraCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Mixin CommonOptions common;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return Main.USAGE;
  }

  /** The version, from the build's filtered {@code orchestra-cli.properties}. */
  static final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
      Properties p = new Properties();
      try (InputStream in = Version.class.getResourceAsStream("/orchestra-cli.properties")) {
        if (in != null) {
          p.load(in);
        }
      } catch (IOException e) {
        throw new UncheckedIOException("reading orchestra-cli.properties", e);
      }
      return new String[] {
        "orchestra " + p.getProperty("version", "(development build)"),
        "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")"
      };
    }
  }
}
