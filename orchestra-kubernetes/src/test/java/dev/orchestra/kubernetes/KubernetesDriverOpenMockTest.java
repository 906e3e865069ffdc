package dev.orchestra.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import dev.orchestra.OrchestraException;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * What the driver sends to the API server: opening the driver, its parameters, and closing it (see
 * {@link KubernetesMockTesting}).
 */
@Execution(ExecutionMode.SAME_THREAD)
@EnableKubernetesMockClient(crud = true, https = false)
class KubernetesDriverOpenMockTest extends KubernetesMockTesting {

  @Test
  void registeredUnderItsName() {
    assertThat(Orchestra.drivers()).contains("kubernetes");
  }

  @Test
  void declaresOnlyWhatItDoes() {
    assertThat(open("caps").capabilities())
        .containsExactlyInAnyOrder(
            Capability.IMAGE,
            Capability.PRIVILEGED,
            Capability.CPU_LIMIT,
            Capability.MEMORY_LIMIT,
            Capability.FOLLOW,
            Capability.STOP,
            Capability.TIMEOUT,
            Capability.REATTACH,
            Capability.SANDBOX);
  }

  @Test
  void unknownAndBadParametersRefusedByName() {
    assertThatThrownBy(() -> open("p", Map.of("nosuch", "1")))
        .hasMessageContaining("nosuch")
        .hasMessageContaining("kubeconfig");
    assertThatThrownBy(() -> open("p", Map.of("accessMode", "WriteSometimes")))
        .hasMessageContaining("accessMode")
        .hasMessageContaining("WriteSometimes");
    assertThatThrownBy(() -> open("p", Map.of("namespace", "Not_A_Namespace")))
        .hasMessageContaining("namespace")
        .hasMessageContaining("Not_A_Namespace");
    assertThatThrownBy(() -> open("p", Map.of("storageClass", "bad/class")))
        .hasMessageContaining("storageClass");
    assertThatThrownBy(() -> open("p", Map.of("requestTimeout", "soon")))
        .hasMessageContaining("requestTimeout")
        .hasMessageContaining("soon");
    assertThatThrownBy(() -> open("p", Map.of("context", "elsewhere")))
        .hasMessageContaining("context")
        .hasMessageContaining("elsewhere")
        .satisfies(e -> assertThat(e.toString()).doesNotContain(SECRET));
    assertThatThrownBy(
            () ->
                Orchestra.open(
                    "kubernetes", "p", Map.of("kubeconfig", dir.resolve("none").toString())))
        .hasMessageContaining("kubeconfig")
        .hasMessageContaining("none");
  }

  @Test
  void anUnreachableServerFailsTheOpenClearly() throws IOException {
    Path elsewhere = dir.resolve("unreachable");
    Files.writeString(
        elsewhere,
        Files.readString(kubeconfig)
            .replace(client.getMasterUrl().toString(), "http://127.0.0.1:1/"));
    assertThatThrownBy(
            () ->
                Orchestra.open(
                    "kubernetes",
                    "p",
                    Map.of("kubeconfig", elsewhere.toString(), "requestTimeout", "2")))
        .isInstanceOf(OrchestraException.class)
        .hasMessageContaining("127.0.0.1:1")
        .hasMessageContaining("kubeconfig " + elsewhere)
        .satisfies(e -> assertThat(e.toString()).doesNotContain(SECRET));
  }

  @Test
  void secretsNeverShown() {
    Driver d = open("secrets");
    assertThat(d.toString()).contains("ci").doesNotContain(SECRET);
  }

  @Test
  void namespaceDefaultsToTheContextsThenParameter() {
    Driver d = open("nsdefault");
    Container c = d.runContainer(task("t").build());
    assertThat(pod(c)).isNotNull();
    Driver other = open("nsparam", Map.of("namespace", "elsewhere"));
    Container o = other.runContainer(task("t").build());
    assertThat(client.pods().inNamespace("elsewhere").withName(o.id()).get()).isNotNull();
  }

  @Test
  void closeRemovesItsNamespaceOnly() {
    Driver mine = open("mine");
    Driver theirs = open("theirs");
    mine.runContainer(task("a").mount("m", "m").build());
    mine.runContainer(task("b").build());
    Container kept = theirs.runContainer(task("a").mount("m", "m").build());

    mine.close();
    mine.close();

    assertThat(pods()).extracting(p -> p.getMetadata().getName()).containsExactly(kept.id());
    assertThat(claims())
        .extracting(c -> c.getMetadata().getName())
        .containsExactly(KubeNames.claim("theirs", "m"));
    assertThatThrownBy(() -> mine.runContainer(task("c").build()))
        .isInstanceOf(IllegalStateException.class);
  }

  /**
   * close() on an API server that accepts connections and never answers ends within a few request
   * timeouts (fabric8's retry would double each call), throwing what it could not confirm; a driver
   * opened once the server answers again removes what is left.
   */
  @Test
  void closeOnASilentServerEndsWithinTheRequestTimeoutsAndSaysWhatIsLeft() throws Exception {
    java.net.URL master = client.getMasterUrl();
    try (dev.orchestra.tck.FaultProxy proxy =
        dev.orchestra.tck.FaultProxy.start(
            new java.net.InetSocketAddress(master.getHost(), master.getPort()))) {
      Path through = dir.resolve("through");
      Files.writeString(
          through,
          Files.readString(kubeconfig)
              .replace(
                  "server: " + master,
                  "server: http://127.0.0.1:" + proxy.address().getPort() + "/"));
      Map<String, String> params = new HashMap<>();
      params.put("kubeconfig", through.toString());
      params.put("requestTimeout", "2");
      Driver d = Orchestra.open("kubernetes", "silent", params);
      drivers.add(d);
      d.runContainer(task("a").mount("m", "m").build());
      proxy.mode(dev.orchestra.tck.FaultProxy.Mode.UNANSWERED);

      long start = System.nanoTime();
      assertThatThrownBy(d::close)
          .isInstanceOf(OrchestraException.class)
          .hasMessageContaining("did not answer within PT2S")
          .hasMessageContaining("not tried");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(12));
      d.close();

      proxy.mode(dev.orchestra.tck.FaultProxy.Mode.PASS);
      open("silent").close();
      assertThat(pods()).isEmpty();
      assertThat(claims()).isEmpty();
    }
  }
}
