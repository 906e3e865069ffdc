package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class TckSettingsTest {

  @Test
  void isoDurations() {
    assertThat(TckSettings.parse("p", "PT2M")).isEqualTo(Duration.ofMinutes(2));
    assertThat(TckSettings.parse("p", " PT0.5S ")).isEqualTo(Duration.ofMillis(500));
  }

  @Test
  void plainSeconds() {
    assertThat(TckSettings.parse("p", "120")).isEqualTo(Duration.ofSeconds(120));
    assertThat(TckSettings.parse("p", "1.25")).isEqualTo(Duration.ofMillis(1250));
  }

  @Test
  void badValuesNamed() {
    assertThatThrownBy(() -> TckSettings.parse("orchestra.tck.await", "2 minutes"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("orchestra.tck.await")
        .hasMessageContaining("'2 minutes'");
    assertThatThrownBy(() -> TckSettings.parse("orchestra.tck.timeout", "0"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("positive");
    assertThatThrownBy(() -> TckSettings.parse("orchestra.tck.timeout", "-PT1S"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("positive");
  }

  @Test
  void defaultsWhenUnset() {
    assumeTrue(
        System.getProperty(TckSettings.TIMEOUT_PROPERTY) == null
            && System.getProperty(TckSettings.AWAIT_PROPERTY) == null,
        "the build sets the TCK's timeouts");
    assertThat(TckSettings.testTimeout()).isEqualTo(TckSettings.DEFAULT_TIMEOUT);
    assertThat(TckSettings.awaitTimeout()).isEqualTo(TckSettings.DEFAULT_AWAIT);
  }
}
