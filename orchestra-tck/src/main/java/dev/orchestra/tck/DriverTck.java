package dev.orchestra.tck;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.ExitReason;
import dev.orchestra.Task;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;

/**
 * The technology compatibility kit of Orchestra drivers: every rule of the driver contract as a
 * JUnit 5 test, on a quiet platform.
 *
 * <p>A driver proves itself with one test class:
 *
 * <pre>{@code
 * class AcmeDriverTckTest extends DriverTck {
 *   @Override
 *   protected Driver newDriver(String namespace) {
 *     return Orchestra.open("acme", namespace);
 *   }
 * }
 * }</pre>
 *
 * <p>Where the line runs between the two kits: this kit checks what a driver promises when nothing
 * goes wrong, one rule at a time, on a platform that answers and with input a caller means to give.
 * {@link ReliabilityTck} checks the same promises under faults (the platform changed behind the
 * driver's back, or stopped answering), under load, against hostile and bad input (names that reach
 * outside, fold together or cannot be carried), and when the caller's thread is interrupted: the
 * tests of interruption and of bad input are all there. A driver runs both kits.
 *
 * <p>The tests are grouped by concern in {@code @Nested} classes ({@link HappyPath}, {@link
 * ExitCodes}, {@link Logs}, ...). Each test opens a driver for a fresh namespace of its own ({@code
 * tck-} and random characters) before it runs, and closes every driver it opened afterwards, even
 * when it fails. Tests share nothing, so they may run in parallel: enable JUnit's parallel
 * execution ({@code junit.jupiter.execution.parallel.enabled=true} with mode {@code concurrent}) to
 * shorten a run against a slow platform.
 *
 * <p>The hooks a driver's test class may override are those of {@link KitBase}, which both kits
 * share, {@link #platformVariables()} and {@link #appliedCpuShares}. Every task uses {@link
 * #image()} ({@code busybox} unless overridden) and only commands that both a Linux host and
 * busybox offer ({@code sh -c}, {@code echo}, {@code printf}, {@code cat}, {@code head}, {@code
 * yes}, {@code env}, {@code pwd}, {@code sleep}, {@code kill}, {@code id}, {@code test}, {@code
 * mkdir}, and the shell's {@code trap}).
 *
 * <p>Timeouts: each test, {@code @BeforeEach} and {@code @AfterEach} method must finish within
 * {@link #testTimeout()}, the system property {@code orchestra.tck.timeout} (an ISO-8601 duration
 * such as {@code PT2M} or a number of seconds; default 2 minutes). Each wait for a task's state
 * gives up after {@link #awaitTimeout()}, the system property {@code orchestra.tck.await} (same
 * format; default 60 seconds). A test that times out fails with a {@link
 * java.util.concurrent.TimeoutException} whose stack trace shows where it was stuck.
 *
 * <p>Optional behaviour is declared by {@link Driver#capabilities()}: the tests of a capability the
 * driver lacks are aborted with the reason ({@code driver 'local' does not declare capability
 * USER}), so that they are reported as skipped, never as passed. The task options have their tests
 * in {@link Capabilities}, which observe each option rather than trust the declaration: a task over
 * its memory limit must not succeed, a privileged task must have privileges a plain one has not,
 * and the CPU shares are read back through {@link #appliedCpuShares}; what a test cannot observe is
 * aborted with a reason starting "not verified: "; the task lifecycle has one group per capability:
 * {@link Follow} ({@link Capability#FOLLOW}), {@link Stop} ({@link Capability#STOP}), {@link
 * Timeouts} ({@link Capability#TIMEOUT}), {@link Reattach} ({@link Capability#REATTACH}), {@link
 * Sandboxes} ({@link Capability#SANDBOX}) and {@link VolumeData} ({@link Capability#VOLUME_DATA}).
 * {@link Await} and {@link ExitReasons} need no capability: {@link Container#await}, {@link
 * Container#onExit} and {@link ContainerStatus#reason()} have defaults every driver inherits.
 *
 * <p>Stop and timeout follow one rule: a task asked to end (by {@link Container#stop}, {@link
 * Container#cleanup} or its {@link Task#timeout()}) reads {@link ExitReason#STOPPED} (or {@link
 * ExitReason#TIMED_OUT}) whatever its exit code, also when it trapped SIGTERM and exited 0 by
 * itself; a task that dies of a signal nobody asked the driver to send reads {@link
 * ExitReason#SIGNALED}. The task's own process is asked first: a shell that traps SIGTERM while it
 * waits for a background child must run its trap, not see its child end and exit before its own
 * SIGTERM arrives. Every duration the API takes may be too long to count ({@code
 * ChronoUnit.FOREVER}) and then means no limit.
 *
 * <p>When the environment variable {@value #CALLER_MARKER} is set in the JVM running the TCK, the
 * environment tests also check that it does not reach any task.
 */
public abstract class DriverTck extends KitBase {

  /**
   * An environment variable that, when set for the JVM running the TCK, must not be visible to any
   * task: the build sets it to prove that the caller's environment does not leak.
   */
  public static final String CALLER_MARKER = "ORCHESTRA_TCK_CALLER_MARKER";

  /** For subclasses. */
  protected DriverTck() {}

  /**
   * The environment variables the platform itself sets in every task, which may hold the same value
   * in the caller's environment without having leaked from it. The leak test ignores them.
   *
   * @return variable names; by default {@code PATH}, {@code HOME}, {@code HOSTNAME}, {@code PWD},
   *     {@code OLDPWD}, {@code SHLVL}, {@code TERM}, {@code _}, {@code USER}, {@code LOGNAME},
   *     {@code SHELL}, {@code LANG}, {@code LC_ALL}
   */
  protected Set<String> platformVariables() {
    return Set.of(
        "PATH",
        "HOME",
        "HOSTNAME",
        "PWD",
        "OLDPWD",
        "SHLVL",
        "TERM",
        "_",
        "USER",
        "LOGNAME",
        "SHELL",
        "LANG",
        "LC_ALL");
  }

  /**
   * Reads back the CPU shares the platform applied to a task's container, for the {@link
   * Capability#CPU_LIMIT} test: a task cannot observe its CPU weight on every platform, so the test
   * class asks the platform (Docker: {@code docker inspect}, {@code HostConfig.CpuShares}). Called
   * once the task has ended, before it is cleaned up.
   *
   * <p>Without this hook the test runs its task and is then reported as skipped, "not verified",
   * never as passed.
   *
   * @param container the container of a task that asked for 512 CPU shares, as the driver returned
   *     it
   * @return the shares the platform holds for the container ({@code 0} when it holds none); empty,
   *     the default, when the test class cannot read them
   */
  protected OptionalLong appliedCpuShares(Container container) {
    return OptionalLong.empty();
  }

  /**
   * Declares that the platform kills a task over its memory limit without reporting it as an OOM
   * kill, for the {@link Capability#MEMORY_LIMIT} test: there a task over its limit that never
   * reads {@link dev.orchestra.ExitReason#OOM_KILLED} (but fails, and reads {@code SIGNALED}) is
   * reported as skipped, "not verified" with this reason, never as passed. Give the evidence in the
   * reason; a driver that could report the kill and does not must not use this.
   *
   * @return why the platform cannot report OOM kills; empty, the default, when it can (then a task
   *     that never reads {@code OOM_KILLED} fails the test)
   */
  protected Optional<String> unreportedOomKills() {
    return Optional.empty();
  }

  // ---------------------------------------------------------------------------------------------
  // The groups: each one's rules are in its own file, <Group>Rules.java
  // ---------------------------------------------------------------------------------------------

  /** The scenario every driver must get right first: run a command, read what it printed. */
  @Nested
  @DisplayName("happy path")
  public class HappyPath extends HappyPathRules {

    /** For JUnit. */
    public HappyPath() {
      super(DriverTck.this);
    }
  }

  /** A task's exit code reads exactly what the task's process returned. */
  @Nested
  @DisplayName("exit codes")
  public class ExitCodes extends ExitCodesRules {

    /** For JUnit. */
    public ExitCodes() {
      super(DriverTck.this);
    }
  }

  /** Logs: two streams, byte for byte, from the first byte, as often as asked. */
  @Nested
  @DisplayName("logs")
  public class Logs extends LogsRules {

    /** For JUnit. */
    public Logs() {
      super(DriverTck.this);
    }
  }

  /** A task sees exactly the variables it was given. */
  @Nested
  @DisplayName("environment")
  public class Environment extends EnvironmentRules {

    /** For JUnit. */
    public Environment() {
      super(DriverTck.this);
    }
  }

  /** Standard input: all the bytes, then end of file. */
  @Nested
  @DisplayName("stdin")
  public class Stdin extends StdinRules {

    /** For JUnit. */
    public Stdin() {
      super(DriverTck.this);
    }
  }

  /** Each task runs in a fresh directory of its own, its default working directory. */
  @Nested
  @DisplayName("task directory and workDir")
  public class TaskDirectory extends TaskDirectoryRules {

    /** For JUnit. */
    public TaskDirectory() {
      super(DriverTck.this);
    }
  }

  /** Mount paths are resolved inside the task directory. */
  @Nested
  @DisplayName("mounts")
  public class Mounts extends MountsRules {

    /** For JUnit. */
    public Mounts() {
      super(DriverTck.this);
    }
  }

  /** Named volumes of a namespace. */
  @Nested
  @DisplayName("volumes")
  public class Volumes extends VolumesRules {

    /** For JUnit. */
    public Volumes() {
      super(DriverTck.this);
    }
  }

  /**
   * A volume's data in and out ({@link dev.orchestra.Volume#copyIn}, {@link
   * dev.orchestra.Volume#copyOut}). Requires {@link Capability#VOLUME_DATA}.
   */
  @Nested
  @DisplayName("volume data")
  public class VolumeData extends VolumeDataRules {

    /** For JUnit. */
    public VolumeData() {
      super(DriverTck.this);
    }
  }

  /** close() removes everything of its namespace and nothing else. */
  @Nested
  @DisplayName("close")
  public class Close extends CloseRules {

    /** For JUnit. */
    public Close() {
      super(DriverTck.this);
    }
  }

  /** runContainer is idempotent under concurrency too. */
  @Nested
  @DisplayName("concurrency")
  public class Concurrency extends ConcurrencyRules {

    /** For JUnit. */
    public Concurrency() {
      super(DriverTck.this);
    }
  }

  /** Container.cleanup(): stop, remove, forget. */
  @Nested
  @DisplayName("cleanup")
  public class Cleanup extends CleanupRules {

    /** For JUnit. */
    public Cleanup() {
      super(DriverTck.this);
    }
  }

  /** Optional behaviour, each tested only when the driver declares it. */
  @Nested
  @DisplayName("capabilities")
  public class Capabilities extends CapabilitiesRules {

    /** For JUnit. */
    public Capabilities() {
      super(DriverTck.this);
    }
  }

  /**
   * {@link Container#follow}: the output as it is produced, on two streams, until the task ends.
   * Requires {@link Capability#FOLLOW}.
   */
  @Nested
  @DisplayName("follow")
  public class Follow extends FollowRules {

    /** For JUnit. */
    public Follow() {
      super(DriverTck.this);
    }
  }

  /** {@link Container#await} and {@link Container#onExit}: waiting for the end without polling. */
  @Nested
  @DisplayName("await and onExit")
  public class Await extends AwaitRules {

    /** For JUnit. */
    public Await() {
      super(DriverTck.this);
    }
  }

  /**
   * {@link Container#stop}: SIGTERM, then SIGKILL after the grace period; the status says stopped.
   * Requires {@link Capability#STOP}.
   */
  @Nested
  @DisplayName("stop")
  public class Stop extends StopRules {

    /** For JUnit. */
    public Stop() {
      super(DriverTck.this);
    }
  }

  /**
   * {@link Task#timeout()}: the driver stops a task that runs too long. Requires {@link
   * Capability#TIMEOUT}.
   */
  @Nested
  @DisplayName("timeout")
  public class Timeouts extends TimeoutsRules {

    /** For JUnit. */
    public Timeouts() {
      super(DriverTck.this);
    }
  }

  /** {@link ContainerStatus#reason()} and {@link ContainerStatus#signal()}: why a task ended. */
  @Nested
  @DisplayName("exit reasons")
  public class ExitReasons extends ExitReasonsRules {

    /** For JUnit. */
    public ExitReasons() {
      super(DriverTck.this);
    }
  }

  /**
   * {@link Driver#find}: a new driver instance of the namespace finds a task by its id. Requires
   * {@link Capability#REATTACH}.
   */
  @Nested
  @DisplayName("reattach")
  public class Reattach extends ReattachRules {

    /** For JUnit. */
    public Reattach() {
      super(DriverTck.this);
    }
  }

  /**
   * {@link Driver#createSandbox}: one long-lived container, several steps in its task directory.
   * Requires {@link Capability#SANDBOX}.
   */
  @Nested
  @DisplayName("sandbox")
  public class Sandboxes extends SandboxesRules {

    /** For JUnit. */
    public Sandboxes() {
      super(DriverTck.this);
    }
  }
}
