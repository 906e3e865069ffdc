package dev.orchestra.tck;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectNestedClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectNestedMethod;

import dev.orchestra.Capability;
import dev.orchestra.Driver;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;
import org.junit.platform.testkit.engine.Events;

/**
 * Runs a {@link Proof}: the groups of its expected failures in full (or only the expected tests,
 * for a proof that {@link Proof#onlyExpected() says so}) and the {@linkplain Kit#sentinels()
 * sentinel} of every other group of its kit, through {@link EngineTestKit}; then asserts that
 *
 * <ul>
 *   <li>the failed tests are exactly the expected ones: a sentinel or another test of a group
 *       failing is an error too, as a broken driver that breaks everything proves nothing;
 *   <li>each failure's message chain (messages of the exception, its causes and suppressed ones)
 *       holds the proof's stated reason; the actual chain is shown when it does not;
 *   <li>every skipped (aborted) test was skipped for a capability the broken driver does not
 *       declare, as a declared "not verified: ...", or for a reason the kit {@linkplain
 *       Kit#acceptedSkips() accepts} (a hook the self-test's kit class does not implement).
 * </ul>
 */
final class ProofRunner {

  /**
   * A kit as the self-test knows it.
   *
   * @param entry the kit's entry class ({@link DriverTck} or {@link ReliabilityTck})
   * @param sentinels one fixed, cheap test of each of its groups (all of them, in the entry class's
   *     order), run when a proof does not run the group in full
   * @param acceptedSkips fragments of the skip reasons a self-test kit class may give besides a
   *     missing capability and "not verified: ...": hooks it does not implement
   */
  record Kit(
      Class<? extends KitBase> entry, Map<Class<?>, String> sentinels, List<String> acceptedSkips) {

    /** The kit's groups, in the order of {@link #sentinels()}. */
    List<Class<?>> groups() {
      return List.copyOf(sentinels.keySet());
    }

    /** Every test of every group, as {@code Group.method}, group by group. */
    List<String> tests() {
      return groups().stream()
          .flatMap(g -> testsOf(g).stream().map(m -> g.getSimpleName() + "." + m.getName()))
          .toList();
    }
  }

  /**
   * The contract kit: its sentinels are cheap tests that run a task, chosen so that a broken
   * driver's failures stay in the groups of the rules it breaks.
   */
  static final Kit DRIVER_TCK =
      new Kit(
          DriverTck.class,
          sentinels(
              DriverTck.HappyPath.class, "echoPrintsToStdout",
              DriverTck.ExitCodes.class, "runningTaskIsNotDone",
              DriverTck.Logs.class, "streamsKeptApart",
              DriverTck.Environment.class, "givenVariablesExact",
              DriverTck.Stdin.class, "stringIsUtf8",
              DriverTck.TaskDirectory.class, "taskDirectoryIsFresh",
              DriverTck.Mounts.class, "twoVolumesSeparate",
              DriverTck.Volumes.class, "createAgainKeepsData",
              DriverTck.Close.class, "closeIsIdempotent",
              DriverTck.Concurrency.class, "manyThreadsOneRun",
              DriverTck.Cleanup.class, "statusAfterCleanup",
              DriverTck.Capabilities.class, "user",
              DriverTck.Follow.class, "finishedTask",
              DriverTck.Await.class, "onExitOfFinishedTask",
              DriverTck.Stop.class, "finishedTaskUnchanged",
              DriverTck.Timeouts.class, "unlimitedTimeout",
              DriverTck.ExitReasons.class, "running",
              DriverTck.Reattach.class, "runContainerOfFoundTask",
              DriverTck.Sandboxes.class, "mainProcess",
              DriverTck.VolumeData.class, "taskSeesCopyIn"),
          List.of());

  /**
   * The reliability kit. A kit class of the self-test may leave out the hooks of interference and
   * of an unresponsive platform, and a run in a heap over 256 MB skips the big output test: those
   * skips are accepted, with their reasons.
   */
  static final Kit RELIABILITY_TCK =
      new Kit(
          ReliabilityTck.class,
          sentinels(
              ReliabilityTck.Load.class, "randomInterleavings",
              ReliabilityTck.Interference.class, "finishedContainerRemoved",
              ReliabilityTck.HostileInput.class, "oddTaskIds",
              ReliabilityTck.Interruption.class, "closeInterrupted",
              ReliabilityTck.BigOutput.class, "interleavedStreamsExact",
              ReliabilityTck.UnresponsivePlatform.class, "unansweredRequests"),
          List.of(
              "cannot remove a container behind the driver's back",
              "cannot remove a volume behind the driver's back",
              "the driver cannot be put behind a proxy",
              "to prove the output is streamed"));

  static final List<Kit> KITS = List.of(DRIVER_TCK, RELIABILITY_TCK);

  private static final Pattern UNDECLARED =
      Pattern.compile("does not declare capability ([A-Z_]+)");

  private ProofRunner() {}

  /** The kit a self-test kit class extends. */
  static Kit kitOf(Class<? extends KitBase> kitClass) {
    return KITS.stream()
        .filter(k -> k.entry().isAssignableFrom(kitClass))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException(kitClass + " extends neither kit"));
  }

  /** Runs the proof and fails, saying every way in which it did not hold. */
  static void prove(Proof proof) {
    Kit kit = kitOf(proof.kit());
    checkDeclared(kit, proof);
    Events tests = run(proof.kit(), selectors(kit, proof), proof.runsSequentially());

    List<String> problems = new ArrayList<>();
    Map<String, Proof.Failure> expected = new LinkedHashMap<>();
    proof.failures().forEach(f -> expected.put(f.name(), f));
    Map<String, List<Event>> failed = byTest(tests.failed());
    failed.forEach(
        (test, events) -> {
          Proof.Failure f = expected.get(test);
          if (f == null) {
            events.forEach(e -> problems.add("fails " + test + ", not expected: " + reason(e)));
            return;
          }
          for (Event e : events) {
            String actual = normalized(reason(e));
            if (f.reasons().stream().noneMatch(r -> actual.contains(normalized(r)))) {
              problems.add(
                  "fails "
                      + e.getTestDescriptor().getDisplayName()
                      + " of "
                      + test
                      + " for another reason than \""
                      + String.join("\" or \"", f.reasons())
                      + "\": "
                      + reason(e));
            }
          }
        });
    expected.keySet().stream()
        .filter(test -> !failed.containsKey(test))
        .forEach(test -> problems.add("does not fail " + test + ": " + outcome(tests, test)));
    Set<Capability> declared = null;
    for (Event e : tests.aborted().list()) {
      String why = reason(e);
      Matcher undeclared = UNDECLARED.matcher(why);
      if (undeclared.find()) {
        declared = declared != null ? declared : declaredCapabilities(proof.kit());
        if (!declared.contains(Capability.valueOf(undeclared.group(1)))) {
          continue;
        }
      } else if (why.startsWith("not verified: ")
          || kit.acceptedSkips().stream().anyMatch(why::contains)) {
        continue;
      }
      problems.add("skips " + qualifiedName(e) + " for a reason not accepted: " + why);
    }
    if (!problems.isEmpty()) {
      throw new AssertionError(
          proof.name()
              + " does not prove what it states:\n  "
              + String.join("\n  ", problems)
              + "\nall results: "
              + summary(tests));
    }
  }

  /** Runs the selected tests of a kit class; closes what its broken drivers left open. */
  static Events run(Class<? extends KitBase> kitClass, List<DiscoverySelector> selectors) {
    return run(kitClass, selectors, false);
  }

  /** As {@link #run(Class, List)}, one test at a time if asked. */
  static Events run(
      Class<? extends KitBase> kitClass, List<DiscoverySelector> selectors, boolean sequentially) {
    try {
      EngineTestKit.Builder engine =
          EngineTestKit.engine("junit-jupiter")
              .selectors(selectors.toArray(DiscoverySelector[]::new));
      if (sequentially) {
        engine.configurationParameter("junit.jupiter.execution.parallel.enabled", "false");
      }
      EngineExecutionResults results = engine.execute();
      List<Event> broken = results.containerEvents().failed().list();
      if (!broken.isEmpty()) {
        throw new AssertionError(
            kitClass.getSimpleName()
                + ": a test class failed outside its tests: "
                + broken.stream().map(ProofRunner::reason).collect(Collectors.joining("; ")));
      }
      return results.testEvents();
    } finally {
      BrokenDrivers.closeRealDrivers(kitClass);
    }
  }

  /** The expected groups (or tests) and the sentinel of every other group. */
  static List<DiscoverySelector> selectors(Kit kit, Proof proof) {
    List<Class<?>> enclosing = List.of(proof.kit());
    List<DiscoverySelector> selectors = new ArrayList<>();
    for (Class<?> group : kit.groups()) {
      if (!proof.groups().contains(group)) {
        selectors.add(
            selectNestedMethod(enclosing, group, method(group, kit.sentinels().get(group))));
      } else if (proof.runsOnlyExpected()) {
        proof.failures().stream()
            .filter(f -> f.group() == group)
            .forEach(
                f -> selectors.add(selectNestedMethod(enclosing, group, method(group, f.test()))));
        String sentinel = kit.sentinels().get(group);
        if (proof.failures().stream()
            .noneMatch(f -> f.group() == group && f.test().equals(sentinel))) {
          selectors.add(selectNestedMethod(enclosing, group, method(group, sentinel)));
        }
      } else {
        selectors.add(selectNestedClass(enclosing, group));
      }
    }
    return selectors;
  }

  /** Every test method of a group (declared in its rules), by name. */
  static List<Method> testsOf(Class<?> group) {
    return Stream.<Class<?>>iterate(group, c -> c != null, Class::getSuperclass)
        .flatMap(c -> Stream.of(c.getDeclaredMethods()))
        .filter(
            m ->
                m.isAnnotationPresent(Test.class) || m.isAnnotationPresent(ParameterizedTest.class))
        .sorted(Comparator.comparing(Method::getName))
        .toList();
  }

  private static Method method(Class<?> group, String test) {
    return testsOf(group).stream()
        .filter(m -> m.getName().equals(test))
        .findFirst()
        .orElseThrow(
            () -> new IllegalArgumentException(group.getSimpleName() + " has no test " + test));
  }

  /** Fails when a proof names a group of another kit or a test its group does not have. */
  private static void checkDeclared(Kit kit, Proof proof) {
    if (proof.failures().isEmpty()) {
      throw new IllegalArgumentException(proof.name() + " states no failure");
    }
    for (Proof.Failure f : proof.failures()) {
      if (!kit.groups().contains(f.group())) {
        throw new IllegalArgumentException(
            proof.name() + ": " + f.group().getName() + " is no group of " + kit.entry().getName());
      }
      method(f.group(), f.test());
    }
  }

  /** The capabilities the broken driver declares, asked of a driver it opens for the purpose. */
  private static Set<Capability> declaredCapabilities(Class<? extends KitBase> kitClass) {
    try {
      KitBase kit = kitClass.getDeclaredConstructor().newInstance();
      try (Driver d =
          kit.newDriver("selftest-capabilities-" + ThreadLocalRandom.current().nextInt(1 << 30))) {
        EnumSet<Capability> declared = EnumSet.noneOf(Capability.class);
        declared.addAll(d.capabilities());
        return declared;
      }
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot make " + kitClass.getName(), e);
    } finally {
      BrokenDrivers.closeRealDrivers(kitClass);
    }
  }

  private static Map<String, List<Event>> byTest(Events events) {
    return events.stream()
        .collect(
            Collectors.groupingBy(ProofRunner::qualifiedName, TreeMap::new, Collectors.toList()));
  }

  /** What became of a test that was expected to fail: passed, skipped (why) or not run. */
  private static String outcome(Events tests, String test) {
    List<String> outcomes =
        tests.stream()
            .filter(e -> e.getPayload(TestExecutionResult.class).isPresent())
            .filter(e -> qualifiedName(e).equals(test))
            .map(ProofRunner::describe)
            .toList();
    return outcomes.isEmpty() ? "it did not run" : String.join("; ", outcomes);
  }

  /** The test's group and method, such as {@code Follow.firstLineBeforeEnd}. */
  static String qualifiedName(Event e) {
    return e.getTestDescriptor()
        .getSource()
        .filter(MethodSource.class::isInstance)
        .map(MethodSource.class::cast)
        .map(m -> m.getJavaClass().getSimpleName() + "." + m.getMethodName())
        .orElseGet(() -> e.getTestDescriptor().getDisplayName());
  }

  /** The message chain of the event's exception, or "no exception". */
  static String reason(Event e) {
    return e.getPayload(TestExecutionResult.class)
        .flatMap(TestExecutionResult::getThrowable)
        .map(ProofRunner::chain)
        .orElse("no exception");
  }

  /** The messages of an exception, its causes and its suppressed exceptions, in one line. */
  static String chain(Throwable t) {
    StringBuilder s = new StringBuilder();
    chain(t, s, 0);
    return s.toString();
  }

  private static void chain(Throwable t, StringBuilder s, int depth) {
    if (t == null || depth > 20) {
      return;
    }
    if (!s.isEmpty()) {
      s.append(" | ");
    }
    s.append(t.getClass().getSimpleName()).append(": ").append(t.getMessage());
    for (Throwable suppressed : t.getSuppressed()) {
      chain(suppressed, s, depth + 1);
    }
    if (t.getCause() != t) {
      chain(t.getCause(), s, depth + 1);
    }
  }

  private static String normalized(String s) {
    return s.replaceAll("\\s+", " ");
  }

  static String summary(Events events) {
    return events.stream()
        .filter(e -> e.getPayload(TestExecutionResult.class).isPresent())
        .map(ProofRunner::describe)
        .collect(Collectors.joining("\n  ", "\n  ", ""));
  }

  private static String describe(Event e) {
    TestExecutionResult r = e.getRequiredPayload(TestExecutionResult.class);
    return qualifiedName(e)
        + " ["
        + e.getTestDescriptor().getDisplayName()
        + "]: "
        + r.getStatus()
        + r.getThrowable().map(t -> " (" + chain(t) + ")").orElse("");
  }

  /** Group and sentinel pairs, in order; every group of the kit must be there. */
  private static Map<Class<?>, String> sentinels(Object... groupsAndTests) {
    Map<Class<?>, String> sentinels = new LinkedHashMap<>();
    for (int i = 0; i < groupsAndTests.length; i += 2) {
      Class<?> group = (Class<?>) groupsAndTests[i];
      String test = (String) groupsAndTests[i + 1];
      method(group, test);
      sentinels.put(group, test);
    }
    Class<?> entry = ((Class<?>) groupsAndTests[0]).getEnclosingClass();
    Set<String> nested =
        Stream.of(entry.getDeclaredClasses())
            .filter(
                c -> c.isAnnotationPresent(Nested.class) && !Modifier.isStatic(c.getModifiers()))
            .map(Class::getSimpleName)
            .collect(Collectors.toCollection(TreeSet::new));
    Set<String> named =
        sentinels.keySet().stream()
            .map(Class::getSimpleName)
            .collect(Collectors.toCollection(TreeSet::new));
    if (!nested.equals(named)) {
      throw new IllegalStateException(
          "the sentinels of "
              + entry.getSimpleName()
              + " name "
              + named
              + ", its groups are "
              + nested);
    }
    return sentinels;
  }
}
