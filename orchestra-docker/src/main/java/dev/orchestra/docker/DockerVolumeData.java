package dev.orchestra.docker;

import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.MountType;
import com.github.dockerjava.api.model.VolumeOptions;
import dev.orchestra.ImageNotFoundException;
import dev.orchestra.OrchestraException;
import dev.orchestra.spi.Exceptions;
import dev.orchestra.spi.Tar;
import dev.orchestra.spi.TarReader;
import dev.orchestra.spi.TarWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies a volume's data in and out through the engine's archive API ({@code PUT} and {@code GET
 * /containers/{id}/archive}) on a short-lived helper container that mounts the volume at {@value
 * #MOUNT}. The helper is created, never started (the engine mounts a stopped container's volumes
 * for an archive call), so its image only has to be present: it is the driver's {@code
 * volumeHelperImage} parameter, never pulled. The helper carries the namespace's label, so that
 * close() removes it should this JVM die mid-copy, and it is removed after every copy, failed or
 * interrupted ones too.
 *
 * <p>An archive going in is checked on this side first ({@link Tar#checked(InputStream)}): the
 * engine extracts it itself, with rules of its own. Each call with the engine is bounded by the
 * request timeout: the upload with the engine's extraction as a whole, the download read by read.
 */
final class DockerVolumeData {

  private static final Logger LOG = LoggerFactory.getLogger(DockerVolumeData.class);

  /** The default of the {@code volumeHelperImage} parameter. */
  static final String DEFAULT_HELPER_IMAGE = "busybox";

  /** Where the helper mounts the volume; also the top directory of the engine's archives. */
  static final String MOUNT = "/orchestra-volume";

  /** The label that marks a helper container, its value the volume's name. */
  static final String HELPER_LABEL = "dev.orchestra.volume-data";

  private final DockerNamespace namespace;
  private final DockerVolumes volumes;
  private final String helperImage;

  DockerVolumeData(DockerNamespace namespace, DockerVolumes volumes, String helperImage) {
    this.namespace = namespace;
    this.volumes = volumes;
    this.helperImage = helperImage;
  }

  /** Extracts a tar stream into the volume, checked on this side first. */
  void copyIn(String name, String dockerName, InputStream tar) {
    Objects.requireNonNull(tar, "tar");
    String what = "copying a tar stream into " + describe(name, dockerName);
    InputStream checked = Tar.checked(tar);
    withHelper(name, dockerName, what, helper -> upload(helper, checked, what));
  }

  /** Copies a local directory into the volume: its archive is written on a thread of its own. */
  void copyIn(String name, String dockerName, Path directory) {
    Objects.requireNonNull(directory, "directory");
    if (!Files.isDirectory(directory)) {
      throw new IllegalArgumentException(
          "copying into volume '" + name + "': " + directory + " is not a directory");
    }
    String what = "copying " + directory + " into " + describe(name, dockerName);
    withHelper(
        name,
        dockerName,
        what,
        helper -> {
          AtomicReference<Exception> failure = new AtomicReference<>();
          try {
            PipedInputStream in = new PipedInputStream(64 * 1024);
            Thread writer = archiveWriter(directory, new PipedOutputStream(in), what, failure);
            try {
              upload(helper, in, what);
            } finally {
              in.close(); // ends the writer should the upload have failed
              writer.interrupt();
              writer.join();
            }
          } catch (InterruptedException | IOException e) {
            throw Exceptions.launder(what, e);
          } catch (RuntimeException e) {
            throw failure.get() != null ? Exceptions.launder(what, failure.get()) : e;
          }
          if (failure.get() != null) {
            throw Exceptions.launder(what, failure.get());
          }
        });
  }

  /** Writes the volume's contents as a tar stream. */
  void copyOut(String name, String dockerName, OutputStream tar) {
    Objects.requireNonNull(tar, "tar");
    String what = "copying " + describe(name, dockerName) + " as a tar stream";
    withHelper(
        name,
        dockerName,
        what,
        helper ->
            download(
                helper,
                what,
                reader -> {
                  TarWriter writer = new TarWriter(tar);
                  for (var entry = reader.next(); entry.isPresent(); entry = reader.next()) {
                    writer.add(entry.get(), reader.content());
                  }
                  writer.finish();
                }));
  }

  /** Copies the volume's contents into a local directory. */
  void copyOut(String name, String dockerName, Path directory, boolean merge) {
    Objects.requireNonNull(directory, "directory");
    String what =
        "copying " + describe(name, dockerName) + " to " + directory + (merge ? " (merging)" : "");
    try {
      Tar.prepareTarget(directory, merge);
    } catch (IOException e) {
      throw Exceptions.launder(what, e);
    }
    withHelper(
        name, dockerName, what, helper -> download(helper, what, r -> Tar.extract(r, directory)));
  }

  // ---- the helper container

  /** A copy's body, given the helper's id. */
  @FunctionalInterface
  private interface WithHelper {
    void run(String helperId);
  }

  /** What to do with the engine's archive of the volume. */
  @FunctionalInterface
  private interface ArchiveReader {
    void read(TarReader reader) throws IOException;
  }

  private void withHelper(String name, String dockerName, String what, WithHelper body) {
    namespace.requireOpen();
    requireVolume(name, dockerName, what);
    LOG.debug("{}", what);
    String helper = createHelper(name, dockerName, what);
    try {
      body.run(helper);
    } finally {
      removeHelper(helper, what);
    }
    LOG.info("done {}", what);
  }

  private void requireVolume(String name, String dockerName, String what) {
    try {
      namespace.api().inspectVolumeCmd(dockerName).exec();
    } catch (NotFoundException e) {
      throw new OrchestraException(what + " failed: the volume is gone (it was removed)", e);
    } catch (RuntimeException e) {
      throw EngineErrors.failure(what, e);
    }
  }

  private String createHelper(String name, String dockerName, String what) {
    Map<String, String> labels = new HashMap<>(volumes.labels(name));
    labels.put(HELPER_LABEL, name);
    labels.remove(Labels.VOLUME);
    HostConfig host =
        HostConfig.newHostConfig()
            .withMounts(
                List.of(
                    new com.github.dockerjava.api.model.Mount()
                        .withType(MountType.VOLUME)
                        .withSource(dockerName)
                        .withTarget(MOUNT)
                        .withVolumeOptions(new VolumeOptions().withLabels(volumes.labels(name)))));
    try {
      LOG.debug("creating a helper container of image {} for {}", helperImage, what);
      return namespace
          .creates()
          .create(
              () ->
                  namespace
                      .api()
                      .createContainerCmd(helperImage)
                      .withLabels(labels)
                      .withCmd("true")
                      .withNetworkDisabled(true)
                      .withHostConfig(host)
                      .exec()
                      .getId(),
              "helper container for " + what);
    } catch (NotFoundException e) {
      throw new ImageNotFoundException(
          helperImage,
          what
              + " failed: the docker driver copies volume data through a helper container of"
              + " image '"
              + helperImage
              + "' (parameter '"
              + DockerDriverProvider.VOLUME_HELPER_IMAGE
              + "'), which the engine does not have; it is never pulled: pull or build it, or"
              + " name an image the engine has: "
              + EngineErrors.answer(e),
          e);
    } catch (RuntimeException e) {
      throw EngineErrors.failure(what + " (creating its helper container)", e);
    }
  }

  /** Removes the helper, also when the caller was interrupted (the flag is kept). */
  private void removeHelper(String helper, String what) {
    boolean interrupted = Thread.interrupted();
    try {
      ContainerRemoval.remove(
          namespace.api(), helper, "helper container " + helper + " of " + what);
    } catch (RuntimeException e) {
      LOG.warn(
          "could not remove helper container {} after {}; close() removes it: {}",
          helper,
          what,
          e.getMessage());
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  // ---- the archive calls

  private void upload(String helper, InputStream archive, String what) {
    try {
      namespace
          .api()
          .copyArchiveToContainerCmd(helper)
          .withRemotePath(MOUNT)
          .withTarInputStream(archive)
          .exec();
    } catch (IllegalArgumentException e) {
      throw e; // an entry refused by the check, on its way to the engine
    } catch (RuntimeException e) {
      IllegalArgumentException refused = refusal(e);
      if (refused != null) {
        throw refused;
      }
      throw EngineErrors.failure(what, e);
    }
  }

  private void download(String helper, String what, ArchiveReader body) {
    String top = MOUNT.substring(1);
    try (InputStream in = namespace.api().copyArchiveFromContainerCmd(helper, MOUNT).exec()) {
      body.read(TarReader.withinDirectory(in, top));
    } catch (IOException e) {
      throw Exceptions.launder(what, e);
    } catch (IllegalArgumentException | OrchestraException e) {
      throw e;
    } catch (RuntimeException e) {
      throw EngineErrors.failure(what, e);
    }
  }

  /** An entry refused on its way to the engine, wrapped by the transport. */
  private static IllegalArgumentException refusal(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof IllegalArgumentException e
          && e.getMessage() != null
          && e.getMessage().startsWith("tar entry ")) {
        return e;
      }
    }
    return null;
  }

  /** Writes a directory's archive into a pipe, on a thread of its own. */
  private static Thread archiveWriter(
      Path directory, PipedOutputStream out, String what, AtomicReference<Exception> failure) {
    Thread writer =
        new Thread(
            () -> {
              try {
                Tar.write(directory, out);
                out.close();
              } catch (IOException | RuntimeException e) {
                // The upload ended first (its failure is the caller's), or reading the directory
                // failed: the pipe stays open so that the engine never takes a cut archive for a
                // whole one, until the caller closes its end.
                LOG.debug("writing the archive for {} ended: {}", what, e.toString());
                failure.set(e);
              }
            },
            "orchestra-docker archive of " + directory);
    writer.setDaemon(true);
    writer.start();
    return writer;
  }

  private String describe(String name, String dockerName) {
    return "volume '" + name + "' (" + dockerName + ") of namespace '" + namespace.name() + "'";
  }
}
