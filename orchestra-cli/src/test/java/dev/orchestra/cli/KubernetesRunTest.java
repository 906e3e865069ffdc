package dev.orchestra.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.orchestra.kubernetes.EmulatedKubelet;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@code orchestra run --driver kubernetes://...}: a task on the EMULATED kubelet (an API server
 * whose pods run as containers on the Docker engine). Without a Docker engine it is skipped with
 * the reason, or fails when Docker is required, as in CI.
 */
class KubernetesRunTest {

  @Test
  void runsATaskOnTheClusterItsUriNames() {
    String unavailable = EmulatedKubelet.unavailableReason();
    if (unavailable != null) {
      boolean required =
          Boolean.parseBoolean(System.getenv("ORCHESTRA_REQUIRE_DOCKER"))
              || Boolean.getBoolean("orchestra.requireDocker");
      assertThat(required).as("Docker is required, and: " + unavailable).isFalse();
      Assumptions.abort("the emulated kubelet needs a Docker engine: " + unavailable);
    }
    try (EmulatedKubelet cluster = EmulatedKubelet.start()) {
      Cli.Result r =
          Cli.run(
              "run",
              "--driver",
              "kubernetes://cli-run?kubeconfig=" + cluster.kubeconfig(),
              "--image",
              "busybox",
              "--",
              "sh",
              "-c",
              "echo to stdout; echo to stderr >&2; exit 3");

      assertThat(r.exitCode()).as(r.err()).isEqualTo(3);
      assertThat(r.out()).isEqualTo("to stdout\n");
      assertThat(r.err()).contains("to stderr\n");
      assertThat(cluster.leftovers()).as("what the run left on the engine").isEmpty();
    }
  }
}
