package dev.orchestra.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DriversCommandTest {

  @Test
  void listsEveryDriverFoundWithItsCapabilities() {
    Cli.Result r = Cli.run("drivers");

    assertThat(r.exitCode()).isZero();
    assertThat(r.out().lines())
        .startsWith("DRIVER      CAPABILITIES")
        .contains(
            "local       FOLLOW, STOP, TIMEOUT, REATTACH, SANDBOX, VOLUME_DATA",
            "exit-zero   (none: runs the command only)")
        // No cluster is configured here: listed, with the reason, and nothing logged besides.
        .anyMatch(line -> line.startsWith("kubernetes  unavailable: driver 'kubernetes' cannot "));
    assertThat(r.err()).isEmpty();
  }
}
