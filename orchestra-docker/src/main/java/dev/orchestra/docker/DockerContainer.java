package dev.orchestra.docker;

import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import dev.orchestra.Container;
import dev.orchestra.ContainerNotFoundException;
import dev.orchestra.ContainerStatus;
import dev.orchestra.OrchestraException;
import java.io.IOException;
import java.io.OutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A task's container. The status comes from inspecting it until it is done, then from a cache; the
 * logs come from the engine's logs API, demultiplexed as they stream.
 */
final class DockerContainer implements Container {

  private static final Logger LOG = LoggerFactory.getLogger(DockerContainer.class);

  private final DockerDriver driver;
  private final String taskId;
  private final String name;
  private final String containerId;
  private volatile ContainerStatus done;

  DockerContainer(DockerDriver driver, String taskId, String name, String containerId) {
    this.driver = driver;
    this.taskId = taskId;
    this.name = name;
    this.containerId = containerId;
  }

  /** The engine's id of the container (64 hex digits). */
  @Override
  public String id() {
    return containerId;
  }

  @Override
  public ContainerStatus status() {
    ContainerStatus cached = done;
    if (cached != null) {
      return cached;
    }
    requireDriverOpen("reading the status of");
    InspectContainerResponse inspected;
    try {
      LOG.debug("inspecting container {} of {}", name, describe());
      inspected = driver.api().inspectContainerCmd(containerId).exec();
    } catch (NotFoundException e) {
      throw notFound("reading the status of", e);
    } catch (RuntimeException e) {
      throw EngineErrors.failure(
          "reading the status of container " + name + " of " + describe(), e);
    }
    ContainerStatus status = statusOf(inspected.getState());
    if (status.isDone()) {
      done = status;
      LOG.debug("container {} of {} exited {}", name, describe(), status.exitCode());
    }
    return status;
  }

  @Override
  public void logs(OutputStream stdout, OutputStream stderr) {
    if (stdout == null || stderr == null) {
      throw new IllegalArgumentException("stdout and stderr must not be null");
    }
    requireDriverOpen("reading the logs of");
    String what = "reading the logs of container " + name + " of " + describe();
    LogDemuxer demuxer = new LogDemuxer(stdout, stderr);
    try {
      LOG.debug("reading the logs of container {} of {}", name, describe());
      driver
          .streams()
          .logContainerCmd(containerId)
          .withStdOut(true)
          .withStdErr(true)
          .withFollowStream(false)
          .withTimestamps(false)
          .withTailAll()
          .exec(demuxer);
      demuxer.awaitCompletion(what);
    } catch (NotFoundException e) {
      throw notFound("reading the logs of", e);
    } catch (RuntimeException e) {
      throw EngineErrors.failure(what, e);
    }
    try {
      demuxer.finish();
    } catch (IOException e) {
      throw new OrchestraException(
          "writing the logs of container " + name + " of " + describe() + " failed: " + e, e);
    }
  }

  @Override
  public void cleanup() {
    if (driver.isClosed()) {
      LOG.debug("container {} of {} went with its closed namespace", name, describe());
      return;
    }
    if (driver.removeContainer(containerId, "container " + name + " of " + describe())) {
      LOG.info("removed container {} of {}", name, describe());
    } else {
      LOG.debug("container {} of {} was already gone", name, describe());
    }
  }

  @Override
  public String toString() {
    return "DockerContainer[" + name + ", task=" + taskId + ", id=" + containerId + "]";
  }

  /**
   * Maps the engine's state: {@code exited} and {@code dead} are done with the engine's exit code,
   * as is a container whose start failed ({@code created} with an error); everything else runs.
   */
  static ContainerStatus statusOf(InspectContainerResponse.ContainerState state) {
    if (state == null) {
      return ContainerStatus.running();
    }
    String status = state.getStatus();
    boolean failedStart =
        "created".equals(status) && state.getError() != null && !state.getError().isBlank();
    if (!"exited".equals(status) && !"dead".equals(status) && !failedStart) {
      return ContainerStatus.running();
    }
    Long code = state.getExitCodeLong();
    if (code == null || code < 0 || code > 255) {
      LOG.warn(
          "the engine reports exit code {} for a {} container; reading it as 255", code, status);
      return ContainerStatus.exited(255);
    }
    return ContainerStatus.exited(code.intValue());
  }

  /** After close() the namespace's containers are gone, and so is the connection. */
  private void requireDriverOpen(String action) {
    if (driver.isClosed()) {
      throw new ContainerNotFoundException(
          taskId,
          action
              + " container "
              + name
              + " of "
              + describe()
              + " failed: the driver was closed, which removed every container of the namespace",
          null);
    }
  }

  private ContainerNotFoundException notFound(String action, NotFoundException e) {
    return new ContainerNotFoundException(
        taskId,
        action
            + " container "
            + name
            + " of "
            + describe()
            + " failed: it no longer exists (cleaned up, or removed outside the driver); "
            + EngineErrors.answer(e),
        e);
  }

  private String describe() {
    return driver.describe(taskId);
  }
}
