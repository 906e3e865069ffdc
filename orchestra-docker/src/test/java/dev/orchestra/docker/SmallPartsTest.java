package dev.orchestra.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.transport.DockerHttpClient;
import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.channels.ClosedByInterruptException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The driver's small pure helpers: image references, pull policies, the engine's answers. */
class SmallPartsTest {

  @Test
  void imageReferencesSplitIntoRepositoryAndTag() {
    assertThat(ImageReference.parse("busybox")).isEqualTo(new ImageReference("busybox", "latest"));
    assertThat(ImageReference.parse("busybox:1.36"))
        .isEqualTo(new ImageReference("busybox", "1.36"));
    assertThat(ImageReference.parse("registry:5000/team/app"))
        .isEqualTo(new ImageReference("registry:5000/team/app", "latest"));
    assertThat(ImageReference.parse("registry:5000/app:2"))
        .isEqualTo(new ImageReference("registry:5000/app", "2"));
    assertThat(ImageReference.parse("app@sha256:abc"))
        .isEqualTo(new ImageReference("app", "sha256:abc"));
  }

  @Test
  void pullPolicyParsesItsThreeValues() {
    assertThat(PullPolicy.parse("missing")).isEqualTo(PullPolicy.MISSING);
    assertThat(PullPolicy.parse("Always")).isEqualTo(PullPolicy.ALWAYS);
    assertThat(PullPolicy.parse(" never ")).isEqualTo(PullPolicy.NEVER);
    assertThatThrownBy(() -> PullPolicy.parse("daily"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'daily'");
  }

  @Test
  void theEnginesMessageIsTakenOutOfItsJson() {
    NotFoundException e =
        new NotFoundException("Status 404: {\"message\":\"No such container: a\\\"b\\u00e9\"}\n");
    assertThat(EngineErrors.answer(e))
        .isEqualTo("the engine answered HTTP 404: No such container: a\"bé");
  }

  @Test
  void aTransportFailureNamesItsRootCause() {
    RuntimeException e = new RuntimeException(new ConnectException("Connection refused"));
    assertThat(EngineErrors.answer(e))
        .isEqualTo("no answer from the engine: ConnectException: Connection refused");
    assertThat(EngineErrors.failure("starting task t", e))
        .isInstanceOf(OrchestraException.class)
        .hasMessage(
            "starting task t failed: no answer from the engine: ConnectException: Connection refused")
        .hasCause(e);
  }

  @Test
  void anUnreachableEngineIsNamedByItsAddress() {
    RuntimeException e =
        new RuntimeException(
            new ReconnectingHttpClient.EngineUnreachableException(
                URI.create("unix:///run/engine.sock"),
                new SocketException("No such file or directory")));
    assertThat(EngineErrors.failure("creating volume v", e))
        .hasMessage(
            "creating volume v failed: no answer from the Docker engine at"
                + " unix:///run/engine.sock: SocketException: No such file or directory");
  }

  @Test
  void onlyAKeptConnectionTheEngineClosedIsSentAgain() {
    assertThat(ReconnectingHttpClient.isStaleConnection(new SocketException("Broken pipe")))
        .isTrue();
    assertThat(ReconnectingHttpClient.isStaleConnection(new IOException("Broken pipe"))).isTrue();
    assertThat(
            ReconnectingHttpClient.isStaleConnection(
                new SocketException("Connection reset by peer")))
        .isTrue();
    assertThat(
            ReconnectingHttpClient.isStaleConnection(
                new org.apache.hc.core5.http.NoHttpResponseException("failed to respond")))
        .isTrue();
    assertThat(ReconnectingHttpClient.isStaleConnection(new ConnectException("Connection refused")))
        .isFalse();
    assertThat(
            ReconnectingHttpClient.isStaleConnection(
                new SocketException("No such file or directory")))
        .isFalse();
    assertThat(
            ReconnectingHttpClient.isStaleConnection(new SocketTimeoutException("Read timed out")))
        .isFalse();
  }

  @Test
  void anInterruptionStaysAnInterruption() {
    try {
      assertThat(EngineErrors.failure("waiting", new InterruptedException()))
          .isInstanceOf(OrchestraInterruptedException.class);
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
  }

  /**
   * A request's deadline ends a read on a channel-based socket by interrupting it: the failure
   * carries a {@link ClosedByInterruptException}, and the interrupt is cleared. It is a timeout.
   * Taken for an interruption, the call would throw an OrchestraInterruptedException and set the
   * flag of a thread that nobody interrupted.
   */
  @Test
  void aDeadlinesInterruptIsATimeoutNotAnInterruption() {
    URI host = URI.create("unix:///var/run/docker.sock");
    RuntimeException timedOut =
        new ReconnectingHttpClient.EngineUnreachableException(
            new EngineTimeoutException(
                host, Duration.ofSeconds(60), new ClosedByInterruptException()));
    try {
      assertThat(EngineErrors.failure("reading the status of container c", timedOut))
          .isExactlyInstanceOf(OrchestraException.class)
          .hasMessageContaining("did not answer within PT1M");
      assertThat(Thread.currentThread().isInterrupted()).isFalse();
    } finally {
      Thread.interrupted();
    }
  }

  @Test
  void podmansReadsThatMeetAnExitingProcessAreSentAgainItsWritesNever() throws Exception {
    String exiting =
        "{\"cause\":\"no such process\",\"message\":\"open /proc/1/cgroup: no such"
            + " process\",\"response\":500}";
    List<String> sent = new ArrayList<>();
    DockerHttpClient engine =
        new DockerHttpClient() {
          @Override
          public Response execute(Request request) {
            sent.add(request.method() + " " + request.path());
            boolean fails = !"GET".equals(request.method()) || sent.size() < 3;
            return answer(fails ? 500 : 200, fails ? exiting : "{}");
          }

          @Override
          public void close() {}
        };
    try (RequestDeadlines deadlines =
            new RequestDeadlines(URI.create("unix:///podman.sock"), Duration.ofSeconds(10));
        ReconnectingHttpClient client =
            new ReconnectingHttpClient(
                engine,
                URI.create("unix:///podman.sock"),
                () -> {},
                1,
                deadlines,
                true,
                new AtomicReference<>(EngineFlavour.PODMAN))) {
      DockerHttpClient.Request inspect =
          DockerHttpClient.Request.builder()
              .method(DockerHttpClient.Request.Method.GET)
              .path("/containers/x/json")
              .build();
      assertThat(client.execute(inspect).getStatusCode()).isEqualTo(200);
      assertThat(sent).hasSize(3);

      sent.clear();
      DockerHttpClient.Request kill =
          DockerHttpClient.Request.builder()
              .method(DockerHttpClient.Request.Method.POST)
              .path("/containers/x/kill")
              .build();
      assertThat(client.execute(kill).getStatusCode()).isEqualTo(500);
      assertThat(sent).hasSize(1);
    }
  }

  private static DockerHttpClient.Response answer(int status, String body) {
    return new DockerHttpClient.Response() {
      @Override
      public int getStatusCode() {
        return status;
      }

      @Override
      public Map<String, List<String>> getHeaders() {
        return Map.of();
      }

      @Override
      public String getHeader(String name) {
        return null;
      }

      @Override
      public InputStream getBody() {
        return new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8));
      }

      @Override
      public void close() {}
    };
  }
}
