package dev.orchestra.kubernetes.kubelet;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

/**
 * The emulated cluster of {@code dev.orchestra.kubernetes.EmulatedKubelet}: an {@link ApiServer}
 * over a {@link Store}, and a {@link Kubelet} that runs the pods on the local Docker engine. Not a
 * real Kubernetes: see the package's classes for what is emulated and the kubernetes.io page each
 * follows.
 */
public final class KubeletServer implements AutoCloseable {

  private final DockerClient docker;
  private final Kubelet kubelet;
  private final ApiServer api;
  private final String instance;
  private boolean closed;

  private KubeletServer(boolean mergingStreams) throws IOException {
    URI host = DefaultDockerClientConfig.createDefaultConfigBuilder().build().getDockerHost();
    if (!"unix".equals(host.getScheme())) {
      throw new IllegalStateException(
          "the emulated kubelet needs a Docker engine on a Unix socket, not " + host);
    }
    this.docker = dockerClient();
    this.instance = UUID.randomUUID().toString();
    Store store = new Store();
    this.kubelet = new Kubelet(store, docker, Path.of(host.getPath()), instance);
    this.api = new ApiServer(store, kubelet, mergingStreams);
  }

  private static DockerClient dockerClient() {
    DefaultDockerClientConfig config =
        DefaultDockerClientConfig.createDefaultConfigBuilder().build();
    return DockerClientImpl.getInstance(
        config,
        new ApacheDockerHttpClient.Builder()
            .dockerHost(config.getDockerHost())
            .maxConnections(200)
            .connectionTimeout(Duration.ofSeconds(10))
            .responseTimeout(Duration.ofMinutes(5))
            .build());
  }

  /**
   * Starts a server on 127.0.0.1 and a random port.
   *
   * @param mergingStreams whether the {@code stream} option of log reads is ignored, as a server
   *     without the PodLogsQuerySplitStreams feature gate does
   */
  public static KubeletServer start(boolean mergingStreams) {
    try {
      return new KubeletServer(mergingStreams);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Why no Docker engine can serve the emulated kubelet, or {@code null} when one answers a ping on
   * its Unix socket (within a few seconds).
   */
  public static String engineProblem() {
    URI host = DefaultDockerClientConfig.createDefaultConfigBuilder().build().getDockerHost();
    if (!"unix".equals(host.getScheme())) {
      return "the Docker engine is not on a Unix socket: " + host;
    }
    var result = new java.util.concurrent.CompletableFuture<String>();
    Thread ping =
        new Thread(
            () -> {
              try (EngineStream stream =
                  EngineStream.open(Path.of(host.getPath()), "GET", "/_ping", null, false)) {
                String answer = EngineStream.readAll(stream.body()).trim();
                result.complete(
                    answer.equals("OK")
                        ? null
                        : "the Docker engine answered its ping with " + answer);
              } catch (IOException | RuntimeException e) {
                result.complete("no Docker engine answers on " + host + ": " + e);
              }
            },
            "emulated-kubelet-ping");
    ping.setDaemon(true);
    ping.start();
    try {
      return result.get(10, java.util.concurrent.TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      return "the Docker engine on " + host + " did not answer a ping within 10 s";
    } catch (java.util.concurrent.ExecutionException e) {
      return "pinging the Docker engine failed: " + e.getCause();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted while pinging the Docker engine";
    }
  }

  /** The server's base URL, {@code http://127.0.0.1:PORT}. */
  public URI url() {
    return URI.create("http://127.0.0.1:" + api.port());
  }

  /** The label value on everything this server made on the engine. */
  public String instance() {
    return instance;
  }

  /** Describes every container and volume of this server still on the engine. */
  public synchronized List<String> leftovers() {
    if (!closed) {
      return Kubelet.leftovers(docker, instance);
    }
    try (DockerClient fresh = dockerClient()) {
      return Kubelet.leftovers(fresh, instance);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Stops serving, stops every pod and removes every container and volume it made. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    api.close();
    kubelet.close();
    kubelet.removeAll();
    try {
      docker.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
