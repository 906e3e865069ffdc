package dev.orchestra.docker;

import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.PullResponseItem;
import dev.orchestra.ImageNotFoundException;
import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes sure the engine has a task's image, as the pull policy says: inspect first, pull only when
 * needed ({@link PullPolicy#MISSING}), always ({@link PullPolicy#ALWAYS}) or never ({@link
 * PullPolicy#NEVER}). An image that is absent and cannot be pulled is an {@link
 * ImageNotFoundException} naming it and carrying the engine's answer.
 */
final class ImagePuller {

  private static final Logger LOG = LoggerFactory.getLogger(ImagePuller.class);

  /**
   * The engine's pull progress, one line per layer and step ({@code Downloading}, {@code Pull
   * complete}, ...), at INFO: a logger of its own, so that an application can show it (the {@code
   * orchestra} command prints it on stderr) without the rest of the driver's INFO lines.
   */
  static final Logger PROGRESS = LoggerFactory.getLogger("dev.orchestra.docker.pull");

  private final DockerConnection connection;
  private final PullPolicy policy;
  private final StreamWatch watch;

  ImagePuller(DockerConnection connection, PullPolicy policy, StreamWatch watch) {
    this.connection = connection;
    this.policy = policy;
    this.watch = watch;
  }

  /**
   * Makes sure the engine has the image.
   *
   * @param image the image reference
   * @param task the task that needs it, for messages ({@code task 'x' in namespace 'y'})
   * @throws ImageNotFoundException if the image is absent and cannot be pulled
   * @throws OrchestraException if the engine fails otherwise
   */
  void ensure(String image, String task) {
    switch (policy) {
      case NEVER -> {
        if (!imagePresent(image, task)) {
          throw absentWithPullNever(image, task);
        }
      }
      case MISSING -> {
        if (!imagePresent(image, task)) {
          pull(image, task);
        }
      }
      case ALWAYS -> pull(image, task);
    }
  }

  /**
   * The engine answered that it lacks the image (creating a container from it failed): pulls it if
   * the policy allows. Lets the driver create first and look for the image only when it is missing,
   * instead of inspecting it before every container.
   *
   * @throws ImageNotFoundException if the policy is {@link PullPolicy#NEVER}, or the pull fails
   * @throws OrchestraException if the engine fails otherwise
   */
  void missing(String image, String task) {
    if (policy == PullPolicy.NEVER) {
      throw absentWithPullNever(image, task);
    }
    pull(image, task);
  }

  /** Whether the image must be pulled before each new container, whether present or not. */
  boolean pullsFirst() {
    return policy == PullPolicy.ALWAYS;
  }

  private ImageNotFoundException absentWithPullNever(String image, String task) {
    return new ImageNotFoundException(
        image,
        "image '"
            + image
            + "' of "
            + task
            + " is not on the Docker engine at "
            + connection.describe()
            + ", and the pull policy is 'never' (load or build it there, or use pull=missing)",
        null);
  }

  private boolean imagePresent(String image, String task) {
    try {
      LOG.debug("inspecting image {} for {}", image, task);
      connection.api().inspectImageCmd(image).exec();
      return true;
    } catch (NotFoundException e) {
      return false;
    } catch (RuntimeException e) {
      throw EngineErrors.failure("looking up image '" + image + "' for " + task, e);
    }
  }

  private void pull(String image, String task) {
    ImageReference ref = ImageReference.parse(image);
    LOG.info("pulling image {} for {} (pull policy {})", image, task, policy);
    PROGRESS.info("pulling image {}", image);
    PullProgress progress = new PullProgress(image);
    String what = "pulling image '" + image + "' for " + task;
    String failure;
    RuntimeException cause = null;
    try {
      connection
          .streams()
          .pullImageCmd(ref.repository())
          .withTag(ref.tag())
          .exec(watch.track(progress, what));
      progress.awaitCompletion(what);
      failure = progress.error();
    } catch (OrchestraInterruptedException e) {
      throw e;
    } catch (RuntimeException e) {
      cause = e;
      failure = EngineErrors.answer(e);
    }
    if (failure == null && imagePresent(image, task)) {
      LOG.info("pulled image {}", image);
      return;
    }
    if (failure == null) {
      failure = "the pull ended, but the engine still has no image '" + image + "'";
    }
    String message =
        "image '"
            + image
            + "' of "
            + task
            + " could not be pulled by the Docker engine at "
            + connection.describe()
            + " (pull policy '"
            + policy
            + "'): "
            + failure;
    if (policy == PullPolicy.ALWAYS && imagePresent(image, task)) {
      throw new OrchestraException(message, cause);
    }
    throw new ImageNotFoundException(image, message, cause);
  }

  /**
   * Reports each layer's change of step to {@link #PROGRESS} (not every byte count) and collects
   * the first error a pull reports inside its progress stream.
   */
  private static final class PullProgress extends StreamCallback<PullResponseItem> {

    private final String image;
    private final Map<String, String> stepOfLayer = new ConcurrentHashMap<>();
    private volatile String error;

    PullProgress(String image) {
      this.image = image;
    }

    @Override
    public void onNext(PullResponseItem item) {
      String step = item.getStatus();
      if (step != null && PROGRESS.isInfoEnabled()) {
        String layer = item.getId() == null ? "" : item.getId();
        if (!step.equals(stepOfLayer.put(layer, step))) {
          PROGRESS.info("{}: {}{}", image, layer.isEmpty() ? "" : layer + ": ", step);
        }
      }
      if (error == null && item.isErrorIndicated()) {
        error =
            item.getErrorDetail() != null && item.getErrorDetail().getMessage() != null
                ? item.getErrorDetail().getMessage()
                : "the engine reported a failed pull without details";
      }
    }

    String error() {
      return error;
    }
  }
}
