package dev.orchestra.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.TestExecutionResult.Status;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

/**
 * Prints a TCK run as it goes, one line per test (passed, failed or skipped, with the reason), and
 * counts the outcomes for the summary.
 *
 * <p>A test aborted by a failed assumption (a capability the driver lacks) counts as skipped. A
 * group that fails as a whole (its set-up threw) counts as one failure.
 */
final class TckReport implements TestExecutionListener {

  /** Longer reasons are cut: the line is a summary, --debug shows the whole failure. */
  private static final int MAX_REASON = 400;

  private final PrintWriter out;
  private final boolean stackTraces;
  private final List<String> failures = new ArrayList<>();
  private TestPlan plan;
  private int passed;
  private int failed;
  private int skipped;

  /**
   * Creates the report.
   *
   * @param out where the lines go
   * @param stackTraces whether a failure shows its whole stack trace rather than its message
   */
  TckReport(PrintWriter out, boolean stackTraces) {
    this.out = out;
    this.stackTraces = stackTraces;
  }

  int passed() {
    return passed;
  }

  int failed() {
    return failed;
  }

  int skipped() {
    return skipped;
  }

  /**
   * The names of the tests that failed, in the order they finished.
   *
   * @return the failed tests' names
   */
  List<String> failures() {
    return List.copyOf(failures);
  }

  @Override
  public void testPlanExecutionStarted(TestPlan testPlan) {
    plan = testPlan;
  }

  @Override
  public void executionSkipped(TestIdentifier id, String reason) {
    long tests =
        id.isTest() ? 1 : plan.getDescendants(id).stream().filter(TestIdentifier::isTest).count();
    skipped += (int) tests;
    line("SKIP", id, reason + (id.isTest() ? "" : " (" + tests + " tests)"));
  }

  @Override
  public void executionFinished(TestIdentifier id, TestExecutionResult result) {
    Status status = result.getStatus();
    if (!id.isTest() && status == Status.SUCCESSFUL) {
      return;
    }
    String reason = result.getThrowable().map(TckReport::reason).orElse("");
    switch (status) {
      case SUCCESSFUL -> {
        passed++;
        line("PASS", id, "");
      }
      case ABORTED -> {
        skipped++;
        line("SKIP", id, reason);
      }
      case FAILED -> {
        failed++;
        failures.add(name(id));
        line("FAIL", id, reason);
        if (stackTraces) {
          result.getThrowable().ifPresent(t -> t.printStackTrace(out));
        }
      }
    }
    out.flush();
  }

  private void line(String outcome, TestIdentifier id, String reason) {
    out.printf("%s  %s%s%n", outcome, name(id), reason.isEmpty() ? "" : ": " + reason);
    out.flush();
  }

  /** The test's display name under its groups, for example {@code Logs > binary output}. */
  private String name(TestIdentifier id) {
    List<String> parts = new ArrayList<>();
    for (Optional<TestIdentifier> at = Optional.of(id);
        at.isPresent();
        at = plan.getParent(at.get())) {
      TestIdentifier node = at.get();
      // The engine and the test class itself add nothing the reader needs.
      if (plan.getParent(node).flatMap(plan::getParent).isPresent()) {
        parts.add(0, node.getDisplayName());
      }
    }
    return parts.isEmpty() ? id.getDisplayName() : String.join(" > ", parts);
  }

  private static String reason(Throwable t) {
    String reason = Main.oneLine(t);
    return reason.length() <= MAX_REASON ? reason : reason.substring(0, MAX_REASON) + "...";
  }
}
