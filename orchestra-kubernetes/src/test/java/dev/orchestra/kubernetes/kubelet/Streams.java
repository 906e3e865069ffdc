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
    LogSink sink = new LogSink(exchange, limit);
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
      sink.idle();
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
   * writer were seen missing), so once the container has ended the end of the log is read again and
   * what the follow did not send is sent. The engine stamps each message (one per line) with its
   * own nanosecond time: the follow asks for the stamps and remembers the last message it sent, and
   * the end of the log is read ({@code tail}, from the end of the file: cheap where a whole read of
   * a megabyte of short lines takes the engine seconds) back to that message.
   */
  private void follow(
      PodWorker worker, HttpExchange exchange, String target, EngineStream.Sink sink)
      throws IOException {
    boolean stamped = exchange.flag("timestamps");
    String withStamps = stamped ? target : target + "&timestamps=1";
    Followed followed = new Followed(sink, stamped);
    try (EngineStream engine = EngineStream.open(kubelet.socket, "GET", withStamps, null, false)) {
      exchange.startChunked(200, "text/plain");
      copy(engine, followed, 0);
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
    String whole = withStamps.replace("&follow=1", "");
    String base = whole.replaceAll("&tail=[0-9]+", "").replaceAll("&since=[^&]*", "");
    // The engine's log copier may still be writing when the container reads as exited: the end
    // of the log is read again until two reads in a row find nothing new (within a few seconds).
    for (int quiet = 0, tries = 0; quiet < 2 && tries < 50; tries++) {
      long before = followed.count;
      try {
        if (followed.last == null) {
          try (EngineStream rest = EngineStream.open(kubelet.socket, "GET", whole, null, false)) {
            copy(rest, followed, followed.count);
          }
        } else {
          sendAfterLast(base, followed);
        }
      } catch (EngineStream.EngineAnswer e) {
        LOG.debug("the log of {} went while followed: {}", worker.name, e.getMessage());
        return;
      }
      quiet = followed.count > before ? 0 : quiet + 1;
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

  /**
   * Reads the end of the log, {@code tail} messages, more each time until it holds the last message
   * sent, and sends the messages after it. The engine counts {@code tail} over both streams even
   * when asked for one, so where one stream is followed, fewer messages than asked for do not mean
   * that the log began there: only a read of the whole log can tell that the last message sent is
   * not in it.
   */
  private void sendAfterLast(String base, Followed followed) throws IOException {
    boolean bothStreams = base.contains("stdout=1") && base.contains("stderr=1");
    for (long tail = 64; ; tail = tail < 0 ? tail : tail * 8) {
      List<Stamped> end = new java.util.ArrayList<>();
      String target = tail < 0 ? base : base + "&tail=" + tail;
      try (EngineStream engine = EngineStream.open(kubelet.socket, "GET", target, null, false)) {
        EngineStream.Frame frame = new EngineStream.Frame();
        while (engine.nextFrame(frame)) {
          end.add(Stamped.of(frame));
        }
      }
      int at = -1;
      for (int i = end.size() - 1; i >= 0; i--) {
        if (end.get(i).sameMessage(followed.last)) {
          at = i;
          break;
        }
      }
      if (at < 0 && tail > 0 && end.size() >= tail) {
        continue; // the last message sent is further back
      }
      if (at < 0 && tail > 0 && !bothStreams) {
        tail = -1; // the other stream's messages may have filled the tail: read the whole log
        continue;
      }
      // not found in the whole log (it can only have been rotated away): all of it is new
      for (Stamped message : end.subList(at + 1, end.size())) {
        followed.send(message);
      }
      followed.sink.idle();
      return;
    }
  }

  /** A message of the engine's log with its stamp: {@code bytes} hold {@code STAMP SP TEXT}. */
  private record Stamped(int stream, byte[] bytes, int stampEnd) {
    static Stamped of(EngineStream.Frame frame) {
      return of(frame.stream, frame.bytes, 0, frame.length);
    }

    static Stamped of(int stream, byte[] message, int offset, int length) {
      byte[] bytes = java.util.Arrays.copyOfRange(message, offset, offset + length);
      int space = 0;
      while (space < bytes.length && bytes[space] != ' ') {
        space++;
      }
      return new Stamped(stream, bytes, space);
    }

    boolean sameMessage(Stamped other) {
      return other != null && stream == other.stream && java.util.Arrays.equals(bytes, other.bytes);
    }
  }

  /** Sends stamped messages, without their stamps unless asked, and remembers the last one. */
  private static final class Followed implements EngineStream.Sink {
    final EngineStream.Sink sink;
    final boolean stamped;
    Stamped last;
    long count;

    Followed(EngineStream.Sink sink, boolean stamped) {
      this.sink = sink;
      this.stamped = stamped;
    }

    @Override
    public void write(int stream, byte[] bytes, int offset, int length) throws IOException {
      send(Stamped.of(stream, bytes, offset, length));
    }

    void send(Stamped message) throws IOException {
      last = message;
      count++;
      int from = stamped ? 0 : Math.min(message.bytes.length, message.stampEnd + 1);
      sink.write(message.stream, message.bytes, from, message.bytes.length - from);
    }

    @Override
    public void idle() throws IOException {
      sink.idle();
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
      if (!engine.hasBuffered()) {
        sink.idle();
      }
    }
    sink.idle();
    return read;
  }

  /**
   * The body of a log answer: the engine keeps one message per line, so bytes are gathered into
   * chunks of up to 64 KiB, sent whenever the engine has nothing more at hand (a kubelet, too,
   * copies its log file through a buffer, not line by line); stops at {@code limitBytes}.
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
