package dev.orchestra.kubernetes.kubelet;

import com.github.dockerjava.api.exception.DockerException;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A pod's streams: its log
 * (https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#get-read-log-of-the-specified-pod,
 * with {@code stream} of
 * https://kubernetes.io/docs/concepts/cluster-administration/logging/#log-query-split-streams
 * unless the server emulates a cluster without the PodLogsQuerySplitStreams gate), {@code exec} and
 * {@code attach} over WebSocket (https://kubernetes.io/docs/reference/using-api/websockets/ and the
 * KEP-4006 channel protocols). The log is the node's own ({@link ContainerLog}); exec and attach
 * are bridged to the Docker engine's.
 */
final class Streams {

  private static final Logger LOG = LoggerFactory.getLogger(Streams.class);

  private final Kubelet kubelet;
  private final boolean mergingStreams;

  Streams(Kubelet kubelet, boolean mergingStreams) {
    this.kubelet = kubelet;
    this.mergingStreams = mergingStreams;
  }

  private String containerName(ObjectNode pod, String requested) {
    JsonNode containers = pod.path("spec").path("containers");
    String podName = pod.path("metadata").path("name").asString();
    if (requested == null || requested.isEmpty()) {
      if (containers.size() != 1) {
        throw ApiStatus.Failure.badRequest("a container name must be specified for pod " + podName);
      }
      return containers.path(0).path("name").asString();
    }
    for (JsonNode c : containers) {
      if (requested.equals(c.path("name").asString())) {
        return requested;
      }
    }
    throw ApiStatus.Failure.badRequest(
        "container " + requested + " is not valid for pod " + podName);
  }

  /** The started container, or a 400 as the kubelet answers for one waiting to start. */
  private PodWorker started(ObjectNode pod, String container) {
    String namespace = pod.path("metadata").path("namespace").asString();
    String name = pod.path("metadata").path("name").asString();
    PodWorker worker = kubelet.worker(namespace, name);
    if (worker == null || worker.startedContainer() == null) {
      String reason = Json.text(pod, "/status/containerStatuses/0/state/waiting/reason");
      throw ApiStatus.Failure.badRequest(
          "container \""
              + container
              + "\" in pod \""
              + name
              + "\" is waiting to start: "
              + (reason == null ? "ContainerCreating" : reason));
    }
    return worker;
  }

  void log(HttpExchange exchange, ObjectNode pod) throws IOException {
    String container = containerName(pod, exchange.param("container"));
    if (exchange.flag("previous")) {
      // no container is ever restarted here, so none has a previous instance
      throw ApiStatus.Failure.badRequest(
          "previous terminated container \""
              + container
              + "\" in pod \""
              + pod.path("metadata").path("name").asString()
              + "\" not found");
    }
    PodWorker worker = started(pod, container);
    String stream = exchange.param("stream");
    if (mergingStreams || stream == null || stream.isEmpty()) {
      stream = "All";
    }
    if (!List.of("All", "Stdout", "Stderr").contains(stream)) {
      throw ApiStatus.Failure.invalid(
          "PodLogOptions",
          "",
          "stream",
          "Unsupported value: \""
              + stream
              + "\": supported values: \"All\", \"Stderr\", \"Stdout\"");
    }
    if (!stream.equals("All") && exchange.param("tailLines") != null) {
      throw ApiStatus.Failure.invalid(
          "PodLogOptions",
          "",
          "tailLines",
          "Forbidden: tailLines cannot be set when stream is not All");
    }
    boolean stdout = !stream.equals("Stderr");
    boolean stderr = !stream.equals("Stdout");
    Instant since = null;
    if (exchange.param("sinceTime") != null) {
      since = Instant.parse(exchange.param("sinceTime"));
    } else if (exchange.param("sinceSeconds") != null) {
      since = Instant.now().minusSeconds(Long.parseLong(exchange.param("sinceSeconds")));
    }
    long limit =
        exchange.param("limitBytes") == null
            ? Long.MAX_VALUE
            : Long.parseLong(exchange.param("limitBytes"));
    boolean follow = exchange.flag("follow");
    boolean timestamps = exchange.flag("timestamps");
    ContainerLog source = worker.log();
    int next =
        exchange.param("tailLines") == null
            ? 0
            : source.tailStart(Long.parseLong(exchange.param("tailLines")), stdout, stderr);
    LogSink sink = new LogSink(exchange, limit);
    exchange.startChunked(200, "text/plain");
    try {
      while (true) {
        List<ContainerLog.Entry> entries = source.from(next, follow ? 1000 : 0);
        next += entries.size();
        for (ContainerLog.Entry e : entries) {
          if (e.of(stdout, stderr) && (since == null || !e.time().isBefore(since))) {
            if (timestamps) {
              byte[] stamp = e.stamp();
              sink.write(e.stream(), stamp, 0, stamp.length);
            }
            sink.write(e.stream(), e.bytes(), 0, e.bytes().length);
          }
        }
        sink.idle();
        if (!follow || (entries.isEmpty() && source.ended()) || kubelet.isClosed()) {
          break;
        }
      }
    } catch (LimitReached e) {
      sink.idle();
      LOG.debug("log read of {} stopped at limitBytes", worker.name);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    exchange.endChunked();
  }

  /**
   * The body of a log answer: the log keeps one entry per line, so bytes are gathered into chunks
   * of up to 64 KiB, sent whenever the log has nothing more at hand (a kubelet, too, copies its log
   * file through a buffer, not line by line); stops at {@code limitBytes}.
   */
  private static final class LogSink implements EngineStream.Sink {
    private final HttpExchange exchange;
    private final byte[] pending = new byte[65536];
    private int size;
    private long left;

    LogSink(HttpExchange exchange, long limit) {
      this.exchange = exchange;
      this.left = limit;
    }

    @Override
    public void write(int stream, byte[] bytes, int offset, int length) throws IOException {
      int n = (int) Math.min(length, left);
      for (int done = 0; done < n; ) {
        if (size == pending.length) {
          idle();
        }
        int part = Math.min(n - done, pending.length - size);
        System.arraycopy(bytes, offset + done, pending, size, part);
        size += part;
        done += part;
      }
      left -= n;
      if (left <= 0) {
        throw new LimitReached();
      }
    }

    @Override
    public void idle() throws IOException {
      if (size > 0) {
        exchange.chunk(pending, 0, size);
        size = 0;
      }
    }
  }

  private static final class LimitReached extends IOException {
    private static final long serialVersionUID = 1L;
  }

  /**
   * {@code pods/{name}/exec}: runs the command in the container, answers its status on channel 3.
   */
  void exec(HttpExchange exchange, ObjectNode pod) throws IOException {
    refuseCompleted(pod, "exec into");
    String container = containerName(pod, exchange.param("container"));
    PodWorker worker = started(pod, container);
    List<String> command = exchange.params("command");
    if (command.isEmpty()) {
      throw ApiStatus.Failure.badRequest("you must specify at least 1 command");
    }
    boolean stdin = exchange.flag("stdin");
    boolean stdout = exchange.flag("stdout");
    boolean stderr = exchange.flag("stderr");
    boolean tty = exchange.flag("tty");
    if (!stdin && !stdout && !stderr) {
      throw ApiStatus.Failure.badRequest("you must specify at least 1 of stdin, stdout, stderr");
    }
    String execId;
    try {
      execId =
          kubelet
              .docker
              .execCreateCmd(worker.startedContainer())
              .withCmd(command.toArray(String[]::new))
              .withAttachStdin(stdin)
              .withAttachStdout(stdout)
              .withAttachStderr(stderr)
              .withTty(tty)
              .exec()
              .getId();
    } catch (DockerException e) {
      throw new ApiStatus.Failure(
          500,
          "InternalError",
          "error executing command in container: " + e.getMessage(),
          "pods",
          worker.name);
    }
    WebSocketChannel ws = WebSocketChannel.accept(exchange);
    if (ws == null) {
      return;
    }
    try (EngineStream engine =
        EngineStream.open(
            kubelet.socket,
            "POST",
            "/exec/" + execId + "/start",
            "{\"Detach\":false,\"Tty\":" + tty + "}",
            true)) {
      bridge(ws, engine, tty, stdin, stdout, stderr);
      Long exit = kubelet.docker.inspectExecCmd(execId).exec().getExitCodeLong();
      ObjectNode status = Json.object();
      status.putObject("metadata");
      if (exit != null && exit == 0) {
        status.put("status", "Success");
      } else {
        status.put("status", "Failure");
        status.put(
            "message",
            "command terminated with non-zero exit code: error executing command "
                + command
                + ", exit code "
                + exit);
        status.put("reason", "NonZeroExitCode");
        ObjectNode cause = status.putObject("details").putArray("causes").addObject();
        cause.put("reason", "ExitCode");
        cause.put("message", String.valueOf(exit));
      }
      sendStatus(ws, status);
    } finally {
      ws.sendClose(1000);
    }
  }

  /** {@code pods/{name}/attach}: the container's main process's streams. */
  void attach(HttpExchange exchange, ObjectNode pod) throws IOException {
    refuseCompleted(pod, "attach to");
    String container = containerName(pod, exchange.param("container"));
    PodWorker worker = started(pod, container);
    boolean stdin = exchange.flag("stdin");
    boolean stdout = exchange.flag("stdout");
    boolean stderr = exchange.flag("stderr");
    if (!stdin && !stdout && !stderr) {
      throw ApiStatus.Failure.badRequest("you must specify at least 1 of stdin, stdout, stderr");
    }
    WebSocketChannel ws = WebSocketChannel.accept(exchange);
    if (ws == null) {
      return;
    }
    String target =
        "/containers/"
            + worker.startedContainer()
            + "/attach?stream=1&stdin="
            + (stdin ? 1 : 0)
            + "&stdout="
            + (stdout ? 1 : 0)
            + "&stderr="
            + (stderr ? 1 : 0);
    try (EngineStream engine = EngineStream.open(kubelet.socket, "POST", target, null, true)) {
      bridge(ws, engine, worker.tty(), stdin, stdout, stderr);
      ObjectNode status = Json.object();
      status.putObject("metadata");
      status.put("status", "Success");
      sendStatus(ws, status);
    } finally {
      ws.sendClose(1000);
    }
  }

  /** The API server's refusal of a stream into a pod that has ended. */
  private static void refuseCompleted(ObjectNode pod, String verb) {
    String phase = Json.text(pod, "/status/phase");
    if ("Succeeded".equals(phase) || "Failed".equals(phase)) {
      throw ApiStatus.Failure.badRequest(
          "cannot " + verb + " a container in a completed pod; current phase is " + phase);
    }
  }

  /** How many bytes of a stream's input may wait for the process. */
  private static final long INPUT_BUFFER = 64L * 1024 * 1024;

  /** A FIFO of input messages bounded in bytes. */
  private static final class InputBuffer {
    private final java.util.ArrayDeque<byte[]> messages = new java.util.ArrayDeque<>();
    private final long capacity;
    private long bytes;

    InputBuffer(long capacity) {
      this.capacity = capacity;
    }

    synchronized void put(byte[] message) throws InterruptedException {
      while (bytes > 0 && bytes + message.length > capacity) {
        wait();
      }
      messages.addLast(message);
      bytes += message.length;
      notifyAll();
    }

    synchronized byte[] take() throws InterruptedException {
      while (messages.isEmpty()) {
        wait();
      }
      byte[] message = messages.removeFirst();
      bytes -= message.length;
      notifyAll();
      return message;
    }
  }

  private static void sendStatus(WebSocketChannel ws, ObjectNode status) {
    byte[] json = Json.bytes(status);
    try {
      ws.sendData(3, json, 0, json.length);
    } catch (IOException e) {
      LOG.debug("the client left before the status: {}", e.toString());
    }
  }

  /**
   * Copies channel 0 to the process's input on a thread of its own (channel 255 closing 0 in v5, or
   * the client's close, is end of file) and the process's output to channels 1 and 2, until the
   * output ends.
   */
  private void bridge(
      WebSocketChannel ws,
      EngineStream engine,
      boolean tty,
      boolean stdin,
      boolean stdout,
      boolean stderr)
      throws IOException {
    // The API server and kubelet buffer a stream's input between the client and the runtime
    // (HTTP/2 flow-control windows): read the client's messages at once, hand them on in order.
    // Generously (INPUT_BUFFER): fabric8 on the JDK's WebSocket fails an input write outright
    // ("could not send") when the previous message is still being written to the socket.
    InputBuffer pending = new InputBuffer(INPUT_BUFFER);
    byte[] endOfInput = new byte[0];
    Thread writer =
        new Thread(
            () -> {
              try {
                while (true) {
                  byte[] message = pending.take();
                  if (message == endOfInput) {
                    engine.closeInput();
                    return;
                  }
                  engine.write(message, 1, message.length - 1);
                  LOG.trace("wrote {} bytes of input", message.length - 1);
                }
              } catch (IOException e) {
                LOG.debug("the process's input ended: {}", e.toString());
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "emulated-kubelet-stdin-writer");
    writer.setDaemon(true);
    writer.start();
    Thread input =
        new Thread(
            () -> {
              boolean inputOpen = stdin;
              try {
                while (true) {
                  byte[] message = ws.receive();
                  if (message == null) {
                    break;
                  }
                  if (message.length == 0) {
                    continue;
                  }
                  int channel = message[0] & 0xff;
                  if (channel == 0 && inputOpen) {
                    pending.put(message);
                  } else if (channel == 255 && message.length > 1 && message[1] == 0 && inputOpen) {
                    inputOpen = false;
                    pending.put(endOfInput);
                  }
                }
              } catch (IOException e) {
                LOG.debug("the WebSocket's input ended: {}", e.toString());
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              } finally {
                if (inputOpen) {
                  try {
                    pending.put(endOfInput);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                }
              }
            },
            "emulated-kubelet-stdin");
    input.setDaemon(true);
    input.start();
    engine.pump(
        tty,
        (stream, bytes, offset, length) -> {
          if ((stream == 1 && stdout) || (stream == 2 && stderr)) {
            ws.sendData(stream, bytes, offset, length);
          }
        });
    LOG.debug("the process's output ended ({})", ws.protocol);
  }
}
