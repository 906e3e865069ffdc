package dev.orchestra.tck;

import dev.orchestra.Container;
import dev.orchestra.Driver;
import dev.orchestra.OrchestraException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;

/**
 * The reliability kit of Orchestra drivers: the contract when things go wrong. Faults behind the
 * driver's back, load from many threads, hostile and bad input, interruption of every blocking
 * call, and big or interleaved output; after every test, nothing of its namespaces is left on the
 * platform, on disk or as a process.
 *
 * <p>A driver proves itself with one test class, beside its {@link DriverTck} run:
 *
 * <pre>{@code
 * class AcmeReliabilityTest extends ReliabilityTck {
 *   @Override
 *   protected Driver newDriver(String namespace) {
 *     return Orchestra.open("acme", namespace);
 *   }
 *
 *   @Override
 *   protected List<String> leftovers(String namespace) {
 *     return acmeClient.listEverythingLabelled(namespace);    // containers, volumes, files, ...
 *   }
 *
 *   @Override
 *   protected void removeContainerBehindDriver(String namespace, String taskId, Container c) {
 *     acmeClient.forceRemove(c.id());
 *   }
 * }
 * }</pre>
 *
 * <p>Where the line runs between the two kits: {@link DriverTck} checks the contract on a quiet
 * platform, one rule at a time, with input a caller means to give. This kit checks behaviour under
 * faults, load and hostile input: the platform changing or stalling behind the driver's back, many
 * threads at once, names and paths that reach outside the driver's area or fold together, and every
 * blocking call interrupted. All the tests of bad input ({@link HostileInput}) and of interruption
 * ({@link Interruption}) are here.
 *
 * <p>The hooks a driver's test class overrides are those of {@link KitBase}, which both kits share,
 * and those of this class: {@link #leftovers(String)} (required) and the optional ones below.
 *
 * <p>The tests are grouped in {@code @Nested} classes: {@link Load}, {@link Interference}, {@link
 * HostileInput}, {@link Interruption}, {@link BigOutput} and {@link UnresponsivePlatform}. Each
 * test opens drivers for fresh namespaces ({@code rel-} and random characters), closes them at the
 * end, even when it fails, and then checks {@link #leftovers(String)} of every namespace it used:
 * anything listed fails the test. Tests share nothing and may run in parallel.
 *
 * <p>Interference needs the platform: a driver that does not override {@link
 * #removeContainerBehindDriver} or {@link #removeVolumeBehindDriver} has those tests skipped with
 * the reason. So does an unresponsive platform: a driver that reaches its platform over TCP
 * overrides {@link #platformEndpoint()} and {@link #newDriverThrough}, and the kit puts a {@link
 * FaultProxy} in between, which it then makes stop answering; other drivers have those tests
 * skipped with the reason. The load test's random choices come from a seed printed in every
 * failure; {@code -Dorchestra.reliability.seed=<seed>} replays it. The big output test writes
 * {@link #bigOutputBytes()} (10^9 by default) and is skipped with the reason unless the JVM's heap
 * is at most {@value #SMALL_HEAP_MIB} MiB, where output held in memory would fail it: run this
 * class with {@code -Xmx64m}.
 *
 * <p>Timeouts are those of both kits ({@link #testTimeout()}, {@link #awaitTimeout()}): {@code
 * orchestra.tck.timeout} per test, {@code orchestra.tck.await} per wait for a task's state.
 */
public abstract class ReliabilityTck extends KitBase {

  /** System property: the seed of the load test's random choices, to replay a failed run. */
  public static final String SEED_PROPERTY = "orchestra.reliability.seed";

  /** The largest heap, in MiB, under which the big output test proves output is streamed. */
  public static final int SMALL_HEAP_MIB = 256;

  /** For subclasses. */
  protected ReliabilityTck() {}

  /**
   * What of a namespace is still there, on the platform (containers, volumes), on disk (task
   * directories, log files, client-side buffers) and as processes. Called after every driver of the
   * namespace was closed: it must then be empty.
   *
   * @param namespace a namespace a test used
   * @return one human-readable line per leftover; empty when nothing is left
   */
  protected abstract List<String> leftovers(String namespace);

  /**
   * Removes a task's container from the platform behind the driver's back, as an operator's {@code
   * docker rm -f} or a disk cleaner would: the driver must then answer with clear errors or a done
   * status, never hang, and still close.
   *
   * @param namespace the task's namespace
   * @param taskId the task's id
   * @param container the driver's handle of it
   * @throws UnsupportedOperationException by default: the tests that need it are skipped
   */
  protected void removeContainerBehindDriver(String namespace, String taskId, Container container) {
    throw new UnsupportedOperationException("removeContainerBehindDriver is not implemented");
  }

  /**
   * Removes a volume from the platform behind the driver's back.
   *
   * @param namespace the volume's namespace
   * @param volumeName the caller's name of the volume
   * @throws UnsupportedOperationException by default: the tests that need it are skipped
   */
  protected void removeVolumeBehindDriver(String namespace, String volumeName) {
    throw new UnsupportedOperationException("removeVolumeBehindDriver is not implemented");
  }

  /**
   * Where the platform's API listens, for the {@link UnresponsivePlatform} tests: the kit runs a
   * {@link FaultProxy} in front of it and opens drivers through the proxy with {@link
   * #newDriverThrough}.
   *
   * @return the platform's TCP endpoint; empty by default: those tests are skipped with the reason
   */
  protected Optional<InetSocketAddress> platformEndpoint() {
    return Optional.empty();
  }

  /**
   * Opens the driver under test for a namespace, so that it reaches its platform only through the
   * given address (a {@link FaultProxy} in front of {@link #platformEndpoint()}), with its timeouts
   * set so that no call waits longer than {@link #unresponsivePlatformBound()} on a platform that
   * stopped answering. The kit closes every driver it opened.
   *
   * @param namespace {@code rel-} and random lower-case letters and digits
   * @param proxy the address to reach the platform through
   * @return the driver; empty by default: the {@link UnresponsivePlatform} tests are skipped with
   *     the reason
   */
  protected Optional<Driver> newDriverThrough(String namespace, InetSocketAddress proxy) {
    return Optional.empty();
  }

  /**
   * The most any call of a driver opened by {@link #newDriverThrough} may take once its platform
   * accepts connections and never answers, or freezes in the middle of a stream: the call must then
   * end, returning or throwing an {@link OrchestraException}, within this bound (a timed {@code
   * await(d)} within {@code d} plus this bound).
   *
   * @return 60 seconds by default
   */
  protected Duration unresponsivePlatformBound() {
    return Duration.ofSeconds(60);
  }

  /**
   * The directories where the driver legitimately creates files named after task ids or volume
   * names (its root directory, say). The hostile input tests search the temporary directory and the
   * working directory, outside these, for anything a hostile name created.
   *
   * @return the driver's own areas on this machine's file system; empty by default
   */
  protected Set<Path> driverAreas() {
    return Set.of();
  }

  /**
   * What a driver of host processes leaves in a directory it owns: the files below {@code dir} (the
   * first 20) and every process whose working directory lies in it (read from {@code
   * /proc/<pid>/cwd}, so a deleted directory counts too). A {@link #leftovers} of such a driver can
   * return it for its namespace's directory.
   *
   * @param dir the directory, which may not exist
   * @return one line per file or process left, empty when nothing is
   */
  protected static List<String> filesAndProcessesIn(Path dir) {
    List<String> left = new ArrayList<>();
    if (Files.exists(dir)) {
      try (Stream<Path> files = Files.walk(dir)) {
        files.limit(20).forEach(p -> left.add("file " + p));
      } catch (IOException | UncheckedIOException e) {
        left.add("directory " + dir + " (unreadable: " + e + ")");
      }
    }
    ProcessHandle.allProcesses()
        .filter(p -> workingDirectory(p).startsWith(dir.toString()))
        .forEach(p -> left.add("process " + p.pid() + " " + p.info().commandLine().orElse("?")));
    return left;
  }

  private static String workingDirectory(ProcessHandle p) {
    try {
      return Files.readSymbolicLink(Path.of("/proc", Long.toString(p.pid()), "cwd")).toString();
    } catch (IOException | UnsupportedOperationException e) {
      return "";
    }
  }

  /**
   * How many bytes the big output test has a task write to stdout and reads back through {@link
   * Container#logs}.
   *
   * @return 10^9 by default
   */
  protected long bigOutputBytes() {
    return 1_000_000_000L;
  }

  /**
   * How many tasks the load test runs.
   *
   * @return 200 by default
   */
  protected int loadTasks() {
    return 200;
  }

  /**
   * From how many threads the load test calls the driver.
   *
   * @return 8 by default
   */
  protected int loadThreads() {
    return 8;
  }

  // ---------------------------------------------------------------------------------------------
  // The groups: each one's rules are in its own file, <Group>Rules.java
  // ---------------------------------------------------------------------------------------------

  /** Many tasks from many threads, every call in a random order, then close(): nothing lost. */
  @Nested
  @DisplayName("load")
  public class Load extends LoadRules {

    /** For JUnit. */
    public Load() {
      super(ReliabilityTck.this);
    }
  }

  /** The platform changed behind the driver's back: clear errors or done, never a hang. */
  @Nested
  @DisplayName("external interference")
  public class Interference extends InterferenceRules {

    /** For JUnit. */
    public Interference() {
      super(ReliabilityTck.this);
    }
  }

  /**
   * Bad and hostile input: refused clearly and leaving nothing behind, or working and never
   * colliding.
   */
  @Nested
  @DisplayName("hostile input")
  public class HostileInput extends HostileInputRules {

    /** For JUnit. */
    public HostileInput() {
      super(ReliabilityTck.this);
    }
  }

  /** Every blocking call answers Thread.interrupt() promptly and leaves nothing half-made. */
  @Nested
  @DisplayName("interruption")
  public class Interruption extends InterruptionRules {

    /** For JUnit. */
    public Interruption() {
      super(ReliabilityTck.this);
    }
  }

  /** Big output and both streams at full speed: streamed, byte-exact. */
  @Nested
  @DisplayName("big output")
  public class BigOutput extends BigOutputRules {

    /** For JUnit. */
    public BigOutput() {
      super(ReliabilityTck.this);
    }
  }

  /**
   * A platform that stops answering: every call ends within {@link #unresponsivePlatformBound()},
   * and once the platform answers again nothing is left.
   */
  @Nested
  @DisplayName("unresponsive platform")
  public class UnresponsivePlatform extends UnresponsivePlatformRules {

    /** For JUnit. */
    public UnresponsivePlatform() {
      super(ReliabilityTck.this);
    }
  }
}
