package dev.orchestra.tck;

import dev.orchestra.Driver;
import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.Task;
import dev.orchestra.Volume;
import dev.orchestra.spi.Exceptions;
import dev.orchestra.spi.TarEntry;
import dev.orchestra.spi.TarReader;
import dev.orchestra.spi.TarWriter;
import dev.orchestra.tck.BrokenDrivers.BrokenTck;
import dev.orchestra.tck.ForwardingDriver.ForwardingVolume;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

/**
 * Broken drivers of volume data ({@link Volume#copyIn}, {@link Volume#copyOut}): each wraps the
 * local driver's volumes and breaks one rule, as a driver author could; {@link
 * DriverTckSelfTest#proofs()} states what each fails.
 */
final class BrokenVolumeData {

  private BrokenVolumeData() {}

  /** The local driver with its volumes wrapped. */
  static BrokenDrivers.Breaker volumes(UnaryOperator<Volume> wrapper) {
    return (ns, real) ->
        new ForwardingDriver(real) {
          @Override
          Volume wrap(Volume v) {
            return wrapper.apply(v);
          }
        };
  }

  /** Every mode becomes 0644 (directories 0755), in and out: the executable bit is lost. */
  static final class ModesDropped extends BrokenTck {
    ModesDropped() {
      super(
          volumes(
              v ->
                  new ForwardingVolume(v) {
                    @Override
                    public void copyIn(InputStream tar) {
                      delegate.copyIn(rewrite(tar, ModesDropped::plain));
                    }

                    @Override
                    public void copyOut(OutputStream tar) {
                      var all = new ByteArrayOutputStream();
                      delegate.copyOut(all);
                      try {
                        rewrite(new ByteArrayInputStream(all.toByteArray()), ModesDropped::plain)
                            .transferTo(tar);
                      } catch (IOException e) {
                        throw Exceptions.launder("rewriting an archive", e);
                      }
                    }
                  }));
    }

    static TarEntry plain(TarEntry e) {
      int mode = e.type() == TarEntry.Type.DIRECTORY ? 0755 : 0644;
      return new TarEntry(
          e.name(), e.type(), mode, e.size(), e.mtimeSeconds(), e.linkTarget(), e.uid(), e.gid());
    }
  }

  /** copyIn(Path) copies what a symbolic link points to instead of the link; dangling ones go. */
  static final class LinksFollowed extends BrokenTck {
    LinksFollowed() {
      super(
          volumes(
              v ->
                  new ForwardingVolume(v) {
                    @Override
                    public void copyIn(Path directory) {
                      try {
                        Path copy = Files.createTempDirectory("orchestra-broken-links-");
                        try (var walk = Files.walk(directory, FileVisitOption.FOLLOW_LINKS)) {
                          for (Path p : walk.toList()) {
                            Path to = copy.resolve(directory.relativize(p).toString());
                            if (Files.isDirectory(p)) {
                              Files.createDirectories(to);
                            } else if (Files.exists(p)) {
                              Files.copy(p, to);
                            }
                          }
                        }
                        delegate.copyIn(copy);
                      } catch (IOException e) {
                        throw new UncheckedIOException(e);
                      }
                    }
                  }));
    }
  }

  /**
   * copyIn extracts naively, as a first try at tar extraction does: every name resolved against the
   * volume's directory and written, links followed. What it writes outside the volume is deleted
   * when the driver closes.
   */
  static final class TarSlipAllowed extends BrokenTck {
    TarSlipAllowed() {
      super(
          (ns, real) -> {
            Set<Path> written = ConcurrentHashMap.newKeySet();
            return new ForwardingDriver(real) {
              @Override
              Volume wrap(Volume v) {
                return new ForwardingVolume(v) {
                  @Override
                  public void copyIn(InputStream tar) {
                    naiveExtract(tar, directoryOf(real, v.name()), written);
                  }
                };
              }

              @Override
              public void close() {
                for (Path p : written) {
                  try {
                    Files.deleteIfExists(p);
                  } catch (IOException e) {
                    throw new UncheckedIOException(e);
                  }
                }
                super.close();
              }
            };
          });
    }

    /** The local volume's directory, as its mount link in a task's directory shows it. */
    static Path directoryOf(Driver real, String volume) {
      var c =
          real.runContainer(
              Task.builder()
                  .id("where-" + System.nanoTime())
                  .command("readlink", "-f", "v")
                  .mount(volume, "v")
                  .build());
      c.await(java.time.Duration.ofSeconds(30));
      var out = new ByteArrayOutputStream();
      c.logs(out, OutputStream.nullOutputStream());
      return Path.of(out.toString(StandardCharsets.UTF_8).strip());
    }

    static void naiveExtract(InputStream tar, Path dir, Set<Path> written) {
      try {
        TarReader reader = new TarReader(tar);
        for (var next = reader.next(); next.isPresent(); next = reader.next()) {
          TarEntry e = next.get();
          Path to = dir.resolve(e.name());
          switch (e.type()) {
            case DIRECTORY -> Files.createDirectories(to);
            case SYMLINK -> Files.createSymbolicLink(to, Path.of(e.linkTarget()));
            case HARDLINK -> Files.createLink(to, dir.resolve(e.linkTarget()));
            default -> {
              Files.createDirectories(to.getParent());
              Files.copy(reader.content(), to, StandardCopyOption.REPLACE_EXISTING);
              var permissions = java.util.EnumSet.noneOf(PosixFilePermission.class);
              for (int i = 0; i < 9; i++) {
                if ((e.mode() & (0400 >> i)) != 0) {
                  permissions.add(PosixFilePermission.values()[i]);
                }
              }
              Files.setPosixFilePermissions(to, permissions);
              Path real = to.toRealPath();
              if (!real.startsWith(dir.toRealPath())) {
                written.add(real);
              }
            }
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** copyOut(Path) merges into any directory, never refusing one that is not empty. */
  static final class MergesAlways extends BrokenTck {
    MergesAlways() {
      super(
          volumes(
              v ->
                  new ForwardingVolume(v) {
                    @Override
                    public void copyOut(Path directory, boolean merge) {
                      delegate.copyOut(directory, true);
                    }
                  }));
    }
  }

  /** An interrupted copy returns as if done, its interrupt flag cleared. */
  static final class CopyInterruptSwallowed extends BrokenTck {
    CopyInterruptSwallowed() {
      super(
          volumes(
              v ->
                  new ForwardingVolume(v) {
                    @Override
                    public void copyIn(InputStream tar) {
                      try {
                        delegate.copyIn(tar);
                      } catch (OrchestraInterruptedException e) {
                        Thread.interrupted();
                      }
                    }

                    @Override
                    public void copyOut(OutputStream tar) {
                      try {
                        delegate.copyOut(tar);
                      } catch (OrchestraInterruptedException e) {
                        Thread.interrupted();
                      }
                    }
                  }));
    }
  }

  /** A copy out of a deleted volume answers an empty archive instead of failing. */
  static final class DeletedVolumeEmpty extends BrokenTck {
    DeletedVolumeEmpty() {
      super(
          volumes(
              v ->
                  new ForwardingVolume(v) {
                    @Override
                    public void copyOut(OutputStream tar) {
                      try {
                        delegate.copyOut(tar);
                      } catch (OrchestraException e) {
                        try {
                          new TarWriter(tar).finish();
                        } catch (IOException io) {
                          throw new UncheckedIOException(io);
                        }
                      }
                    }
                  }));
    }
  }

  /** An archive with each entry changed, in memory (the self-test's archives are small). */
  static InputStream rewrite(InputStream tar, UnaryOperator<TarEntry> change) {
    try {
      var out = new ByteArrayOutputStream();
      TarReader reader = new TarReader(tar);
      TarWriter writer = new TarWriter(out);
      for (var next = reader.next(); next.isPresent(); next = reader.next()) {
        writer.add(change.apply(next.get()), reader.content());
      }
      writer.finish();
      return new ByteArrayInputStream(out.toByteArray());
    } catch (IOException e) {
      throw Exceptions.launder("rewriting an archive", e);
    }
  }
}
