package dev.orchestra.kubernetes.kubelet;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The kubelet's variable expansion, as documented for {@code Container.command}. */
class ExpansionTest {

  private static final Map<String, String> VARS = Map.of("A", "one", "EMPTY", "");

  @Test
  void referencesToDefinedVariablesAreExpanded() {
    assertThat(Expansion.expand("x$(A)y$(EMPTY)z", VARS)).isEqualTo("xoneyz");
  }

  @Test
  void referencesToUndefinedVariablesStayAsWritten() {
    assertThat(Expansion.expand("$(B) and $(", VARS)).isEqualTo("$(B) and $(");
  }

  @Test
  void aDoubleDollarIsOneDollarAndEscapesAReference() {
    assertThat(Expansion.expand("$$(A) $$$$ kill -9 $$", VARS)).isEqualTo("$(A) $$ kill -9 $");
  }

  @Test
  void anyOtherDollarStays() {
    assertThat(Expansion.expand("$HOME ${A} $ $", VARS)).isEqualTo("$HOME ${A} $ $");
  }
}
