package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.orchestra.Capability;
import dev.orchestra.Driver;
import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.Volume;
import dev.orchestra.spi.Tar;
import dev.orchestra.spi.TarEntry;
import dev.orchestra.spi.TarReader;
import dev.orchestra.spi.TarWriter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@link Volume#copyIn} and {@link Volume#copyOut}: a volume's data in and out as tar streams and
 * local directories. Requires {@link Capability#VOLUME_DATA}.
 *
 * <p>The group keeps its own tests of hostile archives (tar-slip) and of interruption, so that the
 * capability is proven in one place.
 */
abstract class VolumeDataRules extends DriverRules {

  /** The size of the large file of the round trip: more than any buffer, less than any heap. */
  static final int LARGE = 24 * MIB;

  private final List<Path> temporary = new ArrayList<>();

  VolumeDataRules(DriverTck kit) {
    super(kit);
  }

  @BeforeEach
  void requireVolumeData() {
    requireCapability(Capability.VOLUME_DATA);
  }

  @AfterEach
  void deleteTemporaryDirectories() throws IOException {
    for (Path dir : temporary) {
      try (var walk = Files.walk(dir)) {
        for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  @Test
  @DisplayName(
      "a tree round-trips through a volume: modes, symbolic links as links, empty directories,"
          + " binary and large files")
  void roundTrip() throws Exception {
    Path source = sampleTree();
    Volume v = driver.createVolume("data", 0);

    v.copyIn(source);
    Path viaDirectory = newDirectory("out").resolve("not-yet-there");
    v.copyOut(viaDirectory);
    Path viaStream = newDirectory("stream");
    var in = new java.io.PipedInputStream(64 * 1024);
    var out = new java.io.PipedOutputStream(in);
    Background<Void> copyOut =
        inBackground(
            "copyOut into a pipe",
            () -> {
              try (out) {
                v.copyOut(out);
              }
              return null;
            });
    Tar.extract(in, viaStream);
    copyOut.result(awaitTimeout(), "copyOut into a pipe");

    assertThat(listing(viaDirectory))
        .as("the tree copied out of the volume into a directory")
        .isEqualTo(listing(source));
    assertThat(listing(viaStream))
        .as("the tree copied out of the volume as a tar stream")
        .isEqualTo(listing(source));
  }

  @Test
  @DisplayName(
      "a task sees what copyIn put in the volume, executable bit included; copyIn replaces a file"
          + " of the same path")
  void taskSeesCopyIn() throws Exception {
    Volume v = driver.createVolume("data", 0);
    v.copyIn(
        archive(
            file("bin/run.sh", 0755, "#!/bin/sh\necho ran\n"),
            file("data/hello", 0644, "old\n"),
            dir("empty")));
    v.copyIn(archive(file("data/hello", 0644, "hello\n")));

    Result r =
        runToEnd(
            task("reader", sh("./w/bin/run.sh && cat ./w/data/hello && test -d ./w/empty"))
                .mount("data", "w")
                .build());

    assertThat(r.exitCode()).as("exit code (stderr: %s)", r.err()).isZero();
    assertThat(r.out()).as("stdout of the task").isEqualTo("ran\nhello\n");
  }

  @Test
  @DisplayName("copyOut sees what a task wrote: files, modes, directories and links")
  void copyOutSeesTaskWrites() throws Exception {
    assertSucceeded(
        runToEnd(
            task(
                    "writer",
                    sh(
                        "mkdir -p ./w/dir/empty && printf 'text' > ./w/dir/file"
                            + " && printf '#!/bin/sh\\n' > ./w/tool && chmod 755 ./w/tool"
                            + " && chmod 600 ./w/dir/file && ln -s dir/file ./w/link"))
                .mount("data", "w")
                .build()));
    var tar = new ByteArrayOutputStream();

    driver.createVolume("data", 0).copyOut(tar);

    Map<String, String> entries = entries(tar.toByteArray());
    assertThat(entries)
        .as("the entries of the volume's tar stream")
        .containsEntry("dir/", "DIRECTORY")
        .containsEntry("dir/empty/", "DIRECTORY")
        .containsEntry("dir/file", "FILE 600 text")
        .containsEntry("tool", "FILE 755 #!/bin/sh\n")
        .containsEntry("link", "SYMLINK -> dir/file");
  }

  @Test
  @DisplayName(
      "copyIn refuses tar-slip entries (absolute, '..', through a link leading out, hard links),"
          + " naming the entry, and touches nothing outside the volume")
  void tarSlipRefused() throws Exception {
    Volume v = driver.createVolume("target", 0);
    driver.createVolume("neighbour", 0).copyIn(archive(file("kept", 0644, "kept\n")));
    String outside = "/tmp/orchestra-tck-slip-" + randomSuffix();
    List<List<TarEntry>> hostile =
        List.of(
            List.of(file(outside, 0644, "x")),
            List.of(file("../neighbour/slipped-dotdot", 0644, "x")),
            List.of(file("a/../../neighbour/slipped-dotdot-nested", 0644, "x")),
            List.of(link("up", "../neighbour"), file("up/slipped-through-link", 0644, "x")),
            List.of(link("abs", outside), file("abs/slipped-through-absolute-link", 0644, "x")),
            List.of(
                link("hop", "hop2"),
                link("hop2", "../neighbour"),
                file("hop/slipped-through-a-chain", 0644, "x")),
            List.of(
                file("f", 0644, "x"),
                new TarEntry(
                    "hard", TarEntry.Type.HARDLINK, 0644, 0, 0, "../neighbour/kept", 0, 0)));

    for (List<TarEntry> entries : hostile) {
      String last = entries.get(entries.size() - 1).name();
      assertThatThrownBy(() -> v.copyIn(archive(entries.toArray(TarEntry[]::new))))
          .as("copyIn of an archive with entry %s", last)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(last);
    }

    assertThat(Files.exists(Path.of(outside), LinkOption.NOFOLLOW_LINKS))
        .as("%s exists on this machine", outside)
        .isFalse();
    Result r =
        runToEnd(
            task(
                    "inspect",
                    sh("ls -A ./n; test ! -e " + outside + "/slipped-through-absolute-link"))
                .mount("neighbour", "n")
                .build());
    assertThat(r.exitCode())
        .as("exit code of the check for %s (stderr: %s)", outside, r.err())
        .isZero();
    assertThat(r.out()).as("the files of the neighbouring volume").isEqualTo("kept\n");
    v.copyIn(archive(file("fine", 0644, "fine\n")));
    assertThat(readFile(driver, "target", "fine"))
        .as("the volume after the refusals")
        .isEqualTo("fine\n");
  }

  @Test
  @DisplayName("a copy reaches only its namespace's volume of that name")
  void otherNamespaceUnaffected() throws Exception {
    Driver other = open(newNamespace());
    other.createVolume("shared", 0).copyIn(archive(file("theirs", 0644, "theirs\n")));

    driver.createVolume("shared", 0).copyIn(archive(file("mine", 0644, "mine\n")));
    var mine = new ByteArrayOutputStream();
    driver.createVolume("shared", 0).copyOut(mine);
    var theirs = new ByteArrayOutputStream();
    other.createVolume("shared", 0).copyOut(theirs);

    assertThat(entries(mine.toByteArray()).keySet())
        .as("this namespace's volume")
        .containsExactly("mine");
    assertThat(entries(theirs.toByteArray()).keySet())
        .as("the other namespace's volume")
        .containsExactly("theirs");
  }

  @Test
  @DisplayName("copyOut(Path) refuses a directory that is not empty unless asked to merge")
  void copyOutRefusesNonEmptyUnlessMerge() throws Exception {
    Volume v = driver.createVolume("data", 0);
    v.copyIn(archive(file("a", 0644, "from the volume\n")));
    Path target = newDirectory("target");
    Files.writeString(target.resolve("a"), "local\n");
    Files.writeString(target.resolve("b"), "local only\n");

    assertThatThrownBy(() -> v.copyOut(target))
        .as("copyOut into a directory that is not empty")
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(target.toString());
    assertThat(target.resolve("a")).as("a file of the refused target").hasContent("local");

    v.copyOut(target, true);

    assertThat(target.resolve("a")).as("a file the merge replaced").hasContent("from the volume");
    assertThat(target.resolve("b")).as("a file the merge kept").hasContent("local only");
  }

  @Test
  @DisplayName("a copy of a deleted volume fails with an OrchestraException")
  void deletedVolumeFails() {
    Volume v = driver.createVolume("gone", 0);
    v.cleanup();

    assertThatThrownBy(() -> v.copyOut(OutputStream.nullOutputStream()))
        .as("copyOut of a deleted volume")
        .isInstanceOf(OrchestraException.class);
  }

  @Test
  @DisplayName(
      "copyIn and copyOut answer an interrupt while they block: OrchestraInterruptedException,"
          + " flag set")
  void interruptAnswered() throws Exception {
    Volume v = driver.createVolume("data", 0);
    v.copyIn(archive(file("f", 0644, "x".repeat(MIB))));
    CountDownLatch reading = new CountDownLatch(1);
    InputStream neverEnds =
        new InputStream() {
          final byte[] archiveStart = headerOf(file("endless", 0644, "x".repeat(100)));
          int position;

          @Override
          public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
          }

          @Override
          public int read(byte[] b, int off, int len) throws IOException {
            if (position < archiveStart.length) {
              int n = Math.min(len, archiveStart.length - position);
              System.arraycopy(archiveStart, position, b, off, n);
              position += n;
              return n;
            }
            reading.countDown();
            try {
              new CountDownLatch(1).await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              throw new InterruptedIOException("read interrupted");
            }
            return -1;
          }
        };
    BlockingStream blocking = new BlockingStream();

    Background<Void> in =
        inBackground(
            "copyIn of a stream that never ends",
            () -> {
              v.copyIn(neverEnds);
              return null;
            });
    Background<Void> out =
        inBackground(
            "copyOut into a stream that blocks",
            () -> {
              v.copyOut(blocking);
              return null;
            });
    awaitAtMost("copyIn to read the stream that never ends").until(() -> reading.getCount() == 0);
    Thread.sleep(300); // copyOut: blocked in its first write, or on its way there
    in.interrupt();
    out.interrupt();

    Throwable thrownIn = in.thrown(promptly(), "the interrupted copyIn");
    Throwable thrownOut = out.thrown(promptly(), "the interrupted copyOut");
    blocking.release();
    assertThat(thrownIn)
        .as("what copyIn threw when interrupted")
        .isInstanceOf(OrchestraInterruptedException.class);
    assertThat(in.interruptFlagAtEnd()).as("interrupt flag after copyIn").isTrue();
    assertThat(thrownOut)
        .as("what copyOut threw when interrupted")
        .isInstanceOf(OrchestraInterruptedException.class);
    assertThat(out.interruptFlagAtEnd()).as("interrupt flag after copyOut").isTrue();
  }

  // ---------------------------------------------------------------------------------------------

  /** A tree with every kind of thing a volume holds; deleted after the test. */
  Path sampleTree() throws IOException {
    Path src = newDirectory("source");
    Files.writeString(src.resolve("run.sh"), "#!/bin/sh\necho hi\n");
    Files.setPosixFilePermissions(
        src.resolve("run.sh"), PosixFilePermissions.fromString("rwxr-x---"));
    Files.writeString(src.resolve("secret"), "s");
    Files.setPosixFilePermissions(
        src.resolve("secret"), PosixFilePermissions.fromString("rw-------"));
    Path bin = Files.createDirectories(src.resolve("bin"));
    Files.write(bin.resolve("binary"), randomBytes(256 * 1024));
    try (OutputStream large = Files.newOutputStream(bin.resolve("large"))) {
      SplittableRandom random = new SplittableRandom(42);
      byte[] chunk = new byte[MIB];
      for (int i = 0; i < LARGE / MIB; i++) {
        for (int j = 0; j < chunk.length; j++) {
          chunk[j] = (byte) random.nextInt();
        }
        large.write(chunk);
      }
    }
    Files.createDirectories(src.resolve("empty/nested-empty"));
    Files.createSymbolicLink(src.resolve("link"), Path.of("bin/binary"));
    Files.createSymbolicLink(src.resolve("dangling"), Path.of("/nonexistent/elsewhere"));
    String longPath = "d".repeat(90) + "/" + "e".repeat(90);
    Files.writeString(
        Files.createDirectories(src.resolve(longPath)).resolve("f".repeat(120)), "long");
    return src;
  }

  Path newDirectory(String purpose) throws IOException {
    Path dir = Files.createTempDirectory("orchestra-tck-" + purpose + "-");
    temporary.add(dir);
    return dir;
  }

  /** Names, types, permission bits, link targets and digests of contents, links not followed. */
  static List<String> listing(Path root) throws IOException {
    List<String> lines = new ArrayList<>();
    try (var walk = Files.walk(root)) {
      for (Path p : walk.sorted().toList()) {
        String rel = root.relativize(p).toString();
        if (Files.isSymbolicLink(p)) {
          lines.add(rel + " -> " + Files.readSymbolicLink(p));
        } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          lines.add(rel + "/" + (rel.isEmpty() ? "" : " " + mode(p)));
        } else {
          lines.add(rel + " " + mode(p) + " " + digest(p));
        }
      }
    }
    return lines;
  }

  private static String mode(Path p) throws IOException {
    return PosixFilePermissions.toString(
        Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
  }

  private static String digest(Path p) throws IOException {
    try (InputStream in = new DigestInputStream(Files.newInputStream(p), sha256())) {
      in.transferTo(OutputStream.nullOutputStream());
      return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Each entry of an archive: its type, permission bits and content or link target. */
  static Map<String, String> entries(byte[] tar) throws IOException {
    Map<String, String> entries = new TreeMap<>();
    TarReader reader = new TarReader(new ByteArrayInputStream(tar));
    for (var next = reader.next(); next.isPresent(); next = reader.next()) {
      TarEntry e = next.get();
      entries.put(
          e.name(),
          switch (e.type()) {
            case FILE ->
                "FILE "
                    + Integer.toOctalString(e.mode() & 0777)
                    + " "
                    + new String(reader.content().readAllBytes(), UTF8);
            case SYMLINK -> "SYMLINK -> " + e.linkTarget();
            default -> e.type().name();
          });
    }
    return entries;
  }

  private static final Map<TarEntry, String> CONTENTS =
      new java.util.concurrent.ConcurrentHashMap<>();

  static TarEntry file(String name, int mode, String content) {
    TarEntry e =
        new TarEntry(
            name,
            TarEntry.Type.FILE,
            mode,
            content.getBytes(UTF8).length,
            1_700_000_000L,
            "",
            0,
            0);
    CONTENTS.put(e, content);
    return e;
  }

  static TarEntry dir(String name) {
    return new TarEntry(name, TarEntry.Type.DIRECTORY, 0755, 0, 1_700_000_000L, "", 0, 0);
  }

  static TarEntry link(String name, String target) {
    return new TarEntry(name, TarEntry.Type.SYMLINK, 0777, 0, 1_700_000_000L, target, 0, 0);
  }

  /** An archive of the entries, as any tar tool would write it (nothing checked). */
  static InputStream archive(TarEntry... entries) {
    var out = new ByteArrayOutputStream();
    try {
      TarWriter writer = new TarWriter(out);
      for (TarEntry e : entries) {
        String content =
            e.type() == TarEntry.Type.FILE
                ? CONTENTS.getOrDefault(e, "x".repeat((int) e.size()))
                : "";
        writer.add(e, new ByteArrayInputStream(content.getBytes(UTF8)));
      }
      writer.finish();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new ByteArrayInputStream(out.toByteArray());
  }

  /** The header of a file entry: the start of an archive whose content never comes. */
  static byte[] headerOf(TarEntry file) {
    var out = new ByteArrayOutputStream();
    try {
      new TarWriter(out).add(file, InputStream.nullInputStream());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return java.util.Arrays.copyOf(out.toByteArray(), 512);
  }
}
