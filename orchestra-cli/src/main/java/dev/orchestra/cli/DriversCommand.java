package dev.orchestra.cli;

import dev.orchestra.Capability;
import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import dev.orchestra.OrchestraException;
import java.io.PrintWriter;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code orchestra drivers}: the drivers on the class path and what each can do. Each one is opened
 * on a throwaway namespace to ask for its capabilities, then closed; one that cannot be opened (an
 * engine that is not running, say) is listed with the reason.
 */
@Command(
    name = "drivers",
    mixinStandardHelpOptions = true,
    usageHelpAutoWidth = true,
    headerHeading = "%n",
    descriptionHeading = "%n",
    optionListHeading = "%nOptions:%n",
    header = "List the drivers found, with their capabilities.",
    description = {
      "Opens each driver with its default parameters on a throwaway namespace to ask what it"
          + " can do, then closes it. A driver that cannot be opened is listed with the reason.",
      "Exits 0 when at least one driver was found."
    })
final class DriversCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Mixin CommonOptions common;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    SortedSet<String> names = Orchestra.drivers();
    if (names.isEmpty()) {
      spec.commandLine().getErr().println("orchestra drivers: no driver found on the class path");
      return 1;
    }
    int width =
        Math.max("DRIVER".length(), names.stream().mapToInt(String::length).max().orElse(0));
    String row = "%-" + width + "s  %s%n";
    out.printf(row, "DRIVER", "CAPABILITIES");
    for (String name : names) {
      out.printf(row, name, describe(name));
    }
    out.flush();
    return 0;
  }

  private static String describe(String name) {
    Set<Capability> capabilities;
    try (Driver driver = Orchestra.open(name, Namespaces.fresh("orchestra-cli-drivers"))) {
      capabilities = driver.capabilities();
    } catch (OrchestraException | IllegalArgumentException e) {
      return "unavailable: " + Main.oneLine(e);
    }
    if (capabilities.isEmpty()) {
      return "(none: runs the command only)";
    }
    return new TreeSet<>(capabilities).stream().map(Enum::name).collect(Collectors.joining(", "));
  }
}
