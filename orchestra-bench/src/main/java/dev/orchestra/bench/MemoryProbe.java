package dev.orchestra.bench;

import dev.orchestra.Container;
import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import dev.orchestra.Task;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.time.Duration;
import java.util.Locale;

/**
 * Run in a JVM of its own with a small heap ({@code -Xmx64m}): follows a task that writes {@code
 * bytes} to stdout, then reads its logs back once more, counting both, while a sampler records the
 * heap. Prints one line of {@code key=value} pairs on stdout: the benchmark runner parses it.
 *
 * <p>Arguments: the driver ({@code local} or {@code docker}), the byte count, the image.
 */
public final class MemoryProbe {

  private MemoryProbe() {}

  /**
   * @param args driver, bytes, image
   */
  public static void main(String[] args) throws Exception {
    String driverName = args[0];
    long bytes = Long.parseLong(args[1]);
    String image = args[2];
    Sampler sampler = new Sampler();
    DockerRows.CountingStream followed = new DockerRows.CountingStream();
    DockerRows.CountingStream read = new DockerRows.CountingStream();
    DockerRows.CountingStream err = new DockerRows.CountingStream();
    int exit;
    long start;
    long t0;
    Thread thread = new Thread(sampler, "heap-sampler");
    thread.setDaemon(true);
    try (Driver driver = Orchestra.open(driverName, DockerRows.freshNamespace())) {
      // A small task first, so that the start counts what the driver holds once warm (classes'
      // caches, its client), and the growth only what the large log makes it hold.
      Container warm =
          driver.runContainer(
              Task.builder().id("warm").image(image).command("echo", "warm").build());
      warm.follow(new DockerRows.CountingStream(), new DockerRows.CountingStream());
      warm.logs(new DockerRows.CountingStream(), new DockerRows.CountingStream());
      System.gc();
      start = sampler.afterGc();
      thread.start();
      t0 = System.nanoTime();
      Container c =
          driver.runContainer(
              Task.builder()
                  .id("memory")
                  .image(image)
                  .command("head", "-c", Long.toString(bytes), "/dev/zero")
                  .build());
      c.follow(followed, err);
      exit = c.await(Duration.ofMinutes(5)).exitCode();
      c.logs(read, err);
    }
    long seconds = (System.nanoTime() - t0) / 1_000_000;
    sampler.stop = true;
    thread.join();
    System.gc();
    long end = sampler.afterGc();
    System.out.printf(
        Locale.ROOT,
        "exit=%d followed=%d read=%d stderr=%d startAfterGc=%d endAfterGc=%d peakAfterGc=%d"
            + " peakUsed=%d millis=%d maxHeap=%d%n",
        exit,
        followed.count(),
        read.count(),
        err.count(),
        start,
        end,
        Math.max(sampler.peakAfterGc, end),
        sampler.peakUsed,
        seconds,
        Runtime.getRuntime().maxMemory());
  }

  /** Samples the heap every 10 ms: the most used at any time, and the most live after a GC. */
  private static final class Sampler implements Runnable {
    volatile boolean stop;
    volatile long peakUsed;
    volatile long peakAfterGc;

    long afterGc() {
      long sum = 0;
      for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
        if (pool.getType() == MemoryType.HEAP && pool.getCollectionUsage() != null) {
          sum += pool.getCollectionUsage().getUsed();
        }
      }
      return sum;
    }

    @Override
    public void run() {
      while (!stop) {
        peakUsed =
            Math.max(peakUsed, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        peakAfterGc = Math.max(peakAfterGc, afterGc());
        try {
          Thread.sleep(10);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }
}
