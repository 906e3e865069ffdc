package dev.orchestra.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.orchestra.OrchestraInterruptedException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpawnLockTest {

  @TempDir Path tmp;

  private final ExecutorService pool = Executors.newCachedThreadPool();

  @AfterEach
  void stopPool() {
    pool.shutdownNow();
  }

  @Test
  void aStartWaitsForTheFileBeingWritten() throws Exception {
    CountDownLatch writing = new CountDownLatch(1);
    CountDownLatch finish = new CountDownLatch(1);
    Future<?> writer =
        pool.submit(
            () -> {
              SpawnLock.writing(
                  "a test write",
                  () -> {
                    writing.countDown();
                    await().until(() -> finish.getCount() == 0);
                  });
              return null;
            });
    assertThat(writing.await(30, TimeUnit.SECONDS)).isTrue();
    Future<String> start = pool.submit(() -> SpawnLock.starting("a test start", () -> "started"));

    await()
        .during(Duration.ofMillis(300))
        .atMost(Duration.ofSeconds(5))
        .until(() -> !start.isDone());
    finish.countDown();
    assertThat(start.get(30, TimeUnit.SECONDS)).isEqualTo("started");
    writer.get(30, TimeUnit.SECONDS);
  }

  @Test
  void tarWritesNoFileWhileAProcessStarts() throws Exception {
    Path src = Files.createDirectories(tmp.resolve("src"));
    Files.writeString(src.resolve("run.sh"), "#!/bin/sh\necho hi\n");
    ByteArrayOutputStream tar = new ByteArrayOutputStream();
    Tar.write(src, tar);
    Path dst = Files.createDirectories(tmp.resolve("dst"));

    CountDownLatch starting = new CountDownLatch(1);
    CountDownLatch started = new CountDownLatch(1);
    Future<?> start =
        pool.submit(
            () ->
                SpawnLock.starting(
                    "a test start",
                    () -> {
                      starting.countDown();
                      await().until(() -> started.getCount() == 0);
                      return null;
                    }));
    assertThat(starting.await(30, TimeUnit.SECONDS)).isTrue();
    Future<Long> extract =
        pool.submit(() -> Tar.extract(new ByteArrayInputStream(tar.toByteArray()), dst));

    await()
        .during(Duration.ofMillis(300))
        .atMost(Duration.ofSeconds(5))
        .until(() -> !extract.isDone() && !Files.exists(dst.resolve("run.sh")));
    started.countDown();
    start.get(30, TimeUnit.SECONDS);
    assertThat(extract.get(30, TimeUnit.SECONDS)).isEqualTo(1);
    assertThat(dst.resolve("run.sh")).hasContent("#!/bin/sh\necho hi");
  }

  @Test
  void anInterruptedWaitThrowsAndKeepsTheFlag() throws Exception {
    CountDownLatch writing = new CountDownLatch(1);
    CountDownLatch finish = new CountDownLatch(1);
    pool.submit(
        () -> {
          SpawnLock.writing(
              "a test write",
              () -> {
                writing.countDown();
                await().atMost(Duration.ofMinutes(1)).until(() -> finish.getCount() == 0);
              });
          return null;
        });
    assertThat(writing.await(30, TimeUnit.SECONDS)).isTrue();
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    CompletableFuture<Boolean> flag = new CompletableFuture<>();
    Thread waiter =
        new Thread(
            () -> {
              try {
                SpawnLock.starting("a test start", () -> "started");
              } catch (RuntimeException | IOException e) {
                thrown.set(e);
              }
              flag.complete(Thread.currentThread().isInterrupted());
            });
    waiter.start();
    await().until(() -> waiter.getState() == Thread.State.WAITING);
    waiter.interrupt();
    assertThat(flag.get(30, TimeUnit.SECONDS)).isTrue();
    assertThat(thrown.get())
        .isInstanceOf(OrchestraInterruptedException.class)
        .hasMessageContaining("a test start");
    finish.countDown();
  }
}
