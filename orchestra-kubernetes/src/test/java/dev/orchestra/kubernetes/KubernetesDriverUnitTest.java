package dev.orchestra.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.orchestra.ExitReason;
import dev.orchestra.ImageNotFoundException;
import dev.orchestra.OrchestraException;
import io.fabric8.kubernetes.api.model.ContainerState;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The driver's pure helpers: names, conversions, stdin chunking. */
class KubernetesDriverUnitTest {

  @Test
  void podNamesAreDnsLabelsAndDistinct() {
    String a = KubeNames.pod("ns", "Build-1");
    String b = KubeNames.pod("ns", "build-1");
    assertThat(a).matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?").hasSizeLessThanOrEqualTo(63);
    assertThat(a).isNotEqualTo(b);
    assertThat(KubeNames.pod("ns", "x")).isNotEqualTo(KubeNames.pod("nsx", ""));
    assertThat(KubeNames.pod("a\0b", "c")).isNotEqualTo(KubeNames.pod("a", "b\0c"));
    assertThat(KubeNames.labelValue("anything at all, " + "long ".repeat(40)))
        .matches("[a-z0-9]{41}");
  }

  @Test
  void serverAddressesShownWithoutCredentials() {
    assertThat(KubeNames.shown("https://admin:s3cret@10.0.0.1:6443/"))
        .isEqualTo("https://10.0.0.1:6443/");
    assertThat(KubeNames.shown("https://10.0.0.1:6443/k8s?token=x"))
        .isEqualTo("https://10.0.0.1:6443/k8s?...");
    assertThat(KubeNames.shown("https://kubernetes.default.svc/"))
        .isEqualTo("https://kubernetes.default.svc/");
  }

  @Test
  void conversions() {
    assertThat(PodSpecs.milliCpu(1024)).isEqualTo(1000);
    assertThat(PodSpecs.milliCpu(512)).isEqualTo(500);
    assertThat(PodSpecs.milliCpu(2)).isEqualTo(2);
    assertThat(PodSpecs.deadlineSeconds(Duration.ofMillis(1))).isEqualTo(1);
    assertThat(PodSpecs.deadlineSeconds(Duration.ofMillis(1500))).isEqualTo(2);
    assertThat(PodSpecs.deadlineSeconds(Duration.ofSeconds(3))).isEqualTo(3);
    assertThat(PodSpecs.deadlineSeconds(Duration.ofSeconds(Integer.MAX_VALUE - 1L)))
        .isEqualTo(Integer.MAX_VALUE - 1L);
    assertThat(PodSpecs.deadlineSeconds(java.time.temporal.ChronoUnit.FOREVER.getDuration()))
        .isNull();
    assertThat(PodSpecs.deadlineSeconds(Duration.ofMillis(Long.MAX_VALUE))).isNull();
    assertThat(PodSpecs.escape("$(A) $$ x$")).isEqualTo("$$(A) $$$$ x$$");
    assertThat(PodSpecs.numericUser("t", "0")).containsExactly(0, -1);
    assertThat(PodSpecs.numericUser("t", "65534:65534")).containsExactly(65534, 65534);
    assertThatThrownBy(() -> PodSpecs.numericUser("t", "nobody"))
        .hasMessageContaining("nobody")
        .hasMessageContaining("runAsUser");
    assertThatThrownBy(() -> PodSpecs.numericUser("t", "99999999999"))
        .hasMessageContaining("range");
  }

  static Pod pod(String podReason, Map<String, String> annotations, ContainerState state) {
    return new PodBuilder()
        .withNewMetadata()
        .withName("p")
        .withUid("u")
        .withAnnotations(annotations)
        .endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName("task")
        .withImage("img:1")
        .endContainer()
        .endSpec()
        .withNewStatus()
        .withReason(podReason)
        .addNewContainerStatus()
        .withName("task")
        .withState(state)
        .endContainerStatus()
        .endStatus()
        .build();
  }

  static ContainerState terminated(int code, String reason) {
    return new ContainerStateBuilder()
        .withNewTerminated()
        .withExitCode(code)
        .withReason(reason)
        .endTerminated()
        .build();
  }

  static ContainerState waiting(String reason) {
    return new ContainerStateBuilder()
        .withNewWaiting()
        .withReason(reason)
        .withMessage("m")
        .endWaiting()
        .build();
  }

  @Test
  void statusFromThePodOnly() {
    var running =
        KubernetesContainer.statusOf(
            pod(null, Map.of(), new ContainerStateBuilder().withNewRunning().endRunning().build()),
            false);
    assertThat(running.isDone()).isFalse();
    assertThat(KubernetesContainer.statusOf(pod(null, Map.of(), waiting("X")), false).isDone())
        .isFalse();
    var exited = KubernetesContainer.statusOf(pod(null, Map.of(), terminated(3, "Error")), false);
    assertThat(exited.exitCode()).isEqualTo(3);
    assertThat(exited.reason()).isEqualTo(ExitReason.EXITED);
    assertThat(
            KubernetesContainer.statusOf(pod(null, Map.of(), terminated(137, "Error")), false)
                .reason())
        .isEqualTo(ExitReason.SIGNALED);
    assertThat(
            KubernetesContainer.statusOf(pod(null, Map.of(), terminated(137, "OOMKilled")), true)
                .reason())
        .isEqualTo(ExitReason.OOM_KILLED);
    assertThat(
            KubernetesContainer.statusOf(
                    pod("DeadlineExceeded", Map.of(), terminated(143, "Error")), false)
                .reason())
        .isEqualTo(ExitReason.TIMED_OUT);
    assertThat(
            KubernetesContainer.statusOf(
                    pod(
                        "DeadlineExceeded",
                        Map.of("orchestra.dev/stopped", "true"),
                        terminated(143, "Error")),
                    false)
                .reason())
        .isEqualTo(ExitReason.STOPPED);
    assertThat(
            KubernetesContainer.statusOf(
                    pod("DeadlineExceeded", Map.of(), terminated(143, "Error")), true)
                .reason())
        .isEqualTo(ExitReason.STOPPED);
    assertThat(
            KubernetesContainer.statusOf(pod(null, Map.of(), terminated(256 + 7, "Error")), false)
                .exitCode())
        .isEqualTo(7);
  }

  @Test
  void startFailuresNameTheirReason() {
    KubernetesContainer c =
        new KubernetesContainer(
            new KubeContext(
                "ns",
                null,
                new KubernetesDriverProvider.Settings(
                    "ci",
                    Optional.empty(),
                    "ReadWriteOnce",
                    Duration.ofSeconds(1),
                    Duration.ofSeconds(1),
                    Duration.ofSeconds(1))),
            "t",
            "p",
            "u");
    assertThat(c.startFailure(pod(null, Map.of(), waiting("ImagePullBackOff"))))
        .isInstanceOf(ImageNotFoundException.class)
        .hasMessageContaining("img:1");
    assertThat(c.startFailure(pod(null, Map.of(), waiting("CreateContainerConfigError"))))
        .isInstanceOf(OrchestraException.class)
        .hasMessageContaining("CreateContainerConfigError");
    assertThat(c.startFailure(pod(null, Map.of(), terminated(128, "StartError"))))
        .hasMessageContaining("StartError");
    assertThat(c.startFailure(pod(null, Map.of(), waiting("ContainerCreating")))).isNull();
    assertThat(c.startFailure(pod(null, Map.of(), terminated(1, "Error")))).isNull();
  }

  @Test
  void stdinGoesInLargeWritesOfAtMostFourMebibytes() throws Exception {
    byte[] data = new byte[9 * 1024 * 1024 + 17];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) (i * 31);
    }
    // an input that hands out small reads, as a pipe does
    InputStream trickle =
        new ByteArrayInputStream(data) {
          @Override
          public synchronized int read(byte[] b, int off, int len) {
            return super.read(b, off, Math.min(len, 8192));
          }
        };
    List<Integer> writes = new ArrayList<>();
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    OutputStream sink =
        new OutputStream() {
          @Override
          public void write(int b) {
            throw new AssertionError("single-byte write");
          }

          @Override
          public void write(byte[] b, int off, int len) {
            writes.add(len);
            all.write(b, off, len);
          }
        };
    assertThat(StdinFeeder.copy(trickle, sink)).isEqualTo(data.length);
    assertThat(all.toByteArray()).isEqualTo(data);
    assertThat(writes).allMatch(n -> n <= StdinFeeder.MESSAGE_BYTES);
    assertThat(writes).hasSize(3);
  }
}
