package dev.orchestra.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * An EMULATED cluster ({@link EmulatedKubelet}) and a fabric8 client of it, for the tests of the
 * emulation itself, registered as a static extension: it starts before the class's first test,
 * deletes the pods of namespace {@code default} after each test, and after the last closes both and
 * checks that the emulation left nothing on the engine. Helpers: plain busybox pods, their phase,
 * their log read over HTTP.
 */
final class EmulatedPods implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {

  private static final AtomicInteger COUNTER = new AtomicInteger();

  /** A client for the emulated API server's plain HTTP answers. */
  static final HttpClient HTTP =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  EmulatedKubelet kubelet;
  KubernetesClient client;

  @Override
  public void beforeAll(ExtensionContext context) {
    kubelet = EmulatedKubelet.start();
    client = new KubernetesClientBuilder().withConfig(kubelet.config()).build();
  }

  @Override
  public void afterEach(ExtensionContext context) {
    client.pods().withGracePeriod(0).delete();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (client != null) {
      client.close();
    }
    if (kubelet != null) {
      kubelet.close();
      assertThat(kubelet.leftovers()).isEmpty();
    }
  }

  /** A pod name not used before in this JVM. */
  static String name(String prefix) {
    return prefix + "-" + COUNTER.incrementAndGet();
  }

  /** A pod that runs {@code command} once in busybox, its container named {@code main}. */
  static Pod pod(String name, String... command) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withLabels(Map.of("test", "emulated"))
        .endMetadata()
        .withNewSpec()
        .withRestartPolicy("Never")
        .withContainers(
            new ContainerBuilder()
                .withName("main")
                .withImage("busybox")
                .withCommand(command)
                .build())
        .endSpec()
        .build();
  }

  /** Waits (at most a minute) until the pod is in {@code phase}; the pod then. */
  Pod awaitPhase(String name, String phase) {
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> phase.equals(client.pods().withName(name).get().getStatus().getPhase()));
    return client.pods().withName(name).get();
  }

  /**
   * A GET of {@code /api/v1/namespaces/default/pods/{name}/{rest}} on this cluster (its answer's
   * head within a minute).
   */
  <T> HttpResponse<T> get(String name, String rest, HttpResponse.BodyHandler<T> body)
      throws IOException, InterruptedException {
    URI uri = URI.create(kubelet.url() + "/api/v1/namespaces/default/pods/" + name + "/" + rest);
    return HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(1)).build(), body);
  }

  /** The pod's log with the query's options, asserted answered with 200. */
  byte[] log(String name, String query) throws IOException, InterruptedException {
    HttpResponse<byte[]> answer =
        get(name, "log?" + query, HttpResponse.BodyHandlers.ofByteArray());
    assertThat(answer.statusCode())
        .as(new String(answer.body(), StandardCharsets.UTF_8))
        .isEqualTo(200);
    return answer.body();
  }

  /** How many bytes the pod's log has with the query's options, read without keeping them. */
  long countLog(String name, String query) throws IOException, InterruptedException {
    HttpResponse<InputStream> answer =
        get(name, "log?" + query, HttpResponse.BodyHandlers.ofInputStream());
    assertThat(answer.statusCode()).isEqualTo(200);
    long count = 0;
    byte[] buffer = new byte[65536];
    try (InputStream body = answer.body()) {
      for (int n; (n = body.read(buffer)) >= 0; ) {
        count += n;
      }
    }
    return count;
  }
}
