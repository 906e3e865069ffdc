package dev.orchestra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ValuesTest {

  @Test
  void statusFactories() {
    assertThat(ContainerStatus.running().isDone()).isFalse();
    assertThat(ContainerStatus.running().exitCode()).isEqualTo(-1);
    assertThat(ContainerStatus.exited(42).isDone()).isTrue();
    assertThat(ContainerStatus.exited(42).exitCode()).isEqualTo(42);
    assertThat(ContainerStatus.exited(0)).isEqualTo(ContainerStatus.exited(0));
    assertThatThrownBy(() -> ContainerStatus.exited(256)).hasMessageContaining("256");
    assertThatThrownBy(() -> ContainerStatus.exited(-1)).hasMessageContaining("-1");
  }

  @Test
  void statusReasonsAndSignals() {
    assertThat(ContainerStatus.running().reason()).isEqualTo(ExitReason.RUNNING);
    assertThat(ContainerStatus.running().signal()).isEmpty();
    assertThat(ContainerStatus.exited(3).reason()).isEqualTo(ExitReason.EXITED);
    assertThat(ContainerStatus.exited(3).signal()).isEmpty();
    assertThat(ContainerStatus.exited(137).reason()).isEqualTo(ExitReason.SIGNALED);
    assertThat(ContainerStatus.exited(137).signal()).hasValue(9);
    assertThat(ContainerStatus.exited(255).reason()).isEqualTo(ExitReason.EXITED);
    ContainerStatus stopped = ContainerStatus.done(143, ExitReason.STOPPED);
    assertThat(stopped.reason()).isEqualTo(ExitReason.STOPPED);
    assertThat(stopped.signal()).hasValue(15);
    assertThat(stopped).hasToString("stopped(143)");
    assertThatThrownBy(() -> ContainerStatus.done(0, ExitReason.RUNNING))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ContainerStatus.done(0, null))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aDriverStatusWithoutReasonDerivesIt() {
    ContainerStatus legacy =
        new ContainerStatus() {
          @Override
          public boolean isDone() {
            return true;
          }

          @Override
          public int exitCode() {
            return 130;
          }
        };

    assertThat(legacy.reason()).isEqualTo(ExitReason.SIGNALED);
    assertThat(legacy.signal()).hasValue(2);
  }

  @Test
  void limitsRefuseNegativeValues() {
    assertThat(ContainerLimits.NONE.isUnlimited()).isTrue();
    assertThat(new ContainerLimits(512, 0).isUnlimited()).isFalse();
    assertThatThrownBy(() -> new ContainerLimits(-1, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cpuShares")
        .hasMessageContaining("-1");
    assertThatThrownBy(() -> new ContainerLimits(0, -5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("memoryBytes")
        .hasMessageContaining("-5");
  }

  @Test
  void mountsRefuseNamesThatLeaveTheDriversArea() {
    assertThatThrownBy(() -> new Mount("../../etc", "x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("../../etc");
    assertThatThrownBy(() -> new Mount("..", "x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'..'");
    assertThat(new Mount("cache", "/m2").path()).isEqualTo("/m2");
  }

  @Test
  void driverNotFoundListsTheAvailableNames() {
    var e = new DriverNotFoundException("dokker", java.util.Set.of("local", "docker"));

    assertThat(e.getMessage()).contains("'dokker'", "docker, local");
    assertThat(e.available()).containsExactly("docker", "local");
  }
}
