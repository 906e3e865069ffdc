package dev.orchestra.kubernetes;

import static dev.orchestra.kubernetes.EmulatedPods.HTTP;
import static dev.orchestra.kubernetes.EmulatedPods.name;
import static dev.orchestra.kubernetes.EmulatedPods.pod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

@DisplayName(
    "EmulatedKubelet pod logs (emulated API server and kubelet on Docker, not a real cluster)")
@ExtendWith(EmulatedKubeletCondition.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
// Its tests share one emulated cluster and name their pods plainly: one after the other.
@Execution(ExecutionMode.SAME_THREAD)
class EmulatedKubeletLogTest {

  @RegisterExtension static final EmulatedPods pods = new EmulatedPods();

  @Test
  void logsSplitByStreamAreByteExactWithBinaryAndNoFinalNewline() throws Exception {
    String name = name("logs");
    pods.client
        .resource(pod(name, "sh", "-c", "printf 'out\\000\\377\\n2nd'; printf 'err\\001' >&2"))
        .create();
    pods.awaitPhase(name, "Succeeded");
    byte[] out = {'o', 'u', 't', 0, (byte) 0xff, '\n', '2', 'n', 'd'};
    assertThat(pods.log(name, "stream=Stdout")).isEqualTo(out);
    assertThat(pods.log(name, "stream=Stderr")).isEqualTo(new byte[] {'e', 'r', 'r', 1});
    assertThat(pods.log(name, "")).hasSize(out.length + 4);
    assertThat(pods.log(name, "stream=Stdout&limitBytes=4"))
        .isEqualTo(new byte[] {'o', 'u', 't', 0});
    assertThat(pods.client.pods().withName(name).getLog()).startsWith("out");
  }

  @Test
  void tailLinesTimestampsAndSinceTimeSelectTheLogsLines() throws Exception {
    String name = name("select");
    pods.client.resource(pod(name, "sh", "-c", "printf 'a\\nb\\nc'")).create();
    pods.awaitPhase(name, "Succeeded");
    assertThat(new String(pods.log(name, "tailLines=2"), StandardCharsets.UTF_8)).isEqualTo("b\nc");
    String stamped = new String(pods.log(name, "timestamps=true"), StandardCharsets.UTF_8);
    assertThat(stamped)
        .matches(
            "(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z a\\n)"
                + "(\\d{4}-\\S+Z b\\n)(\\d{4}-\\S+Z c)");
    String first = stamped.substring(0, stamped.indexOf(' '));
    assertThat(pods.log(name, "sinceTime=2000-01-01T00:00:00Z")).hasSize(5);
    assertThat(pods.log(name, "sinceTime=2999-01-01T00:00:00Z")).isEmpty();
    assertThat(new String(pods.log(name, "sinceTime=" + first), StandardCharsets.UTF_8))
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
      pods.client.resource(pod(names.get(i), "sh", "-c", script)).create();
    }
    for (String name : names) {
      pods.awaitPhase(name, "Succeeded");
      assertThat(new String(pods.log(name, "stream=Stdout"), StandardCharsets.UTF_8))
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
    pods.client
        .resource(pod(name, "sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.3; done"))
        .create();
    pods.awaitPhase(name, "Running");
    HttpResponse<InputStream> answer =
        pods.get(name, "log?follow=true", HttpResponse.BodyHandlers.ofInputStream());
    try (InputStream body = answer.body()) {
      assertThat(new String(body.readAllBytes(), StandardCharsets.UTF_8))
          .isEqualTo("line1\nline2\nline3\n");
    }
    assertThat(pods.client.pods().withName(name).get().getStatus().getPhase())
        .isIn("Running", "Succeeded");
    pods.awaitPhase(name, "Succeeded");
    HttpResponse<String> refused =
        pods.get(name, "exec?command=true&stdout=true", HttpResponse.BodyHandlers.ofString());
    assertThat(refused.statusCode()).isEqualTo(400);
    assertThat(refused.body())
        .contains("cannot exec into a container in a completed pod; current phase is Succeeded");
    HttpResponse<String> previous =
        pods.get(name, "log?previous=true", HttpResponse.BodyHandlers.ofString());
    assertThat(previous.statusCode()).isEqualTo(400);
  }

  @Test
  void aLargeLogStreamsWholeWhileFollowedAndAfterwards() throws Exception {
    String name = name("big");
    long size = 64L * 1024 * 1024 + 3;
    pods.client.resource(pod(name, "sh", "-c", "head -c " + size + " /dev/urandom")).create();
    pods.awaitPhase(name, "Running");
    assertThat(pods.countLog(name, "follow=true&stream=Stdout")).isEqualTo(size);
    pods.awaitPhase(name, "Succeeded");
    assertThat(pods.countLog(name, "stream=Stdout")).isEqualTo(size);
    assertThat(pods.countLog(name, "stream=Stderr")).isZero();
    assertThat(pods.countLog(name, "limitBytes=1000")).isEqualTo(1000);
  }
}
