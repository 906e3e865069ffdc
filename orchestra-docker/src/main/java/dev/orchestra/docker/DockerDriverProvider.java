package dev.orchestra.docker;

import dev.orchestra.Driver;
import dev.orchestra.spi.DriverParams;
import dev.orchestra.spi.DriverProvider;
import dev.orchestra.spi.Names;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

/**
 * Registers the {@code "docker"} driver with {@link dev.orchestra.Orchestra}: every task a
 * container on a Docker engine.
 *
 * <p>Parameters (also given as {@code docker://namespace?host=...&pull=...}, or as the environment
 * variables {@code ORCHESTRA_DOCKER_HOST} and {@code ORCHESTRA_DOCKER_PULL}):
 *
 * <ul>
 *   <li>{@code host}: the engine's address, {@code unix:///var/run/docker.sock} or {@code
 *       tcp://host:2376}; defaults to {@code DOCKER_HOST}, then to the local socket. TLS follows
 *       {@code DOCKER_TLS_VERIFY} and {@code DOCKER_CERT_PATH}.
 *   <li>{@code pull}: {@code missing} (the default: pull only images the engine lacks), {@code
 *       always} or {@code never}.
 *   <li>{@code requestTimeout}: how long the driver waits for the engine's answer to each request
 *       that is not a stream (create, start, inspect, kill, remove, volumes, exec, ping), as
 *       ISO-8601 ({@code PT60S}) or seconds ({@code 60}); from 1 ms to 24 hours; 60 seconds by
 *       default. A request that gets no answer in time fails with an {@link
 *       dev.orchestra.OrchestraException} naming the request, the task and the engine. The streams
 *       (follow, the event stream, stdin, pull) wait as long as their answer flows; the wait for it
 *       to begin is bounded the same way, and a stream that stays quiet while the engine no longer
 *       answers a ping ends with an {@code OrchestraException}.
 * </ul>
 *
 * Opening checks that the engine answers, and fails with an {@link
 * dev.orchestra.OrchestraException} saying where it looked when it does not.
 *
 * <p>Capabilities: {@code IMAGE}, {@code USER}, {@code PRIVILEGED}, {@code CPU_LIMIT}, {@code
 * MEMORY_LIMIT}, and the whole task lifecycle:
 *
 * <ul>
 *   <li>{@code FOLLOW}: the logs API with {@code follow}; the bytes the engine drops at exit are
 *       caught up by reading the log again once the exit is recorded.
 *   <li>{@code onExit()} and {@code await()}: one subscription to the engine's events per driver
 *       (the namespace's {@code die} and {@code destroy}), whatever the number of waiting tasks; a
 *       container removed behind the driver's back fails its waiters with {@link
 *       dev.orchestra.ContainerNotFoundException}.
 *   <li>{@code STOP}: SIGTERM to the container's init, which forwards it to the task; SIGKILL after
 *       the grace, measured by the client to the nanosecond (not rounded to seconds as {@code
 *       docker stop -t} is).
 *   <li>{@code TIMEOUT}: stored on the container as the label {@code dev.orchestra.timeout-millis}
 *       and counted from the engine's start time, so that any driver instance that starts or finds
 *       the container enforces it.
 *   <li>{@code REATTACH}: {@code find(taskId)} by the container's name, checked against its labels.
 *   <li>{@code SANDBOX}: a container kept alive by its command, steps as execs. Stopping a step
 *       needs {@code sh} and {@code tr} in the image.
 * </ul>
 *
 * <p>Exit reasons: {@code OOM_KILLED} when the engine reports {@code OOMKilled} (and the exit code
 * is not 0); {@code STOPPED} and {@code TIMED_OUT} as asked by this driver instance. Labels cannot
 * change once a container exists, so another instance derives the reason from the engine's state:
 * {@code TIMED_OUT} for a task with a timeout that ran at least that long and exited 143 or 137,
 * {@code SIGNALED} for a stop it did not ask for.
 */
public final class DockerDriverProvider implements DriverProvider {

  /** The registry name of the driver. */
  public static final String NAME = "docker";

  /** The parameter that sets the engine's address. */
  public static final String HOST = "host";

  /** The parameter that sets the pull policy. */
  public static final String PULL = "pull";

  /** The parameter that bounds each request that is not a stream. */
  public static final String REQUEST_TIMEOUT = "requestTimeout";

  private static final Duration SHORTEST_REQUEST_TIMEOUT = Duration.ofMillis(1);
  private static final Duration LONGEST_REQUEST_TIMEOUT = Duration.ofHours(24);

  /** Creates the provider; does nothing else (the registry instantiates every provider). */
  public DockerDriverProvider() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Driver create(String namespace, Map<String, String> params) {
    Names.requireNamespace(namespace);
    DriverParams checked = DriverParams.of(NAME, params, Set.of(HOST, PULL, REQUEST_TIMEOUT));
    PullPolicy pull = checked.get(PULL).map(PullPolicy::parse).orElse(PullPolicy.MISSING);
    Duration requestTimeout = requestTimeout(checked);
    return new DockerDriver(
        namespace, DockerConnection.open(checked.get(HOST), requestTimeout), pull);
  }

  private static Duration requestTimeout(DriverParams params) {
    Duration timeout =
        params.getDuration(REQUEST_TIMEOUT).orElse(DockerConnection.DEFAULT_REQUEST_TIMEOUT);
    if (timeout.compareTo(SHORTEST_REQUEST_TIMEOUT) < 0
        || timeout.compareTo(LONGEST_REQUEST_TIMEOUT) > 0) {
      throw new IllegalArgumentException(
          "parameter '"
              + REQUEST_TIMEOUT
              + "' of driver '"
              + NAME
              + "' must be from "
              + SHORTEST_REQUEST_TIMEOUT
              + " to "
              + LONGEST_REQUEST_TIMEOUT
              + ", was '"
              + params.get(REQUEST_TIMEOUT).orElse("")
              + "'");
    }
    return timeout;
  }
}
