package dev.orchestra.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.ExecWatch;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

@DisplayName(
    "EmulatedKubelet (emulated Kubernetes API server and kubelet on Docker, not a real cluster)")
@ExtendWith(EmulatedKubeletCondition.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
// Its tests share one emulated cluster and name their pods plainly: one after the other.
@Execution(ExecutionMode.SAME_THREAD)
class EmulatedKubeletTest {

  private static final AtomicInteger COUNTER = new AtomicInteger();
  private static EmulatedKubelet kubelet;
  private static KubernetesClient client;
  private static final HttpClient HTTP =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() {
    kubelet = EmulatedKubelet.start();
    client = new KubernetesClientBuilder().withConfig(kubelet.config()).build();
  }

  @AfterAll
  static void stop() {
    if (client != null) {
      client.close();
    }
    if (kubelet != null) {
      kubelet.close();
      assertThat(kubelet.leftovers()).isEmpty();
    }
  }

  @AfterEach
  void deletePods() {
    client.pods().withGracePeriod(0).delete();
  }

  private static String name(String prefix) {
    return prefix + "-" + COUNTER.incrementAndGet();
  }

  private static Pod pod(String name, String... command) {
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

  private static Pod awaitPhase(String name, String phase) {
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> phase.equals(client.pods().withName(name).get().getStatus().getPhase()));
    return client.pods().withName(name).get();
  }

  private static byte[] log(String name, String query) throws IOException, InterruptedException {
    HttpResponse<byte[]> answer =
        HTTP.send(
            HttpRequest.newBuilder(
                    URI.create(
                        kubelet.url()
                            + "/api/v1/namespaces/default/pods/"
                            + name
                            + "/log?"
                            + query))
                .timeout(Duration.ofSeconds(60))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(answer.statusCode())
        .as(new String(answer.body(), StandardCharsets.UTF_8))
        .isEqualTo(200);
    return answer.body();
  }

  @Test
  void aPodRunsToSucceededWithExitZeroAndToFailedWithExitThree() {
    String ok = name("ok");
    String bad = name("bad");
    client.resource(pod(ok, "sh", "-c", "exit 0")).create();
    client.resource(pod(bad, "sh", "-c", "exit 3")).create();
    Pod succeeded = awaitPhase(ok, "Succeeded");
    Pod failed = awaitPhase(bad, "Failed");
    var okState = succeeded.getStatus().getContainerStatuses().get(0).getState().getTerminated();
    assertThat(okState.getExitCode()).isZero();
    assertThat(okState.getReason()).isEqualTo("Completed");
    assertThat(okState.getStartedAt()).isNotNull();
    assertThat(okState.getFinishedAt()).isNotNull();
    assertThat(succeeded.getStatus().getStartTime()).isNotNull();
    var badState = failed.getStatus().getContainerStatuses().get(0).getState().getTerminated();
    assertThat(badState.getExitCode()).isEqualTo(3);
    assertThat(badState.getReason()).isEqualTo("Error");
    assertThat(succeeded.getMetadata().getUid()).isNotBlank();
    assertThat(succeeded.getMetadata().getCreationTimestamp()).isNotBlank();
    assertThat(succeeded.getMetadata().getResourceVersion()).isNotBlank();
  }

  @Test
  void logsSplitByStreamAreByteExactWithBinaryAndNoFinalNewline() throws Exception {
    String name = name("logs");
    client
        .resource(pod(name, "sh", "-c", "printf 'out\\000\\377\\n2nd'; printf 'err\\001' >&2"))
        .create();
    awaitPhase(name, "Succeeded");
    byte[] out = {'o', 'u', 't', 0, (byte) 0xff, '\n', '2', 'n', 'd'};
    assertThat(log(name, "stream=Stdout")).isEqualTo(out);
    assertThat(log(name, "stream=Stderr")).isEqualTo(new byte[] {'e', 'r', 'r', 1});
    assertThat(log(name, "")).hasSize(out.length + 4);
    assertThat(log(name, "stream=Stdout&limitBytes=4")).isEqualTo(new byte[] {'o', 'u', 't', 0});
    assertThat(client.pods().withName(name).getLog()).startsWith("out");
  }

  @Test
  void tailLinesTimestampsAndSinceTimeSelectTheLogsLines() throws Exception {
    String name = name("select");
    client.resource(pod(name, "sh", "-c", "printf 'a\\nb\\nc'")).create();
    awaitPhase(name, "Succeeded");
    assertThat(new String(log(name, "tailLines=2"), StandardCharsets.UTF_8)).isEqualTo("b\nc");
    String stamped = new String(log(name, "timestamps=true"), StandardCharsets.UTF_8);
    assertThat(stamped)
        .matches(
            "(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z a\\n)"
                + "(\\d{4}-\\S+Z b\\n)(\\d{4}-\\S+Z c)");
    String first = stamped.substring(0, stamped.indexOf(' '));
    assertThat(log(name, "sinceTime=2000-01-01T00:00:00Z")).hasSize(5);
    assertThat(log(name, "sinceTime=2999-01-01T00:00:00Z")).isEmpty();
    assertThat(new String(log(name, "sinceTime=" + first), StandardCharsets.UTF_8))
        .startsWith("a\n");
  }

  @Test
  void aLogIsWholeOnceItsPodEndedEvenWhenManyEndAtOnce() throws Exception {
    // the line at the end without a newline is the last the container writes, as it exits
    String script = "i=0; while [ $i -lt 200 ]; do echo line $i; i=$((i+1)); done; printf end";
    StringBuilder expected = new StringBuilder();
    for (int i = 0; i < 200; i++) {
      expected.append("line ").append(i).append('\n');
    }
    expected.append("end");
    List<String> names = new java.util.ArrayList<>();
    for (int i = 0; i < 12; i++) {
      names.add(name("whole"));
      client.resource(pod(names.get(i), "sh", "-c", script)).create();
    }
    for (String name : names) {
      awaitPhase(name, "Succeeded");
      assertThat(new String(log(name, "stream=Stdout"), StandardCharsets.UTF_8))
          .as("the log of %s", name)
          .isEqualTo(expected.toString());
    }
  }

  @Test
  void aServerWithoutTheSplitStreamsGateMergesStreams() throws Exception {
    try (EmulatedKubelet merging = EmulatedKubelet.mergingStreams();
        KubernetesClient other =
            new KubernetesClientBuilder().withConfig(merging.config()).build()) {
      String name = name("merged");
      other.resource(pod(name, "sh", "-c", "printf o; printf e >&2")).create();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> "Succeeded".equals(other.pods().withName(name).get().getStatus().getPhase()));
      HttpResponse<byte[]> answer =
          HTTP.send(
              HttpRequest.newBuilder(
                      URI.create(
                          merging.url()
                              + "/api/v1/namespaces/default/pods/"
                              + name
                              + "/log?stream=Stdout"))
                  .build(),
              HttpResponse.BodyHandlers.ofByteArray());
      assertThat(answer.body()).hasSize(2);
      other.pods().withName(name).withGracePeriod(0).delete();
      await().atMost(Duration.ofSeconds(30)).until(() -> merging.leftovers().isEmpty());
    }
  }

  @Test
  void aFollowedLogStreamsUntilTheContainerEnds() throws Exception {
    String name = name("follow");
    client
        .resource(pod(name, "sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.3; done"))
        .create();
    awaitPhase(name, "Running");
    HttpResponse<InputStream> answer =
        HTTP.send(
            HttpRequest.newBuilder(
                    URI.create(
                        kubelet.url()
                            + "/api/v1/namespaces/default/pods/"
                            + name
                            + "/log?follow=true"))
                .build(),
            HttpResponse.BodyHandlers.ofInputStream());
    try (InputStream body = answer.body()) {
      assertThat(new String(body.readAllBytes(), StandardCharsets.UTF_8))
          .isEqualTo("line1\nline2\nline3\n");
    }
    assertThat(client.pods().withName(name).get().getStatus().getPhase())
        .isIn("Running", "Succeeded");
    awaitPhase(name, "Succeeded");
    HttpResponse<String> refused =
        HTTP.send(
            HttpRequest.newBuilder(
                    URI.create(
                        kubelet.url()
                            + "/api/v1/namespaces/default/pods/"
                            + name
                            + "/exec?command=true&stdout=true"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(refused.statusCode()).isEqualTo(400);
    assertThat(refused.body())
        .contains("cannot exec into a container in a completed pod; current phase is Succeeded");
    HttpResponse<String> previous =
        HTTP.send(
            HttpRequest.newBuilder(
                    URI.create(
                        kubelet.url()
                            + "/api/v1/namespaces/default/pods/"
                            + name
                            + "/log?previous=true"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(previous.statusCode()).isEqualTo(400);
  }

  @Test
  void attachDeliversSeveralMebibytesOfStdinThenEndOfFile() throws Exception {
    String name = name("attach");
    client.resource(stdinPod(name, "wc -c")).create();
    awaitPhase(name, "Running");
    byte[] data = new byte[5 * 1024 * 1024 + 7];
    new Random(42).nextBytes(data);
    // the JDK's WebSocket takes one message at a time: each send is awaited (fabric8 8.0.0 does
    // not, and fails a write that comes while the previous one is still on its way)
    Stream stream = Stream.open(name, "attach?stdin=true&stdout=true&stderr=true");
    try {
      for (int i = 0; i < data.length; i += 65536) {
        int length = Math.min(65536, data.length - i);
        byte[] message = new byte[length + 1];
        System.arraycopy(data, i, message, 1, length);
        stream.send(message);
      }
      stream.send(new byte[] {(byte) 255, 0});
      assertThat(stream.status.get(60, TimeUnit.SECONDS)).contains("\"status\":\"Success\"");
      assertThat(stream.stdout.toString(StandardCharsets.UTF_8).trim())
          .isEqualTo(Integer.toString(data.length));
    } finally {
      stream.socket.abort();
    }
    awaitPhase(name, "Succeeded");
  }

  @Test
  void aFabric8AttachEndsTheInputOfAStdinOncePodWhenItCloses() throws Exception {
    String name = name("attach-fabric8");
    client.resource(stdinPod(name, "wc -c")).create();
    awaitPhase(name, "Running");
    try (ExecWatch watch =
        client
            .pods()
            .withName(name)
            .redirectingInput()
            .writingOutput(new ByteArrayOutputStream())
            .attach()) {
      watch.getInput().write(new byte[1000]);
      watch.getInput().flush();
      // v4.channel.k8s.io has no end of input but the end of the stream: with stdinOnce, the
      // runtime closes the process's input when the attach ends
    }
    awaitPhase(name, "Succeeded");
    assertThat(new String(log(name, ""), StandardCharsets.UTF_8).trim()).isEqualTo("1000");
  }

  private static Pod stdinPod(String name, String script) {
    Pod pod = pod(name, "sh", "-c", script);
    pod.getSpec().getContainers().get(0).setStdin(true);
    pod.getSpec().getContainers().get(0).setStdinOnce(true);
    return pod;
  }

  /** A v5.channel.k8s.io stream on the JDK's own WebSocket. */
  private static final class Stream implements java.net.http.WebSocket.Listener {
    final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    final java.util.concurrent.CompletableFuture<String> status =
        new java.util.concurrent.CompletableFuture<>();
    java.net.http.WebSocket socket;

    static Stream open(String pod, String query) throws Exception {
      Stream stream = new Stream();
      stream.socket =
          HTTP.newWebSocketBuilder()
              .subprotocols("v5.channel.k8s.io")
              .buildAsync(
                  URI.create(
                      kubelet.url().toString().replace("http:", "ws:")
                          + "/api/v1/namespaces/default/pods/"
                          + pod
                          + "/"
                          + query),
                  stream)
              .get(30, TimeUnit.SECONDS);
      assertThat(stream.socket.getSubprotocol()).isEqualTo("v5.channel.k8s.io");
      return stream;
    }

    void send(byte[] message) throws Exception {
      socket.sendBinary(java.nio.ByteBuffer.wrap(message), true).get(30, TimeUnit.SECONDS);
    }

    @Override
    public synchronized java.util.concurrent.CompletionStage<?> onBinary(
        java.net.http.WebSocket ws, java.nio.ByteBuffer data, boolean last) {
      byte[] bytes = new byte[data.remaining()];
      data.get(bytes);
      if (bytes[0] == 1) {
        stdout.write(bytes, 1, bytes.length - 1);
      } else if (bytes[0] == 3) {
        status.complete(new String(bytes, 1, bytes.length - 1, StandardCharsets.UTF_8));
      }
      ws.request(1);
      return null;
    }
  }

  @Test
  void execAnswersItsOutputAndExitStatus() throws Exception {
    String name = name("exec");
    client.resource(pod(name, "sleep", "600")).create();
    awaitPhase(name, "Running");
    assertThat(client.pods().withName(name).get().getStatus().getPodIP()).isNotBlank();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try (ExecWatch watch =
        client
            .pods()
            .withName(name)
            .writingOutput(out)
            .writingError(err)
            .exec("sh", "-c", "echo hi; echo oops >&2; exit 3")) {
      assertThat(watch.exitCode().get(60, TimeUnit.SECONDS)).isEqualTo(3);
    }
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("hi\n");
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("oops\n");
    try (ExecWatch watch = client.pods().withName(name).writingOutput(out).exec("true")) {
      assertThat(watch.exitCode().get(60, TimeUnit.SECONDS)).isZero();
    }
    ByteArrayOutputStream echoed = new ByteArrayOutputStream();
    // fabric8 8.0.0 speaks v4.channel.k8s.io, which cannot end an exec's input alone: closing it
    // closes the whole stream, and the status is lost; so this command ends by itself
    try (ExecWatch watch =
        client
            .pods()
            .withName(name)
            .redirectingInput()
            .writingOutput(echoed)
            .exec("head", "-c", "5")) {
      watch.getInput().write("typed".getBytes(StandardCharsets.UTF_8));
      watch.getInput().flush();
      assertThat(watch.exitCode().get(60, TimeUnit.SECONDS)).isZero();
    }
    assertThat(echoed.toString(StandardCharsets.UTF_8)).isEqualTo("typed");
  }

  @Test
  void activeDeadlineSecondsEndsThePodWithDeadlineExceeded() {
    String name = name("deadline");
    Pod pod = pod(name, "sleep", "600");
    pod.getSpec().setActiveDeadlineSeconds(2L);
    pod.getSpec().setTerminationGracePeriodSeconds(1L);
    client.resource(pod).create();
    Pod failed = awaitPhase(name, "Failed");
    assertThat(failed.getStatus().getReason()).isEqualTo("DeadlineExceeded");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                client
                        .pods()
                        .withName(name)
                        .get()
                        .getStatus()
                        .getContainerStatuses()
                        .get(0)
                        .getState()
                        .getTerminated()
                    != null);
  }

  @Test
  void aPatchThatShortensTheDeadlineTakesEffectAndOneThatExtendsItIsRefused() {
    String name = name("shorten");
    Pod pod = pod(name, "sleep", "600");
    pod.getSpec().setActiveDeadlineSeconds(600L);
    pod.getSpec().setTerminationGracePeriodSeconds(1L);
    client.resource(pod).create();
    awaitPhase(name, "Running");
    assertThatThrownBy(
            () ->
                client
                    .pods()
                    .withName(name)
                    .patch(
                        PatchContext.of(PatchType.JSON_MERGE),
                        "{\"spec\":{\"activeDeadlineSeconds\":900}}"))
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(422));
    assertThatThrownBy(
            () ->
                client
                    .pods()
                    .withName(name)
                    .patch(
                        PatchContext.of(PatchType.JSON_MERGE),
                        "{\"spec\":{\"restartPolicy\":\"Always\"}}"))
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(422));
    client
        .pods()
        .withName(name)
        .edit(
            p -> {
              p.getSpec().setActiveDeadlineSeconds(1L);
              return p;
            });
    Pod failed = awaitPhase(name, "Failed");
    assertThat(failed.getStatus().getReason()).isEqualTo("DeadlineExceeded");
    assertThat(failed.getSpec().getActiveDeadlineSeconds()).isEqualTo(1L);
  }

  @Test
  void deletionWithGraceKillsATermIgnoringProcessAfterTheGrace() {
    String name = name("grace");
    client.resource(pod(name, "sh", "-c", "trap '' TERM; while true; do sleep 1; done")).create();
    awaitPhase(name, "Running");
    long start = System.nanoTime();
    client.pods().withName(name).withGracePeriod(2).delete();
    Pod deleting = client.pods().withName(name).get();
    assertThat(deleting).isNotNull();
    assertThat(deleting.getMetadata().getDeletionTimestamp()).isNotNull();
    await().atMost(Duration.ofSeconds(60)).until(() -> client.pods().withName(name).get() == null);
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .isGreaterThanOrEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void aWatchSeesAddedModifiedAndDeleted() {
    String name = name("watched");
    List<String> events = new CopyOnWriteArrayList<>();
    try (Watch watch =
        client
            .pods()
            .withLabel("test", "emulated")
            .withField("metadata.name", name)
            .watch(
                new Watcher<Pod>() {
                  @Override
                  public void eventReceived(Action action, Pod pod) {
                    events.add(action + " " + pod.getStatus().getPhase());
                  }

                  @Override
                  public void onClose(WatcherException cause) {}
                })) {
      assertThat(watch).isNotNull();
      client.resource(pod(name, "true")).create();
      awaitPhase(name, "Succeeded");
      client.pods().withName(name).delete();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> events.stream().anyMatch(e -> e.startsWith("DELETED")));
    }
    assertThat(events.get(0)).startsWith("ADDED");
    assertThat(events).anyMatch(e -> e.equals("MODIFIED Succeeded"));
  }

  @Test
  void errorsAreShapedAsTheRealServersStatusObjects() throws Exception {
    String name = name("dup");
    client.resource(pod(name, "sleep", "600")).create();
    assertThatThrownBy(() -> client.resource(pod(name, "true")).create())
        .isInstanceOfSatisfying(
            KubernetesClientException.class,
            e -> {
              assertThat(e.getCode()).isEqualTo(409);
              assertThat(e.getStatus().getReason()).isEqualTo("AlreadyExists");
              assertThat(e.getStatus().getDetails().getName()).isEqualTo(name);
            });
    assertThatThrownBy(() -> client.resource(pod("Not_Valid", "true")).create())
        .isInstanceOfSatisfying(
            KubernetesClientException.class,
            e -> {
              assertThat(e.getCode()).isEqualTo(422);
              assertThat(e.getStatus().getReason()).isEqualTo("Invalid");
            });
    Pod badLabel = pod(name("label"), "true");
    badLabel.getMetadata().setLabels(Map.of("bad key", "x"));
    assertThatThrownBy(() -> client.resource(badLabel).create())
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(422));
    HttpResponse<String> missing =
        HTTP.send(
            HttpRequest.newBuilder(
                    URI.create(kubelet.url() + "/api/v1/namespaces/default/pods/nope"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(missing.body())
        .contains(
            "\"kind\":\"Status\"",
            "\"reason\":\"NotFound\"",
            "\"code\":404",
            "\"message\":\"pods \\\"nope\\\" not found\"",
            "\"details\":{\"name\":\"nope\",\"kind\":\"pods\"}");
    assertThat(client.pods().withName("nope").get()).isNull();
    Pod withStatus = client.pods().withName(name).get();
    withStatus.getStatus().setPhase("Succeeded");
    withStatus.getMetadata().setResourceVersion(null);
    client.resource(withStatus).update();
    assertThat(client.pods().withName(name).get().getStatus().getPhase()).isNotEqualTo("Succeeded");
    assertThat(client.getKubernetesVersion().getMinor()).isEqualTo("33");
    Pod configMap = pod(name("configmap"), "true");
    configMap
        .getSpec()
        .setVolumes(
            List.of(
                new io.fabric8.kubernetes.api.model.VolumeBuilder()
                    .withName("config")
                    .withNewConfigMap()
                    .withName("settings")
                    .endConfigMap()
                    .build()));
    assertThatThrownBy(() -> client.resource(configMap).create())
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(422));
  }

  @Test
  void aClaimIsOneVolumeSharedByTwoPods() throws Exception {
    String claim = name("claim");
    PersistentVolumeClaim pvc =
        new PersistentVolumeClaimBuilder()
            .withNewMetadata()
            .withName(claim)
            .endMetadata()
            .withNewSpec()
            .withAccessModes("ReadWriteOnce")
            .withNewResources()
            .withRequests(Map.of("storage", new Quantity("1Gi")))
            .endResources()
            .endSpec()
            .build();
    client.resource(pvc).create();
    assertThat(client.persistentVolumeClaims().withName(claim).get().getStatus().getPhase())
        .isEqualTo("Bound");
    String writer = name("writer");
    String reader = name("reader");
    client
        .resource(withClaim(pod(writer, "sh", "-c", "echo shared > /data/sub/file"), claim, "sub"))
        .create();
    awaitPhase(writer, "Succeeded");
    client.resource(withClaim(pod(reader, "cat", "/data/sub/file"), claim, "")).create();
    awaitPhase(reader, "Succeeded");
    assertThat(new String(log(reader, ""), StandardCharsets.UTF_8)).isEqualTo("shared\n");
    client.persistentVolumeClaims().withName(claim).delete();
    assertThat(
            client
                .persistentVolumeClaims()
                .withName(claim)
                .get()
                .getMetadata()
                .getDeletionTimestamp())
        .isNotNull();
    client.pods().withName(writer).withGracePeriod(0).delete();
    client.pods().withName(reader).withGracePeriod(0).delete();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> client.persistentVolumeClaims().withName(claim).get() == null);
  }

  private static Pod withClaim(Pod pod, String claim, String subPath) {
    pod.getSpec()
        .setVolumes(
            List.of(
                new io.fabric8.kubernetes.api.model.VolumeBuilder()
                    .withName("data")
                    .withNewPersistentVolumeClaim()
                    .withClaimName(claim)
                    .endPersistentVolumeClaim()
                    .build()));
    String mountPath = subPath.isEmpty() ? "/data" : "/data/" + subPath;
    pod.getSpec()
        .getContainers()
        .get(0)
        .setVolumeMounts(
            List.of(
                new io.fabric8.kubernetes.api.model.VolumeMountBuilder()
                    .withName("data")
                    .withMountPath(mountPath)
                    .withSubPath(subPath.isEmpty() ? null : subPath)
                    .build()));
    return pod;
  }

  @Test
  void aMissingImageWaitsWithErrImagePull() {
    String name = name("noimage");
    Pod pod = pod(name, "true");
    pod.getSpec().getContainers().get(0).setImage("no-such-image-here:1");
    client.resource(pod).create();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              var statuses = client.pods().withName(name).get().getStatus().getContainerStatuses();
              return statuses != null
                  && !statuses.isEmpty()
                  && statuses.get(0).getState().getWaiting() != null
                  && List.of("ErrImagePull", "ImagePullBackOff")
                      .contains(statuses.get(0).getState().getWaiting().getReason());
            });
    assertThat(client.pods().withName(name).get().getStatus().getPhase()).isEqualTo("Pending");
    String late = name("noimage-deadline");
    Pod deadline = pod(late, "true");
    deadline.getSpec().getContainers().get(0).setImage("no-such-image-here:1");
    deadline.getSpec().setActiveDeadlineSeconds(1L);
    client.resource(deadline).create();
    assertThat(awaitPhase(late, "Failed").getStatus().getReason()).isEqualTo("DeadlineExceeded");
  }

  @Test
  void aPodDeletedWhileItsContainerIsCreatedLeavesNothing() {
    String name = name("early");
    Pod pod = pod(name, "sleep", "600");
    pod.getSpec()
        .setVolumes(
            List.of(
                new io.fabric8.kubernetes.api.model.VolumeBuilder()
                    .withName("scratch")
                    .withNewEmptyDir()
                    .endEmptyDir()
                    .build()));
    String uid = client.resource(pod).create().getMetadata().getUid();
    client.pods().withName(name).withGracePeriod(0).delete();
    assertThat(client.pods().withName(name).get()).isNull();
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () ->
                assertThat(kubelet.leftovers())
                    .filteredOn(line -> line.contains(name) || line.contains(uid))
                    .isEmpty());
  }

  @Test
  void manyPodsRunAtOnce() {
    List<String> names = new java.util.ArrayList<>();
    for (int i = 0; i < 8; i++) {
      names.add(name("many"));
    }
    names.parallelStream().forEach(n -> client.resource(pod(n, "sh", "-c", "echo " + n)).create());
    for (String n : names) {
      awaitPhase(n, "Succeeded");
    }
    assertThat(client.pods().withLabel("test", "emulated").list().getItems())
        .extracting(p -> p.getMetadata().getName())
        .containsAll(names);
  }

  @Test
  void anInformerListsThenWatchesFromTheListsResourceVersion() {
    String name = name("informed");
    List<String> seen = new CopyOnWriteArrayList<>();
    var informer =
        client
            .pods()
            .withLabel("test", "emulated")
            .inform(
                new io.fabric8.kubernetes.client.informers.ResourceEventHandler<Pod>() {
                  @Override
                  public void onAdd(Pod pod) {
                    seen.add("add " + pod.getMetadata().getName());
                  }

                  @Override
                  public void onUpdate(Pod old, Pod pod) {
                    seen.add(
                        "update " + pod.getMetadata().getName() + " " + pod.getStatus().getPhase());
                  }

                  @Override
                  public void onDelete(Pod pod, boolean unknownFinalState) {
                    seen.add("delete " + pod.getMetadata().getName());
                  }
                });
    try {
      client.resource(pod(name, "true")).create();
      awaitPhase(name, "Succeeded");
      client.pods().withName(name).delete();
      await().atMost(Duration.ofSeconds(30)).until(() -> seen.contains("delete " + name));
      assertThat(seen).contains("add " + name, "update " + name + " Succeeded");
    } finally {
      informer.close();
    }
  }

  @Test
  void execOverV5EndsInputWithTheCloseChannel() throws Exception {
    String name = name("v5");
    client.resource(pod(name, "sleep", "600")).create();
    awaitPhase(name, "Running");
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    java.util.concurrent.CompletableFuture<String> status =
        new java.util.concurrent.CompletableFuture<>();
    java.net.http.WebSocket socket =
        HTTP.newWebSocketBuilder()
            .subprotocols("v5.channel.k8s.io")
            .buildAsync(
                URI.create(
                    kubelet.url().toString().replace("http:", "ws:")
                        + "/api/v1/namespaces/default/pods/"
                        + name
                        + "/exec?command=cat&stdin=true&stdout=true&stderr=true"),
                new java.net.http.WebSocket.Listener() {
                  @Override
                  public java.util.concurrent.CompletionStage<?> onBinary(
                      java.net.http.WebSocket ws, java.nio.ByteBuffer data, boolean last) {
                    byte[] bytes = new byte[data.remaining()];
                    data.get(bytes);
                    if (bytes[0] == 1) {
                      stdout.write(bytes, 1, bytes.length - 1);
                    } else if (bytes[0] == 3) {
                      status.complete(
                          new String(bytes, 1, bytes.length - 1, StandardCharsets.UTF_8));
                    }
                    ws.request(1);
                    return null;
                  }
                })
            .get(30, TimeUnit.SECONDS);
    try {
      assertThat(socket.getSubprotocol()).isEqualTo("v5.channel.k8s.io");
      socket
          .sendBinary(java.nio.ByteBuffer.wrap(new byte[] {0, 'a', 'b', 'c'}), true)
          .get(30, TimeUnit.SECONDS);
      socket
          .sendBinary(java.nio.ByteBuffer.wrap(new byte[] {(byte) 255, 0}), true)
          .get(30, TimeUnit.SECONDS);
      assertThat(status.get(60, TimeUnit.SECONDS)).contains("\"status\":\"Success\"");
      assertThat(stdout.toString(StandardCharsets.UTF_8)).isEqualTo("abc");
    } finally {
      socket.abort();
    }
  }

  @Test
  void aMemoryLimitEndsAGreedyContainerWithOomKilled() {
    String name = name("oom");
    Pod pod = pod(name, "sh", "-c", "head -c 200000000 /dev/zero | tail > /dev/null");
    pod.getSpec()
        .getContainers()
        .get(0)
        .setResources(
            new io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder()
                .withLimits(Map.of("memory", new Quantity("16Mi")))
                .withRequests(Map.of("cpu", new Quantity("250m")))
                .build());
    client.resource(pod).create();
    Pod failed = awaitPhase(name, "Failed");
    assertThat(
            failed.getStatus().getContainerStatuses().get(0).getState().getTerminated().getReason())
        .isEqualTo("OOMKilled");
  }

  @Test
  void theKubeconfigNamesTheServerAndTheDefaultNamespace() throws Exception {
    var config =
        io.fabric8.kubernetes.client.Config.fromKubeconfig(
            java.nio.file.Files.readString(kubelet.kubeconfig()));
    assertThat(config.getMasterUrl()).startsWith(kubelet.url().toString());
    assertThat(config.getNamespace()).isEqualTo("default");
    assertThat(kubelet.toString()).contains("emulated");
  }

  @Test
  void aLargeLogStreamsWholeWhileFollowedAndAfterwards() throws Exception {
    String name = name("big");
    long size = 64L * 1024 * 1024 + 3;
    client.resource(pod(name, "sh", "-c", "head -c " + size + " /dev/urandom")).create();
    awaitPhase(name, "Running");
    assertThat(countLog(name, "follow=true&stream=Stdout")).isEqualTo(size);
    awaitPhase(name, "Succeeded");
    assertThat(countLog(name, "stream=Stdout")).isEqualTo(size);
    assertThat(countLog(name, "stream=Stderr")).isZero();
    assertThat(countLog(name, "limitBytes=1000")).isEqualTo(1000);
  }

  private static long countLog(String name, String query) throws Exception {
    HttpResponse<InputStream> answer =
        HTTP.send(
            HttpRequest.newBuilder(
                    URI.create(
                        kubelet.url()
                            + "/api/v1/namespaces/default/pods/"
                            + name
                            + "/log?"
                            + query))
                .build(),
            HttpResponse.BodyHandlers.ofInputStream());
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

  @Test
  void closeLeavesNothingBehind() {
    EmulatedKubelet own = EmulatedKubelet.start();
    try (KubernetesClient other = new KubernetesClientBuilder().withConfig(own.config()).build()) {
      Pod pod = pod("sleeper", "sleep", "600");
      pod.getSpec()
          .setVolumes(
              List.of(
                  new io.fabric8.kubernetes.api.model.VolumeBuilder()
                      .withName("scratch")
                      .withNewEmptyDir()
                      .endEmptyDir()
                      .build()));
      other.resource(pod).create();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  "Running".equals(other.pods().withName("sleeper").get().getStatus().getPhase()));
      assertThat(own.leftovers()).isNotEmpty();
    } finally {
      own.close();
      own.close();
    }
    assertThat(own.leftovers()).isEmpty();
  }
}
