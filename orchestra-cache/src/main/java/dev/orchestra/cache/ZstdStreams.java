package dev.orchestra.cache;

import com.github.luben.zstd.ZstdInputStream;
import com.github.luben.zstd.ZstdOutputStream;
import com.github.luben.zstd.util.Native;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** The only class that touches zstd-jni, loaded only when {@link Compression#ZSTD} is used. */
final class ZstdStreams {

  private ZstdStreams() {}

  static void loadNative() {
    Native.load();
  }

  static OutputStream compress(OutputStream out) throws IOException {
    var zstd = new ZstdOutputStream(out, 3);
    zstd.setCloseFrameOnFlush(false);
    return zstd;
  }

  static InputStream decompress(InputStream in) throws IOException {
    return new ZstdInputStream(in);
  }
}
