package dev.orchestra.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.orchestra.ContainerNotFoundException;
import dev.orchestra.OrchestraInterruptedException;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * The log reads on the wire, against a small HTTP server that answers as an API server with split
 * log streams does (the mock server cannot: it answers any log request with the pod list).
 */
// Each test's stand-in API server is a field of the class: its tests run one after the other.
@Execution(ExecutionMode.SAME_THREAD)
class PodLogsUnitTest {

  static final String UID = "0f6c6a1e-uid";
  static final byte[] OUT = {'o', 'u', 't', '\n', (byte) 0xff, 0, (byte) 0xc3, 'x'};
  static final byte[] ERR = "err: \u00e9 no newline".getBytes(StandardCharsets.UTF_8);

  HttpServer server;
  KubernetesClient client;
  final List<String> requests = new CopyOnWriteArrayList<>();
  volatile boolean ignoresStream;
  volatile String podUid = UID;
  volatile boolean terminated;
  final CountDownLatch releaseFollow = new CountDownLatch(1);
  volatile boolean podReadsHang;
  final CountDownLatch releasePodReads = new CountDownLatch(1);

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::answer);
    server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
    server.start();
    Config config =
        new ConfigBuilder(Config.empty())
            .withMasterUrl("http://127.0.0.1:" + server.getAddress().getPort() + "/")
            .withOauthToken("tok")
            .withRequestTimeout(20_000)
            .build();
    client = new KubernetesClientBuilder().withConfig(config).build();
  }

  @AfterEach
  void stop() {
    releaseFollow.countDown();
    releasePodReads.countDown();
    client.close();
    server.stop(0);
  }

  private void answer(HttpExchange x) throws IOException {
    String uri = x.getRequestURI().toString();
    requests.add(uri);
    try (x) {
      if (uri.equals("/api/v1/namespaces/ci/pods/p")) {
        if (podReadsHang) {
          try {
            releasePodReads.await(60, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        reply(x, 200, pod().getBytes(StandardCharsets.UTF_8), false);
      } else if (uri.startsWith("/api/v1/namespaces/ci/pods/p/log?container=task&stream=")) {
        String stream = uri.replaceAll(".*stream=([A-Za-z]+).*", "$1");
        boolean follow = uri.contains("follow=true");
        if (ignoresStream) {
          reply(x, 200, OUT, false);
        } else if (stream.equals("Stdout")) {
          reply(x, 200, OUT, follow);
        } else if (stream.equals("Stderr")) {
          reply(x, 200, ERR, follow);
        } else {
          reply(
              x,
              400,
              ("{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"PodLogOptions is invalid:"
                      + " stream: Unsupported value: \\\""
                      + stream
                      + "\\\"\",\"code\":400}")
                  .getBytes(StandardCharsets.UTF_8),
              false);
        }
      } else {
        reply(x, 404, "{}".getBytes(StandardCharsets.UTF_8), false);
      }
    }
  }

  private void reply(HttpExchange x, int code, byte[] body, boolean thenHold) throws IOException {
    x.getResponseHeaders().add("Content-Type", "application/json");
    x.sendResponseHeaders(code, thenHold ? 0 : body.length);
    OutputStream o = x.getResponseBody();
    o.write(body);
    o.flush();
    if (thenHold) {
      try {
        releaseFollow.await(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      o.write('!');
    }
  }

  private String pod() {
    return "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"ci\","
        + "\"uid\":\""
        + podUid
        + "\"},\"spec\":{\"containers\":[{\"name\":\"task\",\"image\":\"busybox\"}]},"
        + "\"status\":{\"phase\":\""
        + (terminated ? "Succeeded" : "Running")
        + "\",\"containerStatuses\":[{\"name\":\"task\","
        + (terminated
            ? "\"state\":{\"terminated\":{\"exitCode\":0}}}]}}"
            : "\"state\":{\"running\":{}}}]}}");
  }

  KubernetesContainer container() {
    return container(Duration.ofSeconds(5));
  }

  KubernetesContainer container(Duration requestTimeout) {
    KubernetesDriverProvider.Settings settings =
        new KubernetesDriverProvider.Settings(
            "ci",
            Optional.empty(),
            "ReadWriteOnce",
            requestTimeout,
            Duration.ofSeconds(20),
            Duration.ofSeconds(10));
    return new KubernetesContainer(new KubeContext("ns", client, settings), "t", "p", UID);
  }

  @Test
  void logsAreByteExactAndSeparate() {
    KubernetesContainer c = container();
    for (int i = 0; i < 2; i++) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      c.logs(out, err);
      assertThat(out.toByteArray()).isEqualTo(OUT);
      assertThat(err.toByteArray()).isEqualTo(ERR);
    }
    assertThat(requests.stream().filter(r -> r.contains("OrchestraProbe"))).hasSize(1);
    assertThat(requests)
        .anyMatch(r -> r.endsWith("/log?container=task&stream=Stdout"))
        .anyMatch(r -> r.endsWith("/log?container=task&stream=Stderr"));
  }

  @Test
  void aFollowTheServerEndsWhileTheTaskRunsFails() {
    releaseFollow.countDown();
    assertThatThrownBy(
            () -> container().follow(new ByteArrayOutputStream(), new ByteArrayOutputStream()))
        .isInstanceOf(dev.orchestra.OrchestraException.class)
        .hasMessageContaining("still runs");
  }

  @Test
  void aServerThatMergesTheStreamsIsRefused() {
    ignoresStream = true;
    assertThatThrownBy(
            () -> container().logs(new ByteArrayOutputStream(), new ByteArrayOutputStream()))
        .hasMessageContaining("PodLogsQuerySplitStreams")
        .hasMessageContaining("1.32");
  }

  @Test
  void aReplacedPodIsNotFound() {
    podUid = "another-uid";
    assertThatThrownBy(
            () -> container().logs(new ByteArrayOutputStream(), new ByteArrayOutputStream()))
        .isInstanceOf(ContainerNotFoundException.class);
  }

  @Test
  void followStreamsUntilTheEndAndAnswersInterruption() throws Exception {
    KubernetesContainer c = container();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    Thread follower =
        new Thread(
            () -> {
              try {
                c.follow(out, err);
              } catch (Throwable t) {
                thrown.set(t);
              }
            });
    follower.start();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> out.size() == OUT.length && err.size() == ERR.length);
    follower.interrupt();
    follower.join(TimeUnit.SECONDS.toMillis(30));
    assertThat(follower.isAlive()).isFalse();
    assertThat(thrown.get()).isInstanceOf(OrchestraInterruptedException.class);

    ByteArrayOutputStream out2 = new ByteArrayOutputStream();
    ByteArrayOutputStream err2 = new ByteArrayOutputStream();
    AtomicReference<Throwable> thrown2 = new AtomicReference<>();
    Thread second =
        new Thread(
            () -> {
              try {
                c.follow(out2, err2);
              } catch (Throwable t) {
                thrown2.set(t);
              }
            });
    second.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> out2.size() == OUT.length);
    terminated = true;
    releaseFollow.countDown();
    second.join(TimeUnit.SECONDS.toMillis(30));
    assertThat(second.isAlive()).isFalse();
    assertThat(thrown2.get()).isNull();
    assertThat(c.status().isDone()).isTrue();
    assertThat(out2.toString(StandardCharsets.ISO_8859_1))
        .isEqualTo(new String(OUT, StandardCharsets.ISO_8859_1) + "!");
    assertThat(requests).anyMatch(r -> r.endsWith("stream=Stdout&follow=true"));
  }

  /**
   * A follow whose streams go quiet asks the API server for the pod once per request timeout of
   * quiet: while it answers, the quiet task is followed on; once it does not, the follow ends with
   * an OrchestraException instead of blocking on streams that may never move again.
   */
  @Test
  void aQuietFollowAsksForThePodAndEndsWhenTheServerIsSilent() throws Exception {
    KubernetesContainer c = container(Duration.ofSeconds(1));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    Thread follower =
        new Thread(
            () -> {
              try {
                c.follow(out, new ByteArrayOutputStream());
              } catch (Throwable t) {
                thrown.set(t);
              }
            });
    follower.start();
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> out.size() == OUT.length);
      long readsBefore = podReads();
      await().atMost(Duration.ofSeconds(30)).until(() -> podReads() >= readsBefore + 3);
      assertThat(follower.isAlive())
          .as("a quiet task on a server that answers is followed")
          .isTrue();
      assertThat(thrown.get()).isNull();

      podReadsHang = true;
      follower.join(TimeUnit.SECONDS.toMillis(30));
      assertThat(follower.isAlive())
          .as("the follow ended once the server stopped answering")
          .isFalse();
      assertThat(thrown.get())
          .isInstanceOf(dev.orchestra.OrchestraException.class)
          .hasMessageContaining("quiet")
          .hasMessageContaining("did not answer");
    } finally {
      follower.interrupt();
      follower.join(TimeUnit.SECONDS.toMillis(30));
    }
  }

  private long podReads() {
    return requests.stream().filter(r -> r.equals("/api/v1/namespaces/ci/pods/p")).count();
  }
}
