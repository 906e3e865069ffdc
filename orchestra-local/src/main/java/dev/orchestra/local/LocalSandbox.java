package dev.orchestra.local;

import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.Sandbox;
import dev.orchestra.Task;
import dev.orchestra.spi.Exceptions;
import dev.orchestra.spi.Names;
import dev.orchestra.spi.Steps;
import dev.orchestra.spi.TaskPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A sandbox of the local driver: a main process in a task directory, and steps that run as
 * processes of their own in that same directory.
 *
 * <p>A step runs in the sandbox's task directory ({@code <task root>/work}, or the step's {@code
 * workDir} inside it), with the sandbox's environment plus its own, its own standard input, and its
 * output in {@code <task root>/steps/<safe step id>/}. Steps are not descendants of the main
 * process: removing the sandbox removes each of them first.
 */
final class LocalSandbox implements Sandbox {

  private static final Logger LOG = LoggerFactory.getLogger(LocalSandbox.class);

  private final LocalContainer main;
  private final String namespace;
  private final Consumer<Task> checkOptions;
  private final ConcurrentHashMap<String, LocalContainer> steps = new ConcurrentHashMap<>();

  /** Shared by exec, which starts steps; exclusive for removal, which ends them all. */
  private final ReadWriteLock lock = new ReentrantReadWriteLock();

  /** Set once the steps are removed; guarded by {@link #lock}. */
  private boolean removed;

  /**
   * The sandbox around a started container.
   *
   * @param main the main process
   * @param namespace the namespace, for messages
   * @param checkOptions warns about the options of a step the driver ignores
   */
  LocalSandbox(LocalContainer main, String namespace, Consumer<Task> checkOptions) {
    this.main = main;
    this.namespace = namespace;
    this.checkOptions = checkOptions;
  }

  @Override
  public Container container() {
    return main;
  }

  /**
   * Starts the step, or returns it if a step of that id runs or ran in this sandbox and was not
   * cleaned up.
   */
  @Override
  public Container exec(Task step) {
    Steps.requireStep(step);
    LOG.debug("exec {} in sandbox '{}' of namespace '{}'", step, main.taskId(), namespace);
    checkOptions.accept(step);
    Lock shared = lock.readLock();
    lockInterruptibly(shared, step);
    try {
      if (removed) {
        throw new IllegalStateException(
            "sandbox '" + main.taskId() + "' of namespace '" + namespace + "' was closed");
      }
      // A known step is the same container (started, or started now if an interrupted exec left
      // it unstarted); only a new step needs a running sandbox.
      ContainerStatus status = steps.containsKey(step.id()) ? null : main.status();
      if (status != null && status.isDone()) {
        throw new IllegalStateException(
            "sandbox '"
                + main.taskId()
                + "' of namespace '"
                + namespace
                + "' has ended: its main process ended "
                + status);
      }
      LocalContainer container = steps.computeIfAbsent(step.id(), this::newStep);
      container.ensureStarted(() -> layOut(step));
      return container;
    } finally {
      shared.unlock();
    }
  }

  private LocalContainer newStep(String stepId) {
    return new LocalContainer(
        stepId,
        "step '" + stepId + "' of sandbox '" + main.taskId() + "' of namespace '" + namespace + "'",
        main.root().resolve("steps").resolve(Names.safe(stepId)),
        gone -> steps.remove(stepId, gone));
  }

  private LocalContainer.Launch layOut(Task step) throws java.io.IOException {
    LocalContainer.Launch sandbox =
        main.launch()
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "sandbox '" + main.taskId() + "' of namespace '" + namespace + "' ended"));
    Path taskDir = main.root().resolve(LocalDriver.TASK_DIR);
    Path workDir = TaskPaths.resolve(taskDir, "workDir", step.workDir().orElse("."));
    Files.createDirectories(workDir);
    Map<String, String> env = new LinkedHashMap<>(sandbox.env());
    env.putAll(step.env());
    return new LocalContainer.Launch(step.command(), workDir, env, step.stdin(), step.timeout());
  }

  /**
   * Ends and removes every step, and refuses new ones from then on. Called by the main container's
   * cleanup, before it ends the main process.
   *
   * @throws OrchestraException if a step cannot be removed (each failure logged at WARN)
   * @throws OrchestraInterruptedException if interrupted while waiting
   */
  void removeSteps() {
    Lock exclusive = lock.writeLock();
    try {
      exclusive.lockInterruptibly();
    } catch (InterruptedException e) {
      throw Exceptions.launder("removing the steps of sandbox '" + main.taskId() + "'", e);
    }
    try {
      removed = true;
      List<OrchestraException> failures = new ArrayList<>();
      for (LocalContainer step : List.copyOf(steps.values())) {
        try {
          step.cleanup();
        } catch (OrchestraInterruptedException e) {
          throw e;
        } catch (OrchestraException e) {
          LOG.warn(
              "removing sandbox '{}' of namespace '{}': {}",
              main.taskId(),
              namespace,
              e.getMessage());
          failures.add(e);
        }
      }
      if (!failures.isEmpty()) {
        OrchestraException e =
            new OrchestraException(
                "removing the steps of sandbox '"
                    + main.taskId()
                    + "' of namespace '"
                    + namespace
                    + "' failed: "
                    + failures.stream()
                        .map(OrchestraException::getMessage)
                        .collect(Collectors.joining("; ")));
        failures.forEach(e::addSuppressed);
        throw e;
      }
    } finally {
      exclusive.unlock();
    }
  }

  private void lockInterruptibly(Lock lock, Task step) {
    try {
      lock.lockInterruptibly();
    } catch (InterruptedException e) {
      throw Exceptions.launder(
          "starting step '" + step.id() + "' in sandbox '" + main.taskId() + "'", e);
    }
  }

  /** The same as {@code container().cleanup()}: steps, main process and task directory go. */
  @Override
  public void close() {
    main.cleanup();
  }

  @Override
  public String toString() {
    return "LocalSandbox[" + main + ", " + steps.size() + " step(s)]";
  }
}
