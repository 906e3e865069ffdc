package dev.orchestra.kubernetes.kubelet;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One HTTP/1.1 request on a connection of the emulated API server, and the means to answer it: a
 * whole body ({@link #respond}), a chunked stream ({@link #startChunked}, for watches and log
 * follows) or the raw socket after a protocol switch (WebSocket). An {@code Upgrade: h2c} offer of
 * the JDK's HTTP client is ignored, as RFC 9113 allows (the answer stays HTTP/1.1).
 */
final class HttpExchange {

  final String method;
  final String path;
  final Map<String, List<String>> query;
  final Map<String, String> headers;
  final byte[] body;
  final Socket socket;
  final InputStream in;
  final OutputStream out;
  private boolean chunked;

  private HttpExchange(
      String method,
      String path,
      Map<String, List<String>> query,
      Map<String, String> headers,
      byte[] body,
      Socket socket,
      InputStream in,
      OutputStream out) {
    this.method = method;
    this.path = path;
    this.query = query;
    this.headers = headers;
    this.body = body;
    this.socket = socket;
    this.in = in;
    this.out = out;
  }

  /** Reads the next request, or returns {@code null} at the end of the connection. */
  static HttpExchange read(Socket socket, InputStream in, OutputStream out) throws IOException {
    String requestLine = readLine(in);
    while (requestLine != null && requestLine.isEmpty()) {
      requestLine = readLine(in);
    }
    if (requestLine == null) {
      return null;
    }
    String[] parts = requestLine.split(" ");
    if (parts.length != 3) {
      throw new IOException("malformed request line: " + requestLine);
    }
    Map<String, String> headers = new LinkedHashMap<>();
    for (String line = readLine(in); line != null && !line.isEmpty(); line = readLine(in)) {
      int colon = line.indexOf(':');
      if (colon > 0) {
        headers.merge(
            line.substring(0, colon).trim().toLowerCase(Locale.ROOT),
            line.substring(colon + 1).trim(),
            (a, b) -> a + ", " + b);
      }
    }
    byte[] body = new byte[0];
    if ("chunked".equalsIgnoreCase(headers.getOrDefault("transfer-encoding", ""))) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      while (true) {
        String size = readLine(in);
        if (size == null) {
          throw new EOFException("end of a chunked request body");
        }
        int length = Integer.parseInt(size.split(";")[0].trim(), 16);
        if (length == 0) {
          while (true) {
            String trailer = readLine(in);
            if (trailer == null || trailer.isEmpty()) {
              break;
            }
          }
          break;
        }
        bytes.write(in.readNBytes(length));
        readLine(in);
      }
      body = bytes.toByteArray();
    } else if (headers.containsKey("content-length")) {
      int length = Integer.parseInt(headers.get("content-length"));
      body = in.readNBytes(length);
      if (body.length != length) {
        throw new EOFException("end of a request body");
      }
    }
    String target = parts[1];
    int question = target.indexOf('?');
    String path = question < 0 ? target : target.substring(0, question);
    Map<String, List<String>> query = new LinkedHashMap<>();
    if (question >= 0) {
      for (String pair : target.substring(question + 1).split("&")) {
        if (pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        String key = decodeQuery(eq < 0 ? pair : pair.substring(0, eq));
        String value = eq < 0 ? "" : decodeQuery(pair.substring(eq + 1));
        query.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
      }
    }
    return new HttpExchange(parts[0], decode(path), query, headers, body, socket, in, out);
  }

  private static String decodeQuery(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  private static String decode(String s) {
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  /** Reads one CRLF- (or LF-) terminated line as ISO-8859-1, or {@code null} at end of input. */
  static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != -1) {
      if (b == '\n') {
        break;
      }
      line.write(b);
    }
    if (b == -1 && line.size() == 0) {
      return null;
    }
    String s = line.toString(StandardCharsets.ISO_8859_1);
    return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
  }

  /** The first value of query parameter {@code name}, or {@code null}. */
  String param(String name) {
    List<String> values = query.get(name);
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  /** All values of query parameter {@code name}. */
  List<String> params(String name) {
    return query.getOrDefault(name, List.of());
  }

  boolean flag(String name) {
    String value = param(name);
    return value != null
        && (value.isEmpty() || value.equalsIgnoreCase("true") || value.equals("1"));
  }

  String header(String name) {
    return headers.get(name.toLowerCase(Locale.ROOT));
  }

  /** Answers with a whole body. */
  void respond(int code, String contentType, byte[] content) throws IOException {
    StringBuilder head = new StringBuilder();
    head.append("HTTP/1.1 ").append(code).append(' ').append(reason(code)).append("\r\n");
    head.append("Content-Type: ").append(contentType).append("\r\n");
    head.append("Content-Length: ").append(content.length).append("\r\n");
    head.append("Cache-Control: no-cache, private\r\n");
    head.append("\r\n");
    out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
    out.write(content);
    out.flush();
  }

  void respondJson(int code, String json) throws IOException {
    respond(code, "application/json", json.getBytes(StandardCharsets.UTF_8));
  }

  /** Starts a chunked answer; each {@link #chunk} is sent at once. */
  void startChunked(int code, String contentType) throws IOException {
    chunked = true;
    String head =
        "HTTP/1.1 "
            + code
            + " "
            + reason(code)
            + "\r\nContent-Type: "
            + contentType
            + "\r\nTransfer-Encoding: chunked\r\nCache-Control: no-cache, private\r\n\r\n";
    out.write(head.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
  }

  void chunk(byte[] bytes, int offset, int length) throws IOException {
    if (length == 0) {
      return;
    }
    out.write((Integer.toHexString(length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
    out.write(bytes, offset, length);
    out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
  }

  void endChunked() throws IOException {
    if (chunked) {
      out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      chunked = false;
    }
  }

  static String reason(int code) {
    return switch (code) {
      case 101 -> "Switching Protocols";
      case 200 -> "OK";
      case 201 -> "Created";
      case 202 -> "Accepted";
      case 400 -> "Bad Request";
      case 404 -> "Not Found";
      case 405 -> "Method Not Allowed";
      case 409 -> "Conflict";
      case 410 -> "Gone";
      case 415 -> "Unsupported Media Type";
      case 422 -> "Unprocessable Entity";
      case 500 -> "Internal Server Error";
      default -> "Status";
    };
  }
}
