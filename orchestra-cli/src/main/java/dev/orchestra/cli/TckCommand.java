package dev.orchestra.cli;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.orchestra.DriverNotFoundException;
import dev.orchestra.Orchestra;
import dev.orchestra.spi.DriverParams;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.concurrent.Callable;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code orchestra tck}: runs the driver contract's tests ({@link dev.orchestra.tck.DriverTck})
 * against a driver on the class path, through the JUnit Platform launcher, and prints a readable
 * report. Exits 0 only when no test failed.
 */
@Command(
    name = "tck",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    usageHelpAutoWidth = true,
    headerHeading = "%n",
    descriptionHeading = "%n",
    optionListHeading = "%nOptions:%n",
    header = "Run the driver contract's tests (the TCK) against a driver.",
    description = {
      "Prints one line per test (PASS, FAIL, or SKIP with the reason: a capability the driver"
          + " does not declare is skipped, never passed) and the totals.",
      "Each test opens the driver on a namespace of its own and closes it afterwards."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:every test passed or was skipped",
      "1:a test failed, or no test ran",
      "2:bad input (unknown option or driver, malformed -D or --param)"
    })
final class TckCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Mixin CommonOptions common;

  @Option(
      names = "--driver",
      required = true,
      paramLabel = "NAME",
      description = "The driver to test; see 'orchestra drivers'.")
  String driverName;

  @Option(
      names = "--param",
      paramLabel = "KEY=VALUE",
      converter = KeyValue.Converter.class,
      description = "A driver parameter, passed to every driver the TCK opens.")
  List<KeyValue> params = new ArrayList<>();

  @Option(
      names = "--image",
      paramLabel = "IMAGE",
      description =
          "The image every task names (default: busybox); it needs a POSIX shell and busybox"
              + " commands.")
  String image;

  @Option(
      names = "-D",
      paramLabel = "PROPERTY=VALUE",
      converter = KeyValue.Converter.class,
      description =
          "A system property for the run, for example -Dorchestra.tck.timeout=PT5M or"
              + " -Dorchestra.tck.await=120.")
  List<KeyValue> properties = new ArrayList<>();

  @Override
  public Integer call() {
    DriverTarget target = DriverTarget.parse(driverName);
    SortedSet<String> available = Orchestra.drivers();
    if (!available.contains(target.driverName())) {
      throw new DriverNotFoundException(target.driverName(), available);
    }
    Map<String, String> driverParams = KeyValue.toMap(params);
    KeyValue.toMap(properties).forEach(System::setProperty);
    String run = RegistryDriverTck.register(driverName, driverParams, image);
    try {
      return run(target, driverParams, run);
    } finally {
      RegistryDriverTck.unregister(run);
    }
  }

  private Integer run(DriverTarget target, Map<String, String> driverParams, String run) {

    Map<String, String> shown = DriverParams.redact(driverParams);
    PrintWriter out = spec.commandLine().getOut();
    out.printf(
        "Orchestra TCK against driver '%s'%s%n", target, shown.isEmpty() ? "" : " with " + shown);
    out.flush();
    TckReport report = new TckReport(out, common.debug);
    LauncherDiscoveryRequest request =
        LauncherDiscoveryRequestBuilder.request()
            .selectors(selectClass(RegistryDriverTck.class))
            .configurationParameter(RegistryDriverTck.TARGET, run)
            .build();
    Launcher launcher = LauncherFactory.create();
    long start = System.nanoTime();
    launcher.execute(request, report);
    Duration took = Duration.ofNanos(System.nanoTime() - start);

    int total = report.passed() + report.failed() + report.skipped();
    out.printf(
        "%n%d tests: %d passed, %d failed, %d skipped (%.1f s)%n",
        total, report.passed(), report.failed(), report.skipped(), took.toMillis() / 1000.0);
    if (report.failed() > 0) {
      out.println("Failed:");
      report.failures().forEach(name -> out.println("  " + name));
    }
    out.flush();
    if (total == 0) {
      spec.commandLine().getErr().println("orchestra tck: no test ran");
      spec.commandLine().getErr().flush();
      return Main.FAILURE;
    }
    return report.failed() == 0 ? 0 : Main.FAILURE;
  }
}
