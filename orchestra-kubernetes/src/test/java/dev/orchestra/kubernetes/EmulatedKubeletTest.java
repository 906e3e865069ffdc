package dev.orchestra.kubernetes;

import static dev.orchestra.kubernetes.EmulatedPods.HTTP;
import static dev.orchestra.kubernetes.EmulatedPods.name;
import static dev.orchestra.kubernetes.EmulatedPods.pod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Pod;
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
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

@DisplayName(
    "EmulatedKubelet (emulated Kubernetes API server and kubelet on Docker, not a real cluster)")
@ExtendWith(EmulatedKubeletCondition.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
// Its tests share one emulated cluster and name their pods plainly: one after the other.
@Execution(ExecutionMode.SAME_THREAD)
class EmulatedKubeletTest {

  @RegisterExtension static final EmulatedPods pods = new EmulatedPods();

  @Test
  void aPodRunsToSucceededWithExitZeroAndToFailedWithExitThree() {
    String ok = name("ok");
    String bad = name("bad");
    pods.client.resource(pod(ok, "sh", "-c", "exit 0")).create();
    pods.client.resource(pod(bad, "sh", "-c", "exit 3")).create();
    Pod succeeded = pods.awaitPhase(ok, "Succeeded");
    Pod failed = pods.awaitPhase(bad, "Failed");
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
  void attachDeliversSeveralMebibytesOfStdinThenEndOfFile() throws Exception {
    String name = name("attach");
    pods.client.resource(stdinPod(name, "wc -c")).create();
    pods.awaitPhase(name, "Running");
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
    pods.awaitPhase(name, "Succeeded");
  }

  @Test
  void aFabric8AttachEndsTheInputOfAStdinOncePodWhenItCloses() throws Exception {
    String name = name("attach-fabric8");
    pods.client.resource(stdinPod(name, "wc -c")).create();
    pods.awaitPhase(name, "Running");
    try (ExecWatch watch =
        pods.client
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
    pods.awaitPhase(name, "Succeeded");
    assertThat(new String(pods.log(name, ""), StandardCharsets.UTF_8).trim()).isEqualTo("1000");
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
                      pods.kubelet.url().toString().replace("http:", "ws:")
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
    pods.client.resource(pod(name, "sleep", "600")).create();
    pods.awaitPhase(name, "Running");
    assertThat(pods.client.pods().withName(name).get().getStatus().getPodIP()).isNotBlank();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try (ExecWatch watch =
        pods.client
            .pods()
            .withName(name)
            .writingOutput(out)
            .writingError(err)
            .exec("sh", "-c", "echo hi; echo oops >&2; exit 3")) {
      assertThat(watch.exitCode().get(60, TimeUnit.SECONDS)).isEqualTo(3);
    }
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("hi\n");
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("oops\n");
    try (ExecWatch watch = pods.client.pods().withName(name).writingOutput(out).exec("true")) {
      assertThat(watch.exitCode().get(60, TimeUnit.SECONDS)).isZero();
    }
    ByteArrayOutputStream echoed = new ByteArrayOutputStream();
    // fabric8 8.0.0 speaks v4.channel.k8s.io, which cannot end an exec's input alone: closing it
    // closes the whole stream, and the status is lost; so this command ends by itself
    try (ExecWatch watch =
        pods.client
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
    pods.client.resource(pod).create();
    Pod failed = pods.awaitPhase(name, "Failed");
    assertThat(failed.getStatus().getReason()).isEqualTo("DeadlineExceeded");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                pods.client
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
    pods.client.resource(pod).create();
    pods.awaitPhase(name, "Running");
    assertThatThrownBy(
            () ->
                pods.client
                    .pods()
                    .withName(name)
                    .patch(
                        PatchContext.of(PatchType.JSON_MERGE),
                        "{\"spec\":{\"activeDeadlineSeconds\":900}}"))
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(422));
    assertThatThrownBy(
            () ->
                pods.client
                    .pods()
                    .withName(name)
                    .patch(
                        PatchContext.of(PatchType.JSON_MERGE),
                        "{\"spec\":{\"restartPolicy\":\"Always\"}}"))
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(422));
    pods.client
        .pods()
        .withName(name)
        .edit(
            p -> {
              p.getSpec().setActiveDeadlineSeconds(1L);
              return p;
            });
    Pod failed = pods.awaitPhase(name, "Failed");
    assertThat(failed.getStatus().getReason()).isEqualTo("DeadlineExceeded");
    assertThat(failed.getSpec().getActiveDeadlineSeconds()).isEqualTo(1L);
  }

  @Test
  void deletionWithGraceKillsATermIgnoringProcessAfterTheGrace() {
    String name = name("grace");
    pods.client
        .resource(pod(name, "sh", "-c", "trap '' TERM; while true; do sleep 1; done"))
        .create();
    pods.awaitPhase(name, "Running");
    long start = System.nanoTime();
    pods.client.pods().withName(name).withGracePeriod(2).delete();
    Pod deleting = pods.client.pods().withName(name).get();
    assertThat(deleting).isNotNull();
    assertThat(deleting.getMetadata().getDeletionTimestamp()).isNotNull();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> pods.client.pods().withName(name).get() == null);
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .isGreaterThanOrEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void aWatchSeesAddedModifiedAndDeleted() {
    String name = name("watched");
    List<String> events = new CopyOnWriteArrayList<>();
    try (Watch watch =
        pods.client
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
      pods.client.resource(pod(name, "true")).create();
      pods.awaitPhase(name, "Succeeded");
      pods.client.pods().withName(name).delete();
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
    pods.client.resource(pod(name, "sleep", "600")).create();
    assertThatThrownBy(() -> pods.client.resource(pod(name, "true")).create())
        .isInstanceOfSatisfying(
            KubernetesClientException.class,
            e -> {
              assertThat(e.getCode()).isEqualTo(409);
              assertThat(e.getStatus().getReason()).isEqualTo("AlreadyExists");
              assertThat(e.getStatus().getDetails().getName()).isEqualTo(name);
            });
    assertThatThrownBy(() -> pods.client.resource(pod("Not_Valid", "true")).create())
        .isInstanceOfSatisfying(
            KubernetesClientException.class,
            e -> {
              assertThat(e.getCode()).isEqualTo(422);
              assertThat(e.getStatus().getReason()).isEqualTo("Invalid");
            });
    Pod badLabel = pod(name("label"), "true");
    badLabel.getMetadata().setLabels(Map.of("bad key", "x"));
    assertThatThrownBy(() -> pods.client.resource(badLabel).create())
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(422));
    HttpResponse<String> missing =
        HTTP.send(
            HttpRequest.newBuilder(
                    URI.create(pods.kubelet.url() + "/api/v1/namespaces/default/pods/nope"))
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
    assertThat(pods.client.pods().withName("nope").get()).isNull();
    Pod withStatus = pods.client.pods().withName(name).get();
    withStatus.getStatus().setPhase("Succeeded");
    withStatus.getMetadata().setResourceVersion(null);
    pods.client.resource(withStatus).update();
    assertThat(pods.client.pods().withName(name).get().getStatus().getPhase())
        .isNotEqualTo("Succeeded");
    assertThat(pods.client.getKubernetesVersion().getMinor()).isEqualTo("33");
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
    assertThatThrownBy(() -> pods.client.resource(configMap).create())
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
    pods.client.resource(pvc).create();
    assertThat(pods.client.persistentVolumeClaims().withName(claim).get().getStatus().getPhase())
        .isEqualTo("Bound");
    String writer = name("writer");
    String reader = name("reader");
    pods.client
        .resource(withClaim(pod(writer, "sh", "-c", "echo shared > /data/sub/file"), claim, "sub"))
        .create();
    pods.awaitPhase(writer, "Succeeded");
    pods.client.resource(withClaim(pod(reader, "cat", "/data/sub/file"), claim, "")).create();
    pods.awaitPhase(reader, "Succeeded");
    assertThat(new String(pods.log(reader, ""), StandardCharsets.UTF_8)).isEqualTo("shared\n");
    pods.client.persistentVolumeClaims().withName(claim).delete();
    assertThat(
            pods.client
                .persistentVolumeClaims()
                .withName(claim)
                .get()
                .getMetadata()
                .getDeletionTimestamp())
        .isNotNull();
    pods.client.pods().withName(writer).withGracePeriod(0).delete();
    pods.client.pods().withName(reader).withGracePeriod(0).delete();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> pods.client.persistentVolumeClaims().withName(claim).get() == null);
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
    pods.client.resource(pod).create();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              var statuses =
                  pods.client.pods().withName(name).get().getStatus().getContainerStatuses();
              return statuses != null
                  && !statuses.isEmpty()
                  && statuses.get(0).getState().getWaiting() != null
                  && List.of("ErrImagePull", "ImagePullBackOff")
                      .contains(statuses.get(0).getState().getWaiting().getReason());
            });
    assertThat(pods.client.pods().withName(name).get().getStatus().getPhase()).isEqualTo("Pending");
    String late = name("noimage-deadline");
    Pod deadline = pod(late, "true");
    deadline.getSpec().getContainers().get(0).setImage("no-such-image-here:1");
    deadline.getSpec().setActiveDeadlineSeconds(1L);
    pods.client.resource(deadline).create();
    assertThat(pods.awaitPhase(late, "Failed").getStatus().getReason())
        .isEqualTo("DeadlineExceeded");
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
    String uid = pods.client.resource(pod).create().getMetadata().getUid();
    pods.client.pods().withName(name).withGracePeriod(0).delete();
    assertThat(pods.client.pods().withName(name).get()).isNull();
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () ->
                assertThat(pods.kubelet.leftovers())
                    .filteredOn(line -> line.contains(name) || line.contains(uid))
                    .isEmpty());
  }

  @Test
  void manyPodsRunAtOnce() {
    List<String> names = new java.util.ArrayList<>();
    for (int i = 0; i < 8; i++) {
      names.add(name("many"));
    }
    names.parallelStream()
        .forEach(n -> pods.client.resource(pod(n, "sh", "-c", "echo " + n)).create());
    for (String n : names) {
      pods.awaitPhase(n, "Succeeded");
    }
    assertThat(pods.client.pods().withLabel("test", "emulated").list().getItems())
        .extracting(p -> p.getMetadata().getName())
        .containsAll(names);
  }

  @Test
  void anInformerListsThenWatchesFromTheListsResourceVersion() {
    String name = name("informed");
    List<String> seen = new CopyOnWriteArrayList<>();
    var informer =
        pods.client
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
      pods.client.resource(pod(name, "true")).create();
      pods.awaitPhase(name, "Succeeded");
      pods.client.pods().withName(name).delete();
      await().atMost(Duration.ofSeconds(30)).until(() -> seen.contains("delete " + name));
      assertThat(seen).contains("add " + name, "update " + name + " Succeeded");
    } finally {
      informer.close();
    }
  }

  @Test
  void execOverV5EndsInputWithTheCloseChannel() throws Exception {
    String name = name("v5");
    pods.client.resource(pod(name, "sleep", "600")).create();
    pods.awaitPhase(name, "Running");
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    java.util.concurrent.CompletableFuture<String> status =
        new java.util.concurrent.CompletableFuture<>();
    java.net.http.WebSocket socket =
        HTTP.newWebSocketBuilder()
            .subprotocols("v5.channel.k8s.io")
            .buildAsync(
                URI.create(
                    pods.kubelet.url().toString().replace("http:", "ws:")
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
    pods.client.resource(pod).create();
    Pod failed = pods.awaitPhase(name, "Failed");
    assertThat(
            failed.getStatus().getContainerStatuses().get(0).getState().getTerminated().getReason())
        .isEqualTo("OOMKilled");
  }

  @Test
  void theKubeconfigNamesTheServerAndTheDefaultNamespace() throws Exception {
    var config =
        io.fabric8.kubernetes.client.Config.fromKubeconfig(
            java.nio.file.Files.readString(pods.kubelet.kubeconfig()));
    assertThat(config.getMasterUrl()).startsWith(pods.kubelet.url().toString());
    assertThat(config.getNamespace()).isEqualTo("default");
    assertThat(pods.kubelet.toString()).contains("emulated");
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
