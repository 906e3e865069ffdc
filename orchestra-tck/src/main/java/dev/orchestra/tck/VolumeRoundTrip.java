package dev.orchestra.tck;

import dev.orchestra.Volume;
import dev.orchestra.spi.TarEntry;
import dev.orchestra.spi.TarReader;
import dev.orchestra.spi.TarWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A round trip of one large file through a volume, for a driver's own memory test: the archive is
 * generated as {@link Volume#copyIn(InputStream)} reads it and checked as {@link
 * Volume#copyOut(java.io.OutputStream)} writes it, so that nothing of it is kept by the test. Run
 * it in a JVM with a small heap ({@code -Xmx64m}): a driver that holds the data in memory fails
 * with {@link OutOfMemoryError}.
 */
public final class VolumeRoundTrip {

  private static final byte[] PATTERN =
      "0123456789abcdefghijklmnopqrstuvwxyz\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  /**
   * What a round trip measured.
   *
   * @param bytes the size of the file
   * @param copyIn how long {@code copyIn} took
   * @param copyOut how long {@code copyOut} took, the check included
   * @param peakHeapBytes the sum of the heap pools' peak use during the round trip
   */
  public record Figures(long bytes, Duration copyIn, Duration copyOut, long peakHeapBytes) {

    @Override
    public String toString() {
      return String.format(
          "round trip of %d MiB: copyIn %.1f s, copyOut %.1f s, peak heap %d MiB of %d MiB max",
          bytes >> 20,
          copyIn.toMillis() / 1000.0,
          copyOut.toMillis() / 1000.0,
          peakHeapBytes >> 20,
          Runtime.getRuntime().maxMemory() >> 20);
    }
  }

  private VolumeRoundTrip() {}

  /**
   * Copies a file of {@code bytes} bytes into the volume and out again, and checks it.
   *
   * @param volume an empty volume of a driver with {@link dev.orchestra.Capability#VOLUME_DATA}
   * @param bytes the file's size
   * @return the figures
   * @throws AssertionError if what came out is not what went in
   * @throws Exception if a copy fails
   */
  public static Figures run(Volume volume, long bytes) throws Exception {
    List<MemoryPoolMXBean> heap =
        ManagementFactory.getMemoryPoolMXBeans().stream()
            .filter(p -> p.getType() == MemoryType.HEAP)
            .toList();
    System.gc();
    heap.forEach(MemoryPoolMXBean::resetPeakUsage);
    long start = System.nanoTime();
    volume.copyIn(archive(bytes));
    long copiedIn = System.nanoTime();

    PipedInputStream in = new PipedInputStream(256 * 1024);
    PipedOutputStream out = new PipedOutputStream(in);
    CompletableFuture<Void> writer =
        CompletableFuture.runAsync(
            () -> {
              try (out) {
                volume.copyOut(out);
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            });
    TarReader reader = new TarReader(in);
    var entry = reader.next();
    if (entry.isEmpty() || !entry.get().name().equals("big.bin")) {
      throw new AssertionError("copyOut's archive starts with " + entry + ", not big.bin");
    }
    PatternStream check = new PatternStream(PATTERN);
    reader.content().transferTo(check);
    writer.join();
    long copiedOut = System.nanoTime();
    if (entry.get().size() != bytes || check.count() != bytes || check.mismatch() >= 0) {
      throw new AssertionError(
          "big.bin came out with "
              + check.count()
              + " bytes of "
              + bytes
              + (check.mismatch() >= 0 ? ", first difference at byte " + check.mismatch() : ""));
    }
    long peak = heap.stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum();
    return new Figures(
        bytes, Duration.ofNanos(copiedIn - start), Duration.ofNanos(copiedOut - copiedIn), peak);
  }

  /** A tar stream of one file of the pattern, written on a thread of its own as it is read. */
  private static InputStream archive(long bytes) throws IOException {
    PipedInputStream in = new PipedInputStream(256 * 1024);
    PipedOutputStream out = new PipedOutputStream(in);
    InputStream content =
        new InputStream() {
          long position;

          @Override
          public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
          }

          @Override
          public int read(byte[] b, int off, int len) {
            if (position == bytes) {
              return -1;
            }
            int n = (int) Math.min(len, bytes - position);
            for (int i = 0; i < n; i++) {
              b[off + i] = PATTERN[(int) ((position + i) % PATTERN.length)];
            }
            position += n;
            return n;
          }
        };
    Thread writer =
        new Thread(
            () -> {
              try (out) {
                TarWriter tar = new TarWriter(out);
                tar.add(
                    new TarEntry(
                        "big.bin", TarEntry.Type.FILE, 0644, bytes, 1_700_000_000L, "", 0, 0),
                    content);
                tar.finish();
              } catch (IOException e) {
                // the reader stopped: its failure is the round trip's
              }
            },
            "orchestra-tck volume round trip archive");
    writer.setDaemon(true);
    writer.start();
    return in;
  }
}
