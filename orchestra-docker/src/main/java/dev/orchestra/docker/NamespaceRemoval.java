package dev.orchestra.docker;

import com.github.dockerjava.api.command.ListVolumesResponse;
import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The work of {@link DockerDriver#close()}: waits for the creates in flight ({@link
 * CreatesInFlight}), removes every container and volume labelled with the namespace (whichever
 * driver instance created them) and what {@link DeferredRemovals} still holds, ends the sandboxes,
 * the event stream and the executor, deletes the scratch directory and closes the connection. Once
 * the engine left one of its requests unanswered, it sends no more: the rest is named in its
 * exception. Failures are collected, and thrown together at the end. An interrupt stops it with
 * {@link OrchestraInterruptedException} and leaves the connection open, so that a later close()
 * removes what is left; once it finished, close() does nothing.
 */
final class NamespaceRemoval {

  private static final Logger LOG = LoggerFactory.getLogger(NamespaceRemoval.class);

  private final DockerNamespace namespace;
  private final DockerVolumes volumes;
  private final DeferredRemovals deferred;

  /** Held while close() works; guards {@link #finished}. */
  private final Object closing = new Object();

  /** Whether close() has removed everything and released the connection. */
  private boolean finished;

  NamespaceRemoval(DockerNamespace namespace, DockerVolumes volumes, DeferredRemovals deferred) {
    this.namespace = namespace;
    this.volumes = volumes;
    this.deferred = deferred;
  }

  /** Marks the namespace closed, then removes everything unless an earlier call did. */
  void close() {
    namespace.markClosed();
    synchronized (closing) {
      if (finished) {
        return;
      }
      removeEverything();
    }
  }

  private void removeEverything() {
    String name = namespace.name();
    List<DockerSandbox> boxes = namespace.sandboxes();
    boxes.forEach(DockerSandbox::beginRemoval);
    namespace.events().close();
    List<RuntimeException> failures = new ArrayList<>();
    // Once the engine left a request unanswered, the rest is not sent: each would wait as long.
    List<String> notTried = new ArrayList<>();
    int containers = 0;
    int volumeCount = 0;
    try {
      // A create cut off by its caller's interrupt may still make a container: wait for its answer.
      namespace.creates().closeAndAwait(namespace.connection().requestTimeout().multipliedBy(2));
      for (String containerId : namespaceContainers(failures)) {
        if (stalled(failures)) {
          notTried.add("container " + containerId);
          continue;
        }
        try {
          if (ContainerRemoval.remove(namespace.api(), containerId, "container " + containerId)) {
            containers++;
          }
        } catch (OrchestraInterruptedException e) {
          throw e;
        } catch (RuntimeException e) {
          LOG.warn("closing namespace '{}': {}", name, e.getMessage());
          failures.add(e);
        }
      }
      List<String> volumeNames = List.of();
      if (stalled(failures)) {
        notTried.add("the volumes of the namespace");
      } else {
        volumeNames = namespaceVolumes(failures);
      }
      for (String volumeName : volumeNames) {
        if (stalled(failures)) {
          notTried.add("volume " + volumeName);
          continue;
        }
        try {
          if (volumes.remove(volumeName, "volume " + volumeName, true)) {
            volumeCount++;
          }
        } catch (OrchestraInterruptedException e) {
          throw e;
        } catch (RuntimeException e) {
          LOG.warn("closing namespace '{}': {}", name, e.getMessage());
          failures.add(e);
        }
      }
    } catch (OrchestraInterruptedException e) {
      LOG.warn("closing namespace '{}' was interrupted; close() again removes what is left", name);
      throw e;
    }
    if (!notTried.isEmpty()) {
      failures.add(
          new OrchestraException(
              "not removed, as the engine did not answer an earlier request of this close(): "
                  + String.join(", ", notTried)
                  + " (a driver of the namespace opened and closed once the engine answers"
                  + " removes them)"));
    }
    finished = true;
    deferred.clear();
    namespace.shutdownExecutor();
    boxes.forEach(DockerSandbox::finishRemoval);
    namespace.forgetContainers();
    namespace.deleteScratch();
    namespace.connection().close();
    if (!failures.isEmpty()) {
      List<String> messages = new ArrayList<>();
      failures.forEach(f -> messages.add(f.getMessage()));
      OrchestraException e =
          new OrchestraException(
              "closing namespace '"
                  + name
                  + "' on the Docker engine at "
                  + namespace.describeEngine()
                  + " left "
                  + failures.size()
                  + " failure(s): "
                  + String.join("; ", messages));
      failures.forEach(e::addSuppressed);
      throw e;
    }
    LOG.info(
        "closed namespace '{}': removed {} container(s) and {} volume(s)",
        name,
        containers,
        volumeCount);
  }

  private static boolean stalled(List<RuntimeException> failures) {
    return failures.stream().anyMatch(EngineErrors::isTimeout);
  }

  private List<String> namespaceContainers(List<RuntimeException> failures) {
    String name = namespace.name();
    List<String> ids = new ArrayList<>();
    try {
      LOG.debug("listing the containers of namespace '{}'", name);
      for (com.github.dockerjava.api.model.Container c :
          namespace
              .api()
              .listContainersCmd()
              .withShowAll(true)
              .withLabelFilter(Map.of(Labels.NAMESPACE, name))
              .exec()) {
        ids.add(c.getId());
      }
    } catch (RuntimeException e) {
      listingFailed("listing the containers of namespace '" + name + "'", e, failures);
    }
    return ids;
  }

  private List<String> namespaceVolumes(List<RuntimeException> failures) {
    String name = namespace.name();
    List<String> names = new ArrayList<>();
    try {
      LOG.debug("listing the volumes of namespace '{}'", name);
      ListVolumesResponse listed =
          namespace
              .api()
              .listVolumesCmd()
              .withFilter("label", List.of(Labels.namespaceFilter(name)))
              .exec();
      if (listed.getVolumes() != null) {
        listed.getVolumes().forEach(v -> names.add(v.getName()));
      }
    } catch (RuntimeException e) {
      listingFailed("listing the volumes of namespace '" + name + "'", e, failures);
    }
    return names;
  }

  /** A listing failed: an interrupt stops close(), anything else is one of its failures. */
  private void listingFailed(String what, RuntimeException e, List<RuntimeException> failures) {
    RuntimeException failure = EngineErrors.failure(what, e);
    if (failure instanceof OrchestraInterruptedException) {
      // Listing nothing would let close() finish with everything still there.
      throw failure;
    }
    LOG.warn("closing namespace '{}': {}", namespace.name(), failure.getMessage());
    failures.add(failure);
  }
}
