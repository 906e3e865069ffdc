package dev.orchestra.cli;

import dev.orchestra.Driver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code orchestra close}: removes everything a namespace owns on a driver, as {@link
 * Driver#close()} does; the way to clean up after {@code orchestra run --keep}.
 */
@Command(
    name = "close",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    usageHelpAutoWidth = true,
    headerHeading = "%n",
    descriptionHeading = "%n",
    optionListHeading = "%nOptions:%n",
    header = "Remove a namespace: every container (running ones too) and volume it owns.",
    description = {
      "Cleans up after 'orchestra run --keep'. Touches nothing of any other namespace;"
          + " closing a namespace that holds nothing does nothing."
    })
final class CloseCommand implements Callable<Integer> {

  @Mixin CommonOptions common;

  @Option(
      names = "--driver",
      paramLabel = "NAME",
      defaultValue = "local",
      description = "The driver the namespace lives on (default: ${DEFAULT-VALUE}).")
  String driverName;

  @Option(
      names = "--param",
      paramLabel = "KEY=VALUE",
      converter = KeyValue.Converter.class,
      description = "A driver parameter, as given to 'orchestra run'.")
  List<KeyValue> params = new ArrayList<>();

  @Option(
      names = "--namespace",
      required = true,
      paramLabel = "NS",
      description = "The namespace to remove.")
  String namespace;

  @Override
  public Integer call() {
    DriverTarget.parse(driverName).open(namespace, KeyValue.toMap(params)).close();
    return 0;
  }
}
