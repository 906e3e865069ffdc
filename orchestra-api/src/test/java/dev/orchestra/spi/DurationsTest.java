package dev.orchestra.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.Test;

class DurationsTest {

  @Test
  void durationsThatFitConvertExactly() {
    assertThat(Durations.saturatedNanos(Duration.ofSeconds(3, 5))).isEqualTo(3_000_000_005L);
    assertThat(Durations.saturatedNanos(Duration.ofNanos(Long.MAX_VALUE)))
        .isEqualTo(Long.MAX_VALUE);
    assertThat(Durations.saturatedNanos(Duration.ofNanos(-7))).isEqualTo(-7);
    assertThat(Durations.saturatedMillis(Duration.ofNanos(2_999_999))).isEqualTo(2);
    assertThat(Durations.saturatedMillis(Duration.ofMillis(Long.MAX_VALUE)))
        .isEqualTo(Long.MAX_VALUE);
    assertThat(Durations.saturatedMillis(Duration.ofMillis(Long.MIN_VALUE)))
        .isEqualTo(Long.MIN_VALUE);
  }

  @Test
  void longerDurationsSaturateInsteadOfOverflowing() {
    Duration forever = ChronoUnit.FOREVER.getDuration();

    assertThat(Durations.saturatedNanos(forever)).isEqualTo(Long.MAX_VALUE);
    assertThat(Durations.saturatedNanos(Duration.ofMillis(Long.MAX_VALUE)))
        .isEqualTo(Long.MAX_VALUE);
    assertThat(Durations.saturatedNanos(Duration.ofNanos(Long.MAX_VALUE).plusNanos(1)))
        .isEqualTo(Long.MAX_VALUE);
    assertThat(Durations.saturatedNanos(forever.negated())).isEqualTo(Long.MIN_VALUE);
    assertThat(Durations.saturatedMillis(forever)).isEqualTo(Long.MAX_VALUE);
    assertThat(Durations.saturatedMillis(Duration.ofSeconds(Long.MIN_VALUE)))
        .isEqualTo(Long.MIN_VALUE);
  }
}
