package dev.orchestra.cli;

import dev.orchestra.Capability;
import dev.orchestra.ContainerLimits;
import dev.orchestra.Driver;
import dev.orchestra.Mount;
import dev.orchestra.Task;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code orchestra run}: runs one task the way {@code docker run} does. */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    usageHelpAutoWidth = true,
    headerHeading = "%n",
    descriptionHeading = "%n",
    optionListHeading = "%nOptions:%n",
    header = "Run a task through a driver and exit with its exit code.",
    description = {
      "Streams the task's standard output and standard error live to this command's own, passes"
          + " this command's standard input on to the task when it is a pipe or a file, and exits"
          + " with the task's exit code.",
      "The task runs in a fresh namespace that is removed afterwards (unless --keep);"
          + " Ctrl-C (or SIGTERM) stops the task and removes the namespace, and exits 130 (143).",
      "Options after COMMAND belong to the command. An option that the driver lacks the"
          + " capability for (see 'orchestra drivers') is passed anyway, and the driver logs a"
          + " warning."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0-255:the task's own exit code",
      "1:the driver failed (engine unreachable, image missing, ...)",
      "2:bad input (unknown option, malformed -e or -v, unknown driver, ...)",
      "130:stopped by Ctrl-C (SIGINT)",
      "143:stopped by SIGTERM",
      "141:stopped because its output is no longer read (as by SIGPIPE)"
    })
final class RunCommand implements Callable<Integer> {

  private static final Duration POLL_INTERVAL = Duration.ofMillis(100);

  private final Stdio stdio;

  @Spec CommandSpec spec;

  @Mixin CommonOptions common;

  @Option(
      names = "--driver",
      paramLabel = "NAME",
      defaultValue = "local",
      description =
          "The driver to run on (default: ${DEFAULT-VALUE}), by name (see 'orchestra drivers')"
              + " or as a URI driver://namespace?param=value&...")
  String driverName;

  @Option(
      names = "--param",
      paramLabel = "KEY=VALUE",
      converter = KeyValue.Converter.class,
      description = "A driver parameter, for example root=/tmp/orchestra (local) or host=tcp://...")
  List<KeyValue> params = new ArrayList<>();

  @Option(
      names = "--image",
      paramLabel = "IMAGE",
      description =
          "The image to run in; required by image-based drivers such as docker. No default.")
  String image;

  @Option(
      names = {"-e", "--env"},
      paramLabel = "KEY=VALUE",
      converter = KeyValue.Converter.class,
      description = "An environment variable; the task sees only those given (local adds PATH).")
  List<KeyValue> env = new ArrayList<>();

  @Option(
      names = {"-v", "--volume"},
      paramLabel = "VOLUME:PATH",
      converter = MountSpec.Converter.class,
      description =
          "Mounts the namespace's volume VOLUME (created when missing) at PATH inside the task"
              + " directory.")
  List<Mount> mounts = new ArrayList<>();

  @Option(
      names = "--copy-in",
      paramLabel = "VOLUME=DIR",
      converter = VolumeCopy.Converter.class,
      description =
          "Copies the local directory DIR into the namespace's volume VOLUME (created when"
              + " missing) before the task starts; repeatable. Mount it with -v to use it.")
  List<VolumeCopy> copyIns = new ArrayList<>();

  @Option(
      names = "--copy-out",
      paramLabel = "VOLUME=DIR",
      converter = VolumeCopy.Converter.class,
      description =
          "Copies the volume VOLUME into the local directory DIR (missing or empty) after the"
              + " task ends, whatever its exit code; repeatable.")
  List<VolumeCopy> copyOuts = new ArrayList<>();

  @Option(
      names = {"-w", "--workdir"},
      paramLabel = "DIR",
      description = "The working directory, relative to the task directory; created if missing.")
  String workDir;

  @Option(
      names = {"-u", "--user"},
      paramLabel = "USER",
      description = "The user to run as: a name or uid, optionally with :group.")
  String user;

  @Option(
      names = "--cpu-shares",
      paramLabel = "N",
      description = "Relative CPU weight (1024 is one default share); 0 for no limit.")
  long cpuShares;

  @Option(
      names = {"-m", "--memory"},
      paramLabel = "SIZE",
      converter = ByteSize.Converter.class,
      description = "The most memory the task may use: 512k, 128m, 1g or bytes; 0 for no limit.")
  long memoryBytes;

  @Option(names = "--privileged", description = "Runs the task with extended privileges.")
  boolean privileged;

  @Option(
      names = "--namespace",
      paramLabel = "NS",
      description = "The namespace to run in (default: a fresh orchestra-cli-<random>).")
  String namespace;

  @Option(
      names = "--id",
      paramLabel = "ID",
      description =
          "The task id (default: a fresh run-<random>). A task id that already ran in a kept"
              + " namespace returns that run's output and exit code instead of running again.")
  String taskId;

  @Option(
      names = "--keep",
      description =
          "Keeps the namespace, its volumes and the task's container after the run"
              + " (Ctrl-C still stops the task).")
  boolean keep;

  @Option(
      names = "--no-stdin",
      description = "Gives the task no standard input even when this command's is a pipe.")
  boolean noStdin;

  @Parameters(
      index = "0..*",
      arity = "1..*",
      paramLabel = "COMMAND",
      description = "The command and its arguments, run without a shell.")
  List<String> command = new ArrayList<>();

  RunCommand(Stdio stdio) {
    this.stdio = stdio;
  }

  @Override
  public Integer call() {
    Task task = task();
    DriverTarget target = DriverTarget.parse(driverName);
    if (namespace != null
        && target.namespace().isPresent()
        && !namespace.equals(target.namespace().get())) {
      throw new ParameterException(
          spec.commandLine(),
          "--namespace '"
              + namespace
              + "' contradicts the namespace '"
              + target.namespace().get()
              + "' of --driver "
              + target);
    }
    boolean freshNamespace = namespace == null && target.namespace().isEmpty();
    String ns =
        namespace != null
            ? namespace
            : target.namespace().orElseGet(() -> Namespaces.fresh("orchestra-cli"));
    checkCopies();
    Driver driver = target.open(ns, KeyValue.toMap(params));
    if ((!copyIns.isEmpty() || !copyOuts.isEmpty())
        && !driver.capabilities().contains(Capability.VOLUME_DATA)) {
      driver.close();
      throw new ParameterException(
          spec.commandLine(),
          "driver '"
              + driver.name()
              + "' cannot copy volume data (it lacks capability VOLUME_DATA):"
              + " --copy-in and --copy-out need one that has it");
    }
    int exitCode =
        new TaskRunner(driver, ns, keep, POLL_INTERVAL)
            .copies(copyIns, copyOuts)
            .run(task, stdio.out(), stdio.err());
    if (keep && freshNamespace && exitCode != TaskRunner.STOPPED) {
      spec.commandLine()
          .getErr()
          .printf(
              "orchestra: kept namespace %s on driver %s (task %s)%n",
              ns, target.driverName(), task.id());
    }
    return exitCode;
  }

  /** Checks the directories of the copies before any driver is opened. */
  private void checkCopies() {
    for (VolumeCopy c : copyIns) {
      if (!Files.isDirectory(c.directory())) {
        throw new ParameterException(
            spec.commandLine(),
            "--copy-in " + c.volume() + "=" + c.directory() + ": not a directory");
      }
    }
    for (VolumeCopy c : copyOuts) {
      Path dir = c.directory();
      boolean usable;
      try (var list = Files.isDirectory(dir) ? Files.list(dir) : null) {
        usable = list != null ? list.findAny().isEmpty() : !Files.exists(dir);
      } catch (IOException e) {
        usable = false;
      }
      if (!usable) {
        throw new ParameterException(
            spec.commandLine(),
            "--copy-out "
                + c.volume()
                + "="
                + dir
                + ": must be a missing or empty directory, so that nothing is overwritten");
      }
    }
  }

  /** The task the options describe; checked before any driver is opened. */
  private Task task() {
    if (cpuShares < 0) {
      throw new ParameterException(
          spec.commandLine(), "--cpu-shares must be 0 (no limit) or positive, was " + cpuShares);
    }
    Task.Builder b =
        Task.builder()
            .id(taskId != null ? taskId : Namespaces.fresh("run"))
            .command(command)
            .env(KeyValue.toMap(env))
            .mounts(mounts)
            .limits(new ContainerLimits(cpuShares, memoryBytes))
            .privileged(privileged);
    if (image != null) {
      b.image(image);
    }
    if (user != null) {
      b.user(user);
    }
    if (workDir != null) {
      b.workDir(workDir);
    }
    if (stdio.inPiped() && !noStdin) {
      b.stdin(stdio.in());
    }
    return b.build();
  }
}
