package dev.orchestra.kubernetes.kubelet;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * The server side of a WebSocket (RFC 6455) carrying the Kubernetes streaming protocol
 * (https://kubernetes.io/docs/reference/using-api/websockets/ and the channel protocols {@code
 * v4.channel.k8s.io} / {@code v5.channel.k8s.io}): every binary message starts with its channel
 * byte. Writes are serialised; reads happen on one thread.
 */
final class WebSocketChannel {

  static final String V4 = "v4.channel.k8s.io";
  static final String V5 = "v5.channel.k8s.io";

  private final InputStream in;
  private final OutputStream out;
  final String protocol;
  private boolean closeSent;

  private WebSocketChannel(InputStream in, OutputStream out, String protocol) {
    this.in = in;
    this.out = out;
    this.protocol = protocol;
  }

  /**
   * Answers the upgrade request with 101 and the chosen sub-protocol ({@code v5} over {@code v4}),
   * or with 400 when neither is offered (then returns {@code null}).
   */
  static WebSocketChannel accept(HttpExchange exchange) throws IOException {
    return accept(exchange, true);
  }

  /**
   * As {@link #accept(HttpExchange)}; without {@code channels} (a watch) any or no sub-protocol is
   * accepted and none is named in the answer.
   */
  static WebSocketChannel accept(HttpExchange exchange, boolean channels) throws IOException {
    String key = exchange.header("sec-websocket-key");
    String offered = exchange.header("sec-websocket-protocol");
    List<String> protocols =
        offered == null ? List.of() : Arrays.stream(offered.split(",")).map(String::trim).toList();
    String protocol = protocols.contains(V5) ? V5 : protocols.contains(V4) ? V4 : null;
    if (key == null || (channels && protocol == null)) {
      exchange.respondJson(
          400,
          ApiStatus.failure(
              400,
              "BadRequest",
              "the emulated kubelet speaks only the WebSocket sub-protocols "
                  + V5
                  + " and "
                  + V4
                  + ", offered: "
                  + offered));
      return null;
    }
    String acceptKey;
    try {
      acceptKey =
          Base64.getEncoder()
              .encodeToString(
                  MessageDigest.getInstance("SHA-1")
                      .digest(
                          (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                              .getBytes(StandardCharsets.ISO_8859_1)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    String head =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: "
            + acceptKey
            + (channels ? "\r\nSec-WebSocket-Protocol: " + protocol : "")
            + "\r\n\r\n";
    exchange.out.write(head.getBytes(StandardCharsets.ISO_8859_1));
    exchange.out.flush();
    return new WebSocketChannel(exchange.in, exchange.out, protocol);
  }

  boolean isV5() {
    return V5.equals(protocol);
  }

  /** A message received: its bytes (channel byte first), or {@code null} once the peer closed. */
  byte[] receive() throws IOException {
    ByteArrayOutputStream message = new ByteArrayOutputStream();
    while (true) {
      int b0 = in.read();
      int b1 = in.read();
      if (b0 < 0 || b1 < 0) {
        return null;
      }
      boolean fin = (b0 & 0x80) != 0;
      int opcode = b0 & 0x0f;
      long length = b1 & 0x7f;
      if (length == 126) {
        length = ((long) readByte() << 8) | readByte();
      } else if (length == 127) {
        length = 0;
        for (int i = 0; i < 8; i++) {
          length = (length << 8) | readByte();
        }
      }
      byte[] mask = (b1 & 0x80) != 0 ? in.readNBytes(4) : null;
      byte[] payload = in.readNBytes((int) length);
      if (payload.length != length) {
        return null;
      }
      if (mask != null) {
        for (int i = 0; i < payload.length; i++) {
          payload[i] ^= mask[i & 3];
        }
      }
      if (org.slf4j.LoggerFactory.getLogger(WebSocketChannel.class).isTraceEnabled()) {
        org.slf4j.LoggerFactory.getLogger(WebSocketChannel.class)
            .trace(
                "frame opcode {} fin {} length {}: {}",
                opcode,
                fin,
                length,
                new String(payload, StandardCharsets.ISO_8859_1));
      }
      switch (opcode) {
        case 0x8 -> {
          sendClose(1000);
          return null;
        }
        case 0x9 -> send(0xA, payload);
        case 0xA -> {}
        default -> {
          message.write(payload);
          if (fin) {
            return message.toByteArray();
          }
        }
      }
    }
  }

  private int readByte() throws IOException {
    int b = in.read();
    if (b < 0) {
      throw new EOFException("end of a WebSocket frame");
    }
    return b;
  }

  /** Sends {@code data[offset, offset+length)} on {@code channel} as one binary message. */
  void sendData(int channel, byte[] data, int offset, int length) throws IOException {
    byte[] payload = new byte[length + 1];
    payload[0] = (byte) channel;
    System.arraycopy(data, offset, payload, 1, length);
    send(0x2, payload);
  }

  synchronized void send(int opcode, byte[] payload) throws IOException {
    if (closeSent) {
      throw new IOException("WebSocket closed");
    }
    ByteArrayOutputStream frame = new ByteArrayOutputStream(payload.length + 10);
    frame.write(0x80 | opcode);
    if (payload.length < 126) {
      frame.write(payload.length);
    } else if (payload.length < 65536) {
      frame.write(126);
      frame.write(payload.length >>> 8);
      frame.write(payload.length & 0xff);
    } else {
      frame.write(127);
      for (int i = 7; i >= 0; i--) {
        frame.write((int) (((long) payload.length) >>> (8 * i)) & 0xff);
      }
    }
    frame.write(payload);
    out.write(frame.toByteArray());
    out.flush();
  }

  /** Sends a close frame once; later sends fail. */
  synchronized void sendClose(int code) {
    if (closeSent) {
      return;
    }
    try {
      send(0x8, new byte[] {(byte) (code >>> 8), (byte) code});
    } catch (IOException e) {
      // the peer is gone already: nothing left to close politely
    }
    closeSent = true;
  }
}
