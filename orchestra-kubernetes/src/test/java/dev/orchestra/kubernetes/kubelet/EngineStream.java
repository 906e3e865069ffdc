package dev.orchestra.kubernetes.kubelet;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One streaming request to the Docker engine on its Unix socket, spoken by hand: a log read ({@code
 * GET /containers/{id}/logs}, chunked), or a hijacked attach or exec start ({@code Upgrade: tcp}),
 * whose input end can be half-closed ({@link #closeInput()}) to give the process end of file.
 * Multiplexed output ({@code application/vnd.docker.multiplexed-stream}) is split by {@link #pump}.
 */
final class EngineStream implements Closeable {

  /** Takes output bytes of one stream (1 stdout, 2 stderr). */
  interface Sink {
    void write(int stream, byte[] bytes, int offset, int length) throws IOException;

    /**
     * Nothing more can be read without waiting for the engine: a sink that gathers bytes sends them
     * now.
     */
    default void idle() throws IOException {}
  }

  /** Whether more output can be read at once, without waiting for the engine. */
  boolean hasBuffered() {
    try {
      return body.available() > 0;
    } catch (IOException e) {
      return false;
    }
  }

  private final SocketChannel channel;
  private final InputStream body;
  private final OutputStream output;

  private EngineStream(SocketChannel channel, InputStream body, OutputStream output) {
    this.channel = channel;
    this.body = body;
    this.output = output;
  }

  /**
   * Sends the request and reads the answer's head.
   *
   * @throws IOException when the engine cannot be reached, or answers other than 101 or 200 (the
   *     message carries its answer)
   */
  static EngineStream open(Path socket, String method, String target, String json, boolean upgrade)
      throws IOException {
    SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      channel.connect(UnixDomainSocketAddress.of(socket));
      // not Channels.newInputStream/newOutputStream: both lock the channel's blocking lock, so a
      // write of input would wait for a blocked read of output to return
      InputStream in = new java.io.BufferedInputStream(new ChannelIn(channel), 65536);
      OutputStream out = new ChannelOut(channel);
      byte[] content = json == null ? new byte[0] : json.getBytes(StandardCharsets.UTF_8);
      StringBuilder head = new StringBuilder();
      head.append(method).append(' ').append(target).append(" HTTP/1.1\r\nHost: docker\r\n");
      if (upgrade) {
        head.append("Connection: Upgrade\r\nUpgrade: tcp\r\n");
      }
      if (json != null) {
        head.append("Content-Type: application/json\r\n");
      }
      head.append("Content-Length: ").append(content.length).append("\r\n\r\n");
      out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
      out.write(content);
      out.flush();
      String status = HttpExchange.readLine(in);
      if (status == null) {
        throw new EOFException(
            "the Docker engine closed the connection of " + method + " " + target);
      }
      int code = Integer.parseInt(status.split(" ")[1]);
      Map<String, String> headers = new LinkedHashMap<>();
      for (String line = HttpExchange.readLine(in);
          line != null && !line.isEmpty();
          line = HttpExchange.readLine(in)) {
        int colon = line.indexOf(':');
        if (colon > 0) {
          headers.put(
              line.substring(0, colon).trim().toLowerCase(Locale.ROOT),
              line.substring(colon + 1).trim());
        }
      }
      InputStream body =
          "chunked".equalsIgnoreCase(headers.get("transfer-encoding"))
              ? new Chunked(in)
              : headers.containsKey("content-length")
                  ? limited(in, Long.parseLong(headers.get("content-length")))
                  : in;
      if (code != 101 && code != 200) {
        String answer = new String(body.readNBytes(65536), StandardCharsets.UTF_8).trim();
        throw new EngineAnswer(code, method + " " + target + " answered " + code + ": " + answer);
      }
      return new EngineStream(channel, body, out);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  private static final class ChannelIn extends InputStream {
    private final SocketChannel channel;

    ChannelIn(SocketChannel channel) {
      this.channel = channel;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) {
        return 0;
      }
      int n;
      do {
        n = channel.read(java.nio.ByteBuffer.wrap(b, off, len));
      } while (n == 0);
      return n;
    }
  }

  private static final class ChannelOut extends OutputStream {
    private final SocketChannel channel;

    ChannelOut(SocketChannel channel) {
      this.channel = channel;
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(b, off, len);
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
    }
  }

  /** An engine's refusal. */
  static final class EngineAnswer extends IOException {
    private static final long serialVersionUID = 1L;
    final int code;

    EngineAnswer(int code, String message) {
      super(message);
      this.code = code;
    }
  }

  private static InputStream limited(InputStream in, long length) {
    return new FilterInputStream(in) {
      long left = length;

      @Override
      public int read() throws IOException {
        if (left <= 0) {
          return -1;
        }
        int b = super.read();
        if (b >= 0) {
          left--;
        }
        return b;
      }

      @Override
      public int available() throws IOException {
        return (int) Math.min(left, super.available());
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        if (left <= 0) {
          return -1;
        }
        int n = super.read(b, off, (int) Math.min(len, left));
        if (n > 0) {
          left -= n;
        }
        return n;
      }
    };
  }

  InputStream body() {
    return body;
  }

  /** Writes to the process's standard input (hijacked streams only). */
  void write(byte[] bytes, int offset, int length) throws IOException {
    output.write(bytes, offset, length);
  }

  /** Half-closes the connection: the engine gives the process end of file on its input. */
  void closeInput() throws IOException {
    channel.shutdownOutput();
  }

  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException e) {
      // closing a Unix socket that is gone already: nothing to do
    }
  }

  /**
   * Copies the output to {@code sink} until its end: frames split by stream, or, for a TTY
   * container, everything as stdout. Never holds more than 64 KiB.
   */
  void pump(boolean tty, Sink sink) throws IOException {
    byte[] buffer = new byte[65536];
    if (tty) {
      int n;
      while ((n = body.read(buffer)) >= 0) {
        sink.write(1, buffer, 0, n);
        if (!hasBuffered()) {
          sink.idle();
        }
      }
      sink.idle();
      return;
    }
    byte[] header = new byte[8];
    while (true) {
      int got = body.readNBytes(header, 0, 8);
      if (got == 0) {
        sink.idle();
        return;
      }
      if (got < 8) {
        throw new EOFException("a cut frame header from the Docker engine");
      }
      int stream = header[0];
      long size =
          ((header[4] & 0xffL) << 24)
              | ((header[5] & 0xffL) << 16)
              | ((header[6] & 0xffL) << 8)
              | (header[7] & 0xffL);
      while (size > 0) {
        int n = body.read(buffer, 0, (int) Math.min(buffer.length, size));
        if (n < 0) {
          throw new EOFException("a cut frame from the Docker engine");
        }
        sink.write(stream, buffer, 0, n);
        size -= n;
      }
      if (!hasBuffered()) {
        sink.idle();
      }
    }
  }

  /** One whole frame of a multiplexed stream: {@link #stream} and {@code bytes[0, length)}. */
  static final class Frame {
    int stream;
    byte[] bytes = new byte[65536];
    int length;
  }

  /**
   * Reads the next whole frame of multiplexed output into {@code frame}; {@code false} at the end.
   */
  boolean nextFrame(Frame frame) throws IOException {
    byte[] header = new byte[8];
    int got = body.readNBytes(header, 0, 8);
    if (got == 0) {
      return false;
    }
    if (got < 8) {
      throw new EOFException("a cut frame header from the Docker engine");
    }
    int size =
        ((header[4] & 0xff) << 24)
            | ((header[5] & 0xff) << 16)
            | ((header[6] & 0xff) << 8)
            | (header[7] & 0xff);
    if (frame.bytes.length < size) {
      frame.bytes = new byte[size];
    }
    if (body.readNBytes(frame.bytes, 0, size) != size) {
      throw new EOFException("a cut frame from the Docker engine");
    }
    frame.stream = header[0];
    frame.length = size;
    return true;
  }

  /** The body of a chunked answer. */
  private static final class Chunked extends InputStream {
    private final InputStream in;
    private long left;
    private boolean done;

    Chunked(InputStream in) {
      this.in = in;
    }

    private boolean next() throws IOException {
      if (done) {
        return false;
      }
      if (left == 0) {
        String size = HttpExchange.readLine(in);
        if (size != null && size.isEmpty()) {
          size = HttpExchange.readLine(in);
        }
        if (size == null) {
          done = true;
          return false;
        }
        left = Long.parseLong(size.split(";")[0].trim(), 16);
        if (left == 0) {
          done = true;
          return false;
        }
      }
      return true;
    }

    /**
     * What the current chunk has buffered; at a chunk's end, whether the next chunk has begun to
     * arrive (a hint: its first byte may come with its header).
     */
    @Override
    public int available() throws IOException {
      if (done) {
        return 0;
      }
      int buffered = in.available();
      return left > 0 ? (int) Math.min(left, buffered) : buffered > 7 ? 1 : 0;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) {
        return 0;
      }
      if (!next()) {
        return -1;
      }
      int n = in.read(b, off, (int) Math.min(len, left));
      if (n < 0) {
        done = true;
        return -1;
      }
      left -= n;
      return n;
    }
  }

  /** Reads a whole small body, for messages. */
  static String readAll(InputStream in) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    in.transferTo(bytes);
    return bytes.toString(StandardCharsets.UTF_8);
  }
}
