package dev.orchestra.tck;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What one broken driver proves: the kit test class that runs it (a {@link DriverTck} or {@link
 * ReliabilityTck} subclass wrapping the broken driver) and exactly the tests it must fail, each
 * with a fragment of the failure's message (its cause chain included) that states why.
 *
 * <pre>{@code
 * Proof.of(ExitCodeAlwaysZero.class)
 *     .fails(ExitCodes.class, "exactExitCode", "[exit code] expected: 3 but was: 0")
 * }</pre>
 *
 * <p>{@link ProofRunner} runs the groups of the expected failures in full and one sentinel test of
 * every other group of the kit, and checks that the failed tests are exactly these, each for its
 * reason. A proof whose failures are slow timeouts may run {@link #onlyExpected() only} its
 * expected tests and the sentinels.
 */
final class Proof {

  /**
   * A test the broken driver must fail, and the fragments one of which its failure's message chain
   * must contain (whitespace runs compare as one space).
   *
   * @param group the kit's {@code @Nested} group class, such as {@code DriverTck.ExitCodes}
   * @param test the test method's name (every invocation of a parameterized test that fails must
   *     hold a fragment; at least one must fail)
   * @param reasons the stated reason; more than one only where the moment decides which of the
   *     test's assertions trips first
   */
  record Failure(Class<?> group, String test, List<String> reasons) {

    /** The test as the coverage table and the messages name it: {@code ExitCodes.exactExitCode}. */
    String name() {
      return group.getSimpleName() + "." + test;
    }
  }

  private final Class<? extends KitBase> kit;
  private final List<Failure> failures = new ArrayList<>();
  private boolean onlyExpected;
  private boolean sequential;

  private Proof(Class<? extends KitBase> kit) {
    this.kit = Objects.requireNonNull(kit, "kit");
  }

  /** The proof of the broken driver that the kit test class wraps. */
  static Proof of(Class<? extends KitBase> kit) {
    return new Proof(kit);
  }

  /** The broken driver must fail this test of the group, with a message holding the reason. */
  Proof fails(Class<?> group, String test, String reason) {
    return add(new Failure(group, test, List.of(reason)));
  }

  /**
   * The broken driver must fail this test of the group, with a message holding one of the reasons:
   * for a test whose assertion that trips first depends on the moment the broken call returns.
   */
  Proof failsEither(Class<?> group, String test, String reason, String otherReason) {
    return add(new Failure(group, test, List.of(reason, otherReason)));
  }

  private Proof add(Failure f) {
    if (failures.stream().anyMatch(other -> other.name().equals(f.name()))) {
      throw new IllegalArgumentException(kit.getSimpleName() + " fails " + f.name() + " twice");
    }
    failures.add(f);
    return this;
  }

  /**
   * Runs only the expected tests (and the sentinels of the other groups), not their groups in full:
   * for a broken driver whose failures are slow, such as waits that run into their timeout.
   */
  Proof onlyExpected() {
    onlyExpected = true;
    return this;
  }

  /**
   * Runs the tests one at a time: for a broken driver that mixes up what concurrent tests do (such
   * as volumes shared across namespaces), whose failures would otherwise depend on timing.
   */
  Proof sequential() {
    sequential = true;
    return this;
  }

  boolean runsSequentially() {
    return sequential;
  }

  Class<? extends KitBase> kit() {
    return kit;
  }

  List<Failure> failures() {
    return Collections.unmodifiableList(failures);
  }

  boolean runsOnlyExpected() {
    return onlyExpected;
  }

  /** The groups of the expected failures, in the order first named. */
  Set<Class<?>> groups() {
    Set<Class<?>> groups = new LinkedHashSet<>();
    failures.forEach(f -> groups.add(f.group()));
    return groups;
  }

  /** The broken driver's name: its kit test class's simple name. */
  String name() {
    return kit.getSimpleName();
  }

  @Override
  public String toString() {
    return name()
        + " fails "
        + String.join(", ", failures.stream().map(Failure::name).toList())
        + (onlyExpected ? " (only these run)" : "")
        + (sequential ? " (one at a time)" : "");
  }
}
