package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The coverage of both kits by the broken drivers of the self-test: the table of every test of
 * {@link DriverTck} and {@link ReliabilityTck} (found by reflection) with the broken drivers whose
 * proofs fail it, printed and written to {@code target/tck-coverage.md}. The proofs themselves are
 * run by {@link DriverTckSelfTest} and {@link ReliabilityTckSelfTest}.
 */
class CoverageTest {

  /** Where the table is written, relative to the module's directory. */
  static final Path TABLE = Path.of("target", "tck-coverage.md");

  /**
   * Tests that no broken driver proves yet ({@code Kit Group.method}), as each kit's self-test
   * states them, so that a gap is written down rather than hidden: {@link #everyRuleIsProven()}
   * fails for any other unproven test, and for a listed one that a proof now fails.
   */
  static final Set<String> NOT_YET_PROVEN = notYetProven();

  private static Set<String> notYetProven() {
    Set<String> tests = new TreeSet<>();
    DriverTckSelfTest.notYetProven().forEach(t -> tests.add("DriverTck " + t));
    ReliabilityTckSelfTest.notYetProven().forEach(t -> tests.add("ReliabilityTck " + t));
    return tests;
  }

  private static Map<String, Set<String>> coverage;

  @BeforeAll
  static void writeTable() throws IOException {
    coverage = coverage();
    String table = table(coverage);
    System.out.println(table);
    Files.createDirectories(TABLE.getParent());
    Files.writeString(TABLE, table);
  }

  @Test
  @DisplayName("every test of both kits is failed by at least one broken driver")
  void everyRuleIsProven() {
    List<String> unproven =
        coverage.entrySet().stream()
            .filter(e -> e.getValue().isEmpty())
            .map(Map.Entry::getKey)
            .filter(test -> !NOT_YET_PROVEN.contains(test))
            .toList();
    assertThat(unproven).as("tests no broken driver fails (table in %s)", TABLE).isEmpty();
    List<String> provenAfterAll =
        NOT_YET_PROVEN.stream()
            .filter(test -> !coverage.getOrDefault(test, Set.of()).isEmpty())
            .sorted()
            .toList();
    assertThat(provenAfterAll).as("tests listed as not yet proven that a proof fails").isEmpty();
    assertThat(NOT_YET_PROVEN).as("tests listed as not yet proven").isSubsetOf(coverage.keySet());
  }

  @Test
  @DisplayName("every proof names tests the kits have")
  void proofsNameExistingTests() {
    List<String> unknown = new ArrayList<>();
    proofs()
        .forEach(
            p ->
                p.failures().stream()
                    .map(f -> kitName(p) + " " + f.name())
                    .filter(test -> !coverage.containsKey(test))
                    .forEach(test -> unknown.add(p.name() + ": " + test)));
    assertThat(unknown).as("tests named by proofs that no kit has").isEmpty();
  }

  @Test
  @DisplayName(
      "each broken driver has one proof: a run of its kit class closes the real drivers it opened")
  void oneProofPerBrokenDriver() {
    List<String> twice =
        proofs()
            .collect(Collectors.groupingBy(Proof::name, Collectors.counting()))
            .entrySet()
            .stream()
            .filter(e -> e.getValue() > 1)
            .map(Map.Entry::getKey)
            .sorted()
            .toList();
    assertThat(twice).as("broken drivers with more than one proof").isEmpty();
  }

  /** Every test of both kits ({@code Kit Group.method}) with the broken drivers that fail it. */
  static Map<String, Set<String>> coverage() {
    Map<String, Set<String>> coverage = new LinkedHashMap<>();
    for (ProofRunner.Kit kit : ProofRunner.KITS) {
      kit.tests()
          .forEach(t -> coverage.put(kit.entry().getSimpleName() + " " + t, new TreeSet<>()));
    }
    proofs()
        .forEach(
            p ->
                p.failures()
                    .forEach(
                        f -> {
                          Set<String> by = coverage.get(kitName(p) + " " + f.name());
                          if (by != null) {
                            by.add(p.name());
                          }
                        }));
    return coverage;
  }

  private static Stream<Proof> proofs() {
    return Stream.concat(
        DriverTckSelfTest.proofs().stream(), ReliabilityTckSelfTest.proofs().stream());
  }

  private static String kitName(Proof p) {
    return ProofRunner.kitOf(p.kit()).entry().getSimpleName();
  }

  /** The table as Markdown: per kit, the number of tests proven, then one row per test. */
  static String table(Map<String, Set<String>> coverage) {
    StringBuilder s = new StringBuilder("# Coverage of the kits by the broken drivers\n");
    for (ProofRunner.Kit kit : ProofRunner.KITS) {
      String name = kit.entry().getSimpleName();
      Map<String, Set<String>> rows =
          coverage.entrySet().stream()
              .filter(e -> e.getKey().startsWith(name + " "))
              .collect(
                  Collectors.toMap(
                      e -> e.getKey().substring(name.length() + 1),
                      Map.Entry::getValue,
                      (a, b) -> a,
                      LinkedHashMap::new));
      long proven = rows.values().stream().filter(by -> !by.isEmpty()).count();
      s.append("\n## ")
          .append(name)
          .append(": ")
          .append(proven)
          .append(" of ")
          .append(rows.size())
          .append(" tests failed by a broken driver\n\n")
          .append("| group | test | failed by |\n| --- | --- | --- |\n");
      rows.forEach(
          (test, by) -> {
            int dot = test.indexOf('.');
            s.append("| ")
                .append(test, 0, dot)
                .append(" | ")
                .append(test.substring(dot + 1))
                .append(" | ")
                .append(by.isEmpty() ? "**none**" : String.join(", ", by))
                .append(" |\n");
          });
    }
    return s.toString();
  }
}
