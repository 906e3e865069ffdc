package dev.orchestra.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.orchestra.OrchestraException;
import io.fabric8.kubernetes.client.http.WebSocket;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The exec protocol of sandbox steps ({@code v5.channel.k8s.io}) on points the emulated kubelet
 * cannot show: what the API server sends when things go wrong (a connection dropped without a
 * status, a failure that is not an exit code), and the messages the driver sends for stdin.
 */
class ExecChannelUnitTest {

  private static final String SUCCESS = "{\"metadata\":{},\"status\":\"Success\"}";

  private final KubernetesSerialization serialization = new KubernetesSerialization();
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private final CompletableFuture<Integer> exit = new CompletableFuture<>();
  private final FakeSocket ws = new FakeSocket();
  private final ExecChannel.Listener listener =
      new ExecChannel.Listener(
          serialization,
          (stderr, bytes, offset, length) -> (stderr ? err : out).write(bytes, offset, length),
          exit,
          "the exec of a test step");

  @Test
  void outputByChannelAndSuccessFromTheStatus() throws Exception {
    listener.onOpen(ws);
    receive(1); // the empty message that opens the connection
    receive(1, "out");
    receive(2, "err");
    receive(1, "put");
    receive(3, SUCCESS);
    listener.onClose(ws, 1000, "");

    assertThat(exit.get(1, TimeUnit.SECONDS)).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("output");
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("err");
    assertThat(ws.requested).as("request() after open and each message").isEqualTo(6);
  }

  @Test
  void nonZeroExitCodeFromItsCause() throws Exception {
    receive(
        3,
        "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command terminated with non-zero"
            + " exit code\",\"reason\":\"NonZeroExitCode\",\"details\":{\"causes\":"
            + "[{\"reason\":\"ExitCode\",\"message\":\"7\"}]}}");
    listener.onClose(ws, 1000, "");

    assertThat(exit.get(1, TimeUnit.SECONDS)).isEqualTo(7);
  }

  @Test
  void closedWithoutStatusIsAFailureNotASuccess() {
    receive(1, "partial output");
    listener.onClose(ws, 1006, "");

    assertThatThrownBy(() -> exit.get(1, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(OrchestraException.class)
        .hasMessageContaining("ended without the exec's status");
  }

  @Test
  void droppedConnectionWithoutStatusIsAFailure() {
    listener.onError(ws, new IOException("connection reset"));

    assertThatThrownBy(() -> exit.get(1, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(OrchestraException.class)
        .hasMessageContaining("connection reset");
  }

  @Test
  void failureThatIsNotAnExitCodeIsAFailure() {
    receive(
        3,
        "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"container not found\","
            + "\"reason\":\"InternalError\"}");
    listener.onClose(ws, 1000, "");

    assertThatThrownBy(() -> exit.get(1, TimeUnit.SECONDS))
        .cause()
        .isInstanceOf(OrchestraException.class)
        .hasMessageContaining("InternalError")
        .hasMessageContaining("container not found");
  }

  @Test
  void stdinOnChannelZeroThenTheV5CloseOfChannelZero() throws Exception {
    ExecChannel channel = new ExecChannel("a test step", ws, exit);
    try (OutputStream in = channel.stdin()) {
      in.write("abc".getBytes(StandardCharsets.UTF_8));
      in.write(new byte[0]);
    }

    assertThat(ws.sent).hasSize(2);
    assertThat(ws.sent.get(0)).containsExactly(0, 'a', 'b', 'c');
    assertThat(ws.sent.get(1)).as("the close message of v5").containsExactly(255, 0);
  }

  @Test
  void stdinWaitsForThePreviousMessageToLeave() throws Exception {
    ExecChannel channel = new ExecChannel("a test step", ws, exit);
    ws.queued.set(1);
    CompletableFuture<Void> writing =
        CompletableFuture.runAsync(
            () -> {
              try {
                channel.stdin().write(new byte[] {1});
              } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            });

    assertThatThrownBy(() -> writing.get(200, TimeUnit.MILLISECONDS))
        .isInstanceOf(java.util.concurrent.TimeoutException.class);
    assertThat(ws.sent).as("nothing sent while the queue holds a message").isEmpty();
    ws.queued.set(0);
    writing.get(10, TimeUnit.SECONDS);
    assertThat(ws.sent).hasSize(1);
  }

  @Test
  void stdinOfAnEndedExecFails() {
    ExecChannel channel = new ExecChannel("a test step", ws, exit);
    ws.queued.set(1);
    exit.complete(0);

    assertThatThrownBy(() -> channel.stdin().write(new byte[] {1}))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("ended");
  }

  private void receive(int channel) {
    listener.onMessage(ws, ByteBuffer.wrap(new byte[] {(byte) channel}));
  }

  private void receive(int channel, String text) {
    byte[] data = text.getBytes(StandardCharsets.UTF_8);
    ByteBuffer message = ByteBuffer.allocate(data.length + 1);
    message.put((byte) channel).put(data).flip();
    listener.onMessage(ws, message);
  }

  /** Records what the driver sends; its queue size is what the test sets. */
  private static final class FakeSocket implements WebSocket {
    final List<int[]> sent = java.util.Collections.synchronizedList(new ArrayList<>());
    final AtomicLong queued = new AtomicLong();
    int requested;

    @Override
    public synchronized boolean send(ByteBuffer buffer) {
      int[] message = new int[buffer.remaining()];
      for (int i = 0; i < message.length; i++) {
        message[i] = buffer.get() & 0xff;
      }
      sent.add(message);
      return true;
    }

    @Override
    public boolean sendClose(int code, String reason) {
      return true;
    }

    @Override
    public long queueSize() {
      return queued.get();
    }

    @Override
    public void request() {
      requested++;
    }
  }
}
