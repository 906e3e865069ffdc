package dev.orchestra.kubernetes.kubelet;

import com.github.dockerjava.api.exception.DockerException;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
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
 * KEP-4006 channel protocols), bridged to the Docker engine's own log, exec and attach streams.
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
  private Kubelet.PodWorker started(ObjectNode pod, String container) {
    String namespace = pod.path("metadata").path("namespace").asString();
    String name = pod.path("metadata").path("name").asString();
    Kubelet.PodWorker worker = kubelet.worker(namespace, name);
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
    Kubelet.PodWorker worker = started(pod, container);
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
    StringBuilder target =
        new StringBuilder("/containers/").append(worker.startedContainer()).append("/logs?");
    target.append("stdout=").append(stream.equals("Stderr") ? 0 : 1);
    target.append("&stderr=").append(stream.equals("Stdout") ? 0 : 1);
    if (exchange.flag("follow")) {
      target.append("&follow=1");
    }
    if (exchange.flag("timestamps")) {
      target.append("&timestamps=1");
    }
    if (exchange.param("tailLines") != null) {
      target.append("&tail=").append(Long.parseLong(exchange.param("tailLines")));
    }
    if (exchange.param("sinceTime") != null) {
      Instant since = Instant.parse(exchange.param("sinceTime"));
      target
          .append("&since=")
          .append(
              URLEncoder.encode(
                  since.getEpochSecond() + "." + String.format("%09d", since.getNano()),
                  StandardCharsets.UTF_8));
    } else if (exchange.param("sinceSeconds") != null) {
      target
          .append("&since=")
          .append(Instant.now().getEpochSecond() - Long.parseLong(exchange.param("sinceSeconds")));
    }
    long limit =
        exchange.param("limitBytes") == null
            ? Long.MAX_VALUE
            : Long.parseLong(exchange.param("limitBytes"));
    long[] left = {limit};
    EngineStream.Sink sink =
        (st, bytes, offset, length) -> {
          int n = (int) Math.min(length, left[0]);
          exchange.chunk(bytes, offset, n);
          left[0] -= n;
          if (left[0] <= 0) {
            throw new LimitReached();
          }
        };
    try {
      if (exchange.flag("follow") && !worker.tty()) {
        follow(worker, exchange, target.toString(), sink);
      } else {
        try (EngineStream engine =
            EngineStream.open(kubelet.socket, "GET", target.toString(), null, false)) {
          exchange.startChunked(200, "text/plain");
          engine.pump(worker.tty(), sink);
        }
      }
    } catch (LimitReached e) {
      LOG.debug("log read of {} stopped at limitBytes", worker.name);
    } catch (EngineStream.EngineAnswer e) {
      throw new ApiStatus.Failure(
          e.code == 404 ? 404 : 500,
          e.code == 404 ? "NotFound" : "InternalError",
          e.getMessage(),
          "pods",
          worker.name);
    }
    exchange.endChunked();
  }

  /**
   * Follows a log until the container ended and all of it was sent, as the kubelet does (it reads
   * the container's log file to its end after the container exited). The engine's own follow may
   * end at the container's exit before it has sent everything written (tens of kilobytes of a fast
   * writer were seen missing), so once the container has ended the log is read again, whole, and
   * what the follow did not send is sent: the engine keeps one entry per message, in order, so the
   * messages already sent are skipped by count.
   */
  private void follow(
      Kubelet.PodWorker worker, HttpExchange exchange, String target, EngineStream.Sink sink)
      throws IOException {
    String whole = target.replace("&follow=1", "");
    long sent;
    try (EngineStream engine = EngineStream.open(kubelet.socket, "GET", target, null, false)) {
      exchange.startChunked(200, "text/plain");
      sent = copy(engine, sink, 0);
    }
    while (!worker.containerEnded()) {
      if (worker.startedContainer() == null) {
        return;
      }
      try {
        Thread.sleep(20); // the engine ended the follow at the exit the worker has yet to see
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    // The engine's log copier may still be writing when the container reads as exited: the whole
    // log is read again until two reads in a row find nothing new (within a few seconds).
    for (int quiet = 0, tries = 0; quiet < 2 && tries < 50; tries++) {
      long total;
      try (EngineStream rest = EngineStream.open(kubelet.socket, "GET", whole, null, false)) {
        total = copy(rest, sink, sent);
      } catch (EngineStream.EngineAnswer e) {
        LOG.debug("the log of {} went while followed: {}", worker.name, e.getMessage());
        return;
      }
      quiet = total > sent ? 0 : quiet + 1;
      sent = Math.max(sent, total);
      if (quiet < 2) {
        try {
          Thread.sleep(50);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  /** Sends the engine's messages after the first {@code skip}; returns how many it read. */
  private static long copy(EngineStream engine, EngineStream.Sink sink, long skip)
      throws IOException {
    long read = 0;
    EngineStream.Frame frame = new EngineStream.Frame();
    while (engine.nextFrame(frame)) {
      if (read++ >= skip) {
        sink.write(frame.stream, frame.bytes, 0, frame.length);
      }
    }
    return read;
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
    Kubelet.PodWorker worker = started(pod, container);
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
    Kubelet.PodWorker worker = started(pod, container);
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
