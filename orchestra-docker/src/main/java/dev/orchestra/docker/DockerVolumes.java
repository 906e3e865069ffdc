package dev.orchestra.docker;

import com.github.dockerjava.api.command.CreateVolumeResponse;
import com.github.dockerjava.api.command.InspectVolumeResponse;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import dev.orchestra.Mount;
import dev.orchestra.OrchestraException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The named volumes of a namespace: each is the Docker volume {@code {namespace}-{name}} (see
 * {@link DockerNames}) labelled with its namespace and name ({@link #labels}), created when a
 * caller or a task's mount first names it. A Docker volume of that name with other labels is
 * refused, never used.
 */
final class DockerVolumes {

  private static final Logger LOG = LoggerFactory.getLogger(DockerVolumes.class);

  private final DockerNamespace namespace;
  private final DeferredRemovals deferred;
  private final DockerVolumeData data;

  DockerVolumes(DockerNamespace namespace, DeferredRemovals deferred, String helperImage) {
    this.namespace = namespace;
    this.deferred = deferred;
    this.data = new DockerVolumeData(namespace, this, helperImage);
  }

  /**
   * The volume of that name, created unless it exists.
   *
   * @throws OrchestraException if the engine fails, or the Docker name is taken by another's volume
   */
  DockerVolume obtain(String name) {
    obtainVolume(name);
    return new DockerVolume(namespace, this, name, DockerNames.of(namespace.name(), name), data);
  }

  /**
   * Creates the missing volumes of a task's mounts; returns the Docker names of those it created.
   */
  List<String> ensure(List<Mount> mounts) {
    Set<String> names = new LinkedHashSet<>();
    mounts.forEach(m -> names.add(m.name()));
    List<String> created = new ArrayList<>();
    try {
      for (String name : names) {
        if (obtainVolume(name)) {
          created.add(DockerNames.of(namespace.name(), name));
        }
      }
    } catch (RuntimeException e) {
      removeAfterFailure(created, e);
      throw e;
    }
    return created;
  }

  /** The labels of the volume of that name. */
  Map<String, String> labels(String name) {
    return Map.of(Labels.NAMESPACE, namespace.name(), Labels.VOLUME, name);
  }

  /**
   * Removes the volumes a failed run created, unless another task uses them meanwhile (a volume of
   * the namespace stays labelled, so close() removes it then).
   */
  void removeAfterFailure(List<String> dockerNames, RuntimeException failure) {
    if (EngineErrors.isTimeout(failure)) {
      // The engine just proved stalled: removing them now would make the caller wait again.
      deferred.volumes(dockerNames);
      return;
    }
    for (String dockerName : dockerNames) {
      try {
        LOG.debug("removing volume {} created for a task that failed to start", dockerName);
        namespace.api().removeVolumeCmd(dockerName).exec();
      } catch (NotFoundException | ConflictException e) {
        LOG.debug("keeping volume {}: {}", dockerName, EngineErrors.answer(e));
      } catch (RuntimeException e) {
        LOG.warn("could not remove volume {} after a failed start: {}", dockerName, e.getMessage());
        failure.addSuppressed(e);
      }
    }
  }

  /**
   * Removes a volume. The engine refuses while any container references it, finished or not: the
   * finished containers of this namespace that reference it are removed first (their tasks are
   * over; only their logs go with them), while a running one makes the removal fail.
   *
   * @param patient whether to wait a little while the volume is still in use, for containers that
   *     are being removed
   * @return {@code false} if the volume did not exist
   */
  boolean remove(String dockerName, String what, boolean patient) {
    Pause pause = new Pause(what, ContainerRemoval.PATIENCE);
    boolean released = false;
    while (true) {
      try {
        LOG.debug("removing {}", what);
        namespace.api().removeVolumeCmd(dockerName).exec();
        return true;
      } catch (NotFoundException e) {
        return false;
      } catch (ConflictException e) {
        if (!released) {
          released = true;
          releaseFinishedContainers(dockerName, what, e);
        } else if (!patient || !pause.again()) {
          throw EngineErrors.failure("removing " + what, e);
        }
      } catch (RuntimeException e) {
        throw EngineErrors.failure("removing " + what, e);
      }
    }
  }

  /**
   * Creates the volume unless it exists.
   *
   * @return {@code true} if it was created by this call
   */
  private boolean obtainVolume(String name) {
    String dockerName = DockerNames.of(namespace.name(), name);
    if (exists(name, dockerName)) {
      return false;
    }
    CreateVolumeResponse created;
    try {
      LOG.debug("creating volume {} of namespace '{}'", dockerName, namespace.name());
      created =
          namespace.api().createVolumeCmd().withName(dockerName).withLabels(labels(name)).exec();
    } catch (RuntimeException e) {
      // Podman: a concurrent create made it after this one looked (Docker answers with it).
      if (e instanceof ConflictException && exists(name, dockerName)) {
        LOG.debug("volume {} was created meanwhile: {}", dockerName, EngineErrors.answer(e));
        return false;
      }
      throw EngineErrors.failure(
          "creating volume '" + name + "' of namespace '" + namespace.name() + "'", e);
    }
    // Creating an existing volume answers with the existing one: it may be another's.
    checkOwner(name, dockerName, created.getLabels());
    LOG.info("created volume '{}' ({}) in namespace '{}'", name, dockerName, namespace.name());
    return true;
  }

  /**
   * Whether the volume exists; if it does, it must be this namespace's.
   *
   * @throws OrchestraException if it is another's, or the engine fails the look-up
   */
  private boolean exists(String name, String dockerName) {
    try {
      LOG.debug("inspecting volume {} of namespace '{}'", dockerName, namespace.name());
      InspectVolumeResponse existing = namespace.api().inspectVolumeCmd(dockerName).exec();
      checkOwner(name, dockerName, existing.getLabels());
      return true;
    } catch (NotFoundException e) {
      LOG.debug("volume {} does not exist yet", dockerName);
      return false;
    } catch (OrchestraException e) {
      throw e;
    } catch (RuntimeException e) {
      throw EngineErrors.failure(
          "looking up volume '" + name + "' of namespace '" + namespace.name() + "'", e);
    }
  }

  private void checkOwner(String name, String dockerName, Map<String, String> labels) {
    Map<String, String> l = labels == null ? Map.of() : labels;
    if (!namespace.name().equals(l.get(Labels.NAMESPACE)) || !name.equals(l.get(Labels.VOLUME))) {
      throw new OrchestraException(
          "the Docker volume name "
              + dockerName
              + " of volume '"
              + name
              + "' in namespace '"
              + namespace.name()
              + "' is taken by a volume of "
              + Labels.owner(l, Labels.VOLUME)
              + "; remove that volume or use another namespace");
    }
  }

  /** Removes the finished containers of this namespace that still reference a volume. */
  private void releaseFinishedContainers(String dockerName, String what, ConflictException inUse) {
    List<com.github.dockerjava.api.model.Container> users;
    try {
      LOG.debug("listing the containers that use {}", what);
      users =
          namespace
              .api()
              .listContainersCmd()
              .withShowAll(true)
              .withVolumeFilter(List.of(dockerName))
              .exec();
    } catch (RuntimeException e) {
      throw EngineErrors.failure("listing the containers that use " + what, e);
    }
    List<String> busy = new ArrayList<>();
    for (com.github.dockerjava.api.model.Container user : users) {
      Map<String, String> labels = user.getLabels() == null ? Map.of() : user.getLabels();
      boolean finished = "exited".equals(user.getState()) || "dead".equals(user.getState());
      if (!finished || !namespace.name().equals(labels.get(Labels.NAMESPACE))) {
        busy.add(
            String.join(",", user.getNames())
                + " ("
                + user.getState()
                + (labels.containsKey(Labels.TASK_ID)
                    ? ", task '" + labels.get(Labels.TASK_ID) + "'"
                    : "")
                + ")");
      }
    }
    if (!busy.isEmpty()) {
      throw new OrchestraException(
          "removing "
              + what
              + " failed: it is in use by "
              + String.join(", ", busy)
              + "; "
              + EngineErrors.answer(inUse),
          inUse);
    }
    for (com.github.dockerjava.api.model.Container user : users) {
      LOG.info(
          "removing finished container {} of task '{}', which still references {}",
          String.join(",", user.getNames()),
          user.getLabels().get(Labels.TASK_ID),
          what);
      ContainerRemoval.remove(
          namespace.api(), user.getId(), "container " + String.join(",", user.getNames()));
    }
  }
}
