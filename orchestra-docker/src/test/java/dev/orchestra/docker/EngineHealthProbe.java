package dev.orchestra.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.locks.LockSupport;

/**
 * Whether the engine runs containers at all: creates, starts, waits for and removes a busybox
 * {@code true}, within {@link #BOUND}. An engine can answer pings, {@code docker info} and {@code
 * docker ps} and still block every create, start and inspect for good: Debian's dockerd 20.10.24
 * does in its libnetwork deadlock under container churn (moby/moby#46661, moby/libnetwork#2649).
 * The probe's container is labelled {@value #LABEL}, without a namespace.
 */
final class EngineHealthProbe {

  /** The most the whole probe may take: a healthy engine needs well under a second. */
  static final Duration BOUND = Duration.ofSeconds(60);

  /** The bound of each of the probe's requests. */
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

  static final String LABEL = "dev.orchestra.health-probe";

  private final Optional<String> host;
  private final Duration requestTimeout;
  private final Duration bound;
  private volatile String step = "connecting";

  private EngineHealthProbe(Optional<String> host, Duration requestTimeout, Duration bound) {
    this.host = host;
    this.requestTimeout = requestTimeout;
    this.bound = bound;
  }

  private String engine() {
    return host.orElse(System.getenv().getOrDefault("DOCKER_HOST", "unix:///var/run/docker.sock"));
  }

  /**
   * Probes an engine within {@link #BOUND}. An interrupt of the calling thread does not end the
   * probe early ({@link Uninterruptibly}): it says nothing about the engine.
   *
   * @param host the engine's address, or empty for {@code DOCKER_HOST}
   * @return {@code null} when it ran the container, else what failed or hung, naming the engine
   */
  static String problem(Optional<String> host) {
    return problem(host, REQUEST_TIMEOUT, BOUND);
  }

  /**
   * Probes an engine.
   *
   * @param host the engine's address, or empty for {@code DOCKER_HOST}
   * @param requestTimeout the bound of each request
   * @param bound the bound of the whole probe
   * @return {@code null} when it ran the container, else what failed or hung, naming the engine
   */
  static String problem(Optional<String> host, Duration requestTimeout, Duration bound) {
    EngineHealthProbe probe = new EngineHealthProbe(host, requestTimeout, bound);
    CompletableFuture<Void> run = new CompletableFuture<>();
    Thread thread =
        new Thread(
            () -> {
              try {
                probe.run();
                run.complete(null);
              } catch (Throwable t) {
                run.completeExceptionally(t);
              }
            },
            "docker-engine-health-probe");
    thread.setDaemon(true);
    thread.start();
    if (!Uninterruptibly.await(run, bound)) {
      thread.interrupt();
      return "the engine at "
          + probe.engine()
          + " did not run a busybox container within "
          + bound
          + " (stuck "
          + probe.step
          + ")";
    }
    try {
      run.join();
      return null;
    } catch (CompletionException e) {
      return "the engine at "
          + probe.engine()
          + " failed to run a busybox container: "
          + probe.step
          + " failed: "
          + EngineErrors.answer(e.getCause());
    }
  }

  private void run() {
    try (DockerConnection connection = DockerConnection.open(host, requestTimeout)) {
      DockerClient engine = connection.api();
      String name = "orchestra-health-probe-" + UUID.randomUUID().toString().substring(0, 8);
      step = "creating container " + name;
      String id =
          engine
              .createContainerCmd(DockerTesting.IMAGE)
              .withName(name)
              .withLabels(Map.of(LABEL, "true"))
              .withEntrypoint("")
              .withCmd("true")
              .exec()
              .getId();
      try {
        step = "starting container " + name;
        engine.startContainerCmd(id).exec();
        step = "waiting for container " + name + " to exit";
        long deadline = System.nanoTime() + bound.toNanos();
        while (true) {
          InspectContainerResponse.ContainerState state =
              engine.inspectContainerCmd(id).exec().getState();
          if (state != null && "exited".equals(state.getStatus())) {
            break;
          }
          if (System.nanoTime() - deadline > 0) {
            throw new IllegalStateException("container " + name + " did not exit");
          }
          LockSupport.parkNanos(Duration.ofMillis(50).toNanos());
        }
      } catch (RuntimeException e) {
        // Best effort: the step that failed is what the probe reports.
        try {
          remove(engine, id);
        } catch (RuntimeException suppressed) {
          e.addSuppressed(suppressed);
        }
        throw e;
      }
      step = "removing container " + name;
      remove(engine, id);
    }
  }

  private static void remove(DockerClient engine, String id) {
    try {
      engine.removeContainerCmd(id).withForce(true).exec();
    } catch (NotFoundException gone) {
      // removed already
    }
  }
}
