package dev.orchestra.bench;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The floor any client can reach: a minimal HTTP/1.1 client of the engine over ONE Unix domain
 * socket connection, kept alive between calls, that sends each request and reads its answer with
 * nothing in between.
 */
final class EngineClient implements AutoCloseable {

  /** An answer: the status code and the body as text. */
  record Answer(int status, String body) {}

  private static final Pattern ID = Pattern.compile("\"Id\"\\s*:\\s*\"([0-9a-f]+)\"");
  private static final Pattern STATUS_CODE = Pattern.compile("\"StatusCode\"\\s*:\\s*(\\d+)");

  private final SocketChannel channel;
  private final InputStream in;
  private final OutputStream out;
  private final byte[] drainBuffer = new byte[64 * 1024];

  EngineClient(Path socket) throws IOException {
    this.channel = UnixSockets.connect(socket);
    this.in = new BufferedInputStream(UnixSockets.input(channel), 64 * 1024);
    this.out = UnixSockets.output(channel);
  }

  Answer call(String method, String path, String jsonBody) throws IOException {
    byte[] body = jsonBody == null ? new byte[0] : jsonBody.getBytes(StandardCharsets.UTF_8);
    StringBuilder request = new StringBuilder();
    request.append(method).append(' ').append(path).append(" HTTP/1.1\r\n");
    request.append("Host: docker\r\n");
    if (jsonBody != null) {
      request.append("Content-Type: application/json\r\n");
    }
    request.append("Content-Length: ").append(body.length).append("\r\n\r\n");
    byte[] head = request.toString().getBytes(StandardCharsets.ISO_8859_1);
    byte[] whole = new byte[head.length + body.length];
    System.arraycopy(head, 0, whole, 0, head.length);
    System.arraycopy(body, 0, whole, head.length, body.length);
    out.write(whole);
    Http.Head answer = Http.readHead(in);
    if (answer == null) {
      throw new IOException("the engine closed the connection instead of answering " + path);
    }
    int status = answer.status();
    byte[] content =
        status == 204 || status == 304 || "HEAD".equals(method)
            ? new byte[0]
            : Http.readBody(answer, in);
    return new Answer(status, new String(content, StandardCharsets.UTF_8));
  }

  /**
   * GETs a streaming answer and reads its body to the end into one reused buffer, counting its
   * bytes (the engine's frames not parsed, the chunked framing removed); the connection stays
   * usable.
   *
   * @return the body's bytes
   * @throws IOException if the engine does not answer 200
   */
  long drain(String path) throws IOException {
    out.write(
        ("GET " + path + " HTTP/1.1\r\nHost: docker\r\n\r\n")
            .getBytes(StandardCharsets.ISO_8859_1));
    Http.Head answer = Http.readHead(in);
    if (answer == null || answer.status() != 200) {
      throw new IOException("GET " + path + " answered " + (answer == null ? "nothing" : answer));
    }
    if (!answer.chunked()) {
      return skip(Math.max(0, answer.contentLength()));
    }
    long total = 0;
    while (true) {
      String sizeLine = Http.readLine(in, null);
      if (sizeLine == null) {
        throw new IOException("the stream ended inside a chunked body");
      }
      int semicolon = sizeLine.indexOf(';');
      long size =
          Long.parseLong((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).strip(), 16);
      if (size == 0) {
        String trailer;
        do {
          trailer = Http.readLine(in, null);
        } while (trailer != null && !trailer.isEmpty());
        return total;
      }
      total += skip(size);
      Http.readLine(in, null);
    }
  }

  private long skip(long n) throws IOException {
    long left = n;
    while (left > 0) {
      int got = in.read(drainBuffer, 0, (int) Math.min(drainBuffer.length, left));
      if (got < 0) {
        throw new IOException("the stream ended " + left + " bytes before the end of a body");
      }
      left -= got;
    }
    return n;
  }

  /** Calls and checks that the status is the expected one. */
  String expect(int expected, String method, String path, String jsonBody) throws IOException {
    Answer a = call(method, path, jsonBody);
    if (a.status() != expected) {
      throw new IOException(
          method
              + " "
              + path
              + " answered "
              + a.status()
              + " (expected "
              + expected
              + "): "
              + a.body());
    }
    return a.body();
  }

  /** Create, start, wait: the container's exit code. Removal is the caller's. */
  int runToExit(String name, String createBody, String[] idOut) throws IOException {
    String created = expect(201, "POST", "/containers/create?name=" + name, createBody);
    Matcher id = ID.matcher(created);
    if (!id.find()) {
      throw new IOException("no Id in the engine's answer to a create: " + created);
    }
    idOut[0] = id.group(1);
    expect(204, "POST", "/containers/" + idOut[0] + "/start", null);
    String waited = expect(200, "POST", "/containers/" + idOut[0] + "/wait", null);
    Matcher code = STATUS_CODE.matcher(waited);
    if (!code.find()) {
      throw new IOException("no StatusCode in the engine's answer to a wait: " + waited);
    }
    return Integer.parseInt(code.group(1));
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
