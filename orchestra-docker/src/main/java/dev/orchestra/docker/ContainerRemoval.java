package dev.orchestra.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The removal of one container, running or not: what a cleanup, a failed run and close() send. */
final class ContainerRemoval {

  private static final Logger LOG = LoggerFactory.getLogger(ContainerRemoval.class);

  /** How long removal waits for a removal already in progress, or a volume still in use. */
  static final Duration PATIENCE = Duration.ofSeconds(30);

  private ContainerRemoval() {}

  /**
   * Force-removes a container, running or not, with its anonymous volumes, waiting up to {@link
   * #PATIENCE} for a removal already in progress.
   *
   * @param what the container, for messages ({@code container x of task 'y' in namespace 'z'})
   * @return {@code false} if the container did not exist
   * @throws dev.orchestra.OrchestraException if the engine fails, naming {@code what}
   */
  static boolean remove(DockerClient api, String containerId, String what) {
    Pause pause = new Pause(what, PATIENCE);
    while (true) {
      try {
        LOG.debug("removing {}", what);
        api.removeContainerCmd(containerId).withForce(true).withRemoveVolumes(true).exec();
        return true;
      } catch (NotFoundException e) {
        return false;
      } catch (ConflictException e) {
        // "removal of container ... is already in progress": done once it answers not found.
        if (!pause.again()) {
          throw EngineErrors.failure("removing " + what, e);
        }
      } catch (RuntimeException e) {
        throw EngineErrors.failure("removing " + what, e);
      }
    }
  }
}
