package dev.orchestra.kubernetes;

import dev.orchestra.kubernetes.kubelet.KubeletServer;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * An EMULATED Kubernetes cluster for tests: a strict Kubernetes API server subset (core/v1 pods and
 * persistentvolumeclaims, with log, exec and attach) on 127.0.0.1, and an emulated kubelet that
 * runs each pod's container on the local Docker engine. No real API server or kubelet is involved;
 * every behaviour it emulates names, in a comment, the kubernetes.io page it follows (see package
 * {@code dev.orchestra.kubernetes.kubelet}). Thread-safe.
 *
 * <p>{@link #close()} removes every container and volume it made, even after failures; {@link
 * #leftovers()} lists what is still there.
 */
public final class EmulatedKubelet implements AutoCloseable {

  private final KubeletServer server;
  private Path kubeconfig;

  private EmulatedKubelet(KubeletServer server) {
    this.server = server;
  }

  /**
   * Starts an emulated cluster whose log reads honour {@code stream} (PodLogsQuerySplitStreams).
   */
  public static EmulatedKubelet start() {
    return new EmulatedKubelet(KubeletServer.start(false));
  }

  /**
   * Starts an emulated cluster whose API server ignores the {@code stream} option of log reads, as
   * one without the PodLogsQuerySplitStreams feature gate does: every read carries both streams.
   */
  public static EmulatedKubelet mergingStreams() {
    return new EmulatedKubelet(KubeletServer.start(true));
  }

  /** Why the emulated kubelet cannot run here (no Docker engine), or {@code null} when it can. */
  public static String unavailableReason() {
    return KubeletServer.engineProblem();
  }

  /** The API server's URL ({@code http://127.0.0.1:PORT}, no TLS, no authentication). */
  public URI url() {
    return server.url();
  }

  /**
   * A kubeconfig file for this cluster (context {@code emulated}, namespace {@code default}, no
   * authentication), written on the first call and deleted by {@link #close()}.
   */
  public synchronized Path kubeconfig() {
    if (kubeconfig == null) {
      try {
        Path file = Files.createTempFile("emulated-kubelet-", ".kubeconfig");
        Files.writeString(
            file,
            "apiVersion: v1\n"
                + "kind: Config\n"
                + "clusters:\n"
                + "- name: emulated\n"
                + "  cluster:\n"
                + "    server: "
                + url()
                + "\n"
                + "contexts:\n"
                + "- name: emulated\n"
                + "  context:\n"
                + "    cluster: emulated\n"
                + "    namespace: default\n"
                + "    user: emulated\n"
                + "current-context: emulated\n"
                + "users:\n"
                + "- name: emulated\n"
                + "  user: {}\n");
        kubeconfig = file;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return kubeconfig;
  }

  /** A fabric8 client configuration for this cluster alone (nothing read from the environment). */
  public Config config() {
    return new ConfigBuilder(Config.empty())
        .withMasterUrl(url().toString())
        .withNamespace("default")
        .withRequestTimeout(30_000)
        .withConnectionTimeout(10_000)
        .build();
  }

  /** What this cluster left on the Docker engine: one line per container or volume. */
  public List<String> leftovers() {
    return server.leftovers();
  }

  /** Stops the server and every pod, removes every container and volume it made. Idempotent. */
  @Override
  public synchronized void close() {
    server.close();
    if (kubeconfig != null) {
      try {
        Files.deleteIfExists(kubeconfig);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  @Override
  public String toString() {
    return "EmulatedKubelet[emulated Kubernetes API server and kubelet on Docker, " + url() + "]";
  }
}
