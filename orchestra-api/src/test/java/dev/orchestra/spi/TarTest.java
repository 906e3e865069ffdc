package dev.orchestra.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TarTest {

  @TempDir Path tmp;

  private static final long MTIME = 1_700_000_000L;

  /** A tree with every kind of thing a volume holds. */
  private Path sampleTree() throws IOException {
    Path src = Files.createDirectories(tmp.resolve("src"));
    Files.writeString(src.resolve("run.sh"), "#!/bin/sh\necho hi\n");
    Files.setPosixFilePermissions(
        src.resolve("run.sh"), PosixFilePermissions.fromString("rwxr-x---"));
    Files.writeString(src.resolve("secret"), "s");
    Files.setPosixFilePermissions(
        src.resolve("secret"), PosixFilePermissions.fromString("rw-------"));
    byte[] binary = new byte[256 * 300];
    for (int i = 0; i < binary.length; i++) {
      binary[i] = (byte) i;
    }
    Files.write(Files.createDirectories(src.resolve("bin")).resolve("all-bytes"), binary);
    Files.createDirectories(src.resolve("empty/nested-empty"));
    Files.createSymbolicLink(src.resolve("link-rel"), Path.of("bin/all-bytes"));
    Files.createSymbolicLink(src.resolve("link-abs"), Path.of("/nonexistent/elsewhere"));
    String longDir = "d".repeat(90) + "/" + "e".repeat(90);
    Files.writeString(
        Files.createDirectories(src.resolve(longDir)).resolve("f".repeat(120)), "long");
    Files.writeString(src.resolve("ünïcödé ☃.txt"), "snow");
    Path readOnly = Files.createDirectories(src.resolve("ro"));
    Files.writeString(readOnly.resolve("inside"), "x");
    Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("r-xr-xr-x"));
    Files.setLastModifiedTime(src.resolve("secret"), FileTime.fromMillis(MTIME * 1000));
    return src;
  }

  private static byte[] tarOf(Path dir) throws IOException {
    var out = new ByteArrayOutputStream();
    Tar.write(dir, out);
    return out.toByteArray();
  }

  @Test
  void roundTripKeepsModesLinksEmptyDirectoriesAndContent() throws Exception {
    Path src = sampleTree();
    Path dst = Files.createDirectories(tmp.resolve("dst"));

    Tar.extract(new ByteArrayInputStream(tarOf(src)), dst);

    assertSameTree(src, dst);
    assertThat(Files.getLastModifiedTime(dst.resolve("secret")).toMillis()).isEqualTo(MTIME * 1000);
    assertThat(Files.readSymbolicLink(dst.resolve("link-abs")))
        .isEqualTo(Path.of("/nonexistent/elsewhere"));
    assertThat(Files.isDirectory(dst.resolve("empty/nested-empty"))).isTrue();
  }

  @Test
  void copiesATreeWithoutAnArchiveTheSameWay() throws Exception {
    Path src = sampleTree();
    Path dst = Files.createDirectories(tmp.resolve("dst"));

    assertThat(Tar.copyTree(src, dst)).isGreaterThan(10);

    assertSameTree(src, dst);
  }

  @Test
  void writesWhatGnuTarReadsAndReadsWhatGnuTarWrites() throws Exception {
    Path src = sampleTree();
    for (String format : List.of("gnu", "pax", "ustar-via-ours")) {
      Path archive = tmp.resolve(format + ".tar");
      Path dst = Files.createDirectories(tmp.resolve("dst-" + format));
      if (format.startsWith("ustar")) {
        Files.write(archive, tarOf(src));
        run("tar", "-xpf", archive.toString(), "-C", dst.toString());
      } else {
        // GNU tar cannot put the long paths in ustar: gnu uses 'L' entries, pax extended headers
        run("tar", "--format=" + format, "-cf", archive.toString(), "-C", src.toString(), ".");
        try (InputStream in = Files.newInputStream(archive)) {
          Tar.extract(in, dst);
        }
      }
      assertSameTree(src, dst);
    }
  }

  @Test
  void replacesFilesAndLinksOfTheSamePath() throws Exception {
    Path dst = Files.createDirectories(tmp.resolve("dst"));
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    Files.writeString(outside.resolve("victim"), "untouched");
    Files.writeString(dst.resolve("file"), "old");
    Files.createSymbolicLink(dst.resolve("link"), outside.resolve("victim"));

    Tar.extract(archive(file("file", "new"), file("link", "replaced the link")), dst);

    assertThat(dst.resolve("file")).hasContent("new");
    assertThat(Files.isSymbolicLink(dst.resolve("link"))).isFalse();
    assertThat(dst.resolve("link")).hasContent("replaced the link");
    assertThat(outside.resolve("victim")).hasContent("untouched");
  }

  @Test
  void refusesTarSlipAndTouchesNothingOutside() throws Exception {
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    List<List<TarEntry>> hostile =
        List.of(
            List.of(file("/" + outside.resolve("abs").toString().substring(1), "x")),
            List.of(file("../outside/dotdot", "x")),
            List.of(dir("a"), file("a/../../outside/dotdot2", "x")),
            List.of(link("evil", outside.toString()), file("evil/through-abs-link", "x")),
            List.of(link("evil", "../outside"), file("evil/through-rel-link", "x")),
            List.of(link("evil", "../outside"), dir("evil/made-dir")),
            List.of(link("evil", "../outside"), link("evil/made-link", "/etc")),
            List.of(link("a", "b"), link("b", "../outside"), file("a/through-a-chain", "x")),
            List.of(dir("d"), link("d/up", "../.."), file("d/up/outside/deep", "x")),
            List.of(file("h", "x"), entry("hard", TarEntry.Type.HARDLINK, "../outside/abs")),
            List.of(entry("dev", TarEntry.Type.CHARACTER_DEVICE, "")),
            List.of(entry("dev", TarEntry.Type.BLOCK_DEVICE, "")),
            List.of(entry("fifo", TarEntry.Type.FIFO, "")));
    int i = 0;
    for (List<TarEntry> entries : hostile) {
      Path dst = Files.createDirectories(tmp.resolve("dst" + i++));
      String last = entries.get(entries.size() - 1).name();
      assertThatThrownBy(() -> Tar.extract(archive(entries.toArray(TarEntry[]::new)), dst))
          .as("archive %s", entries)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("tar entry '" + last);
      assertThatThrownBy(
              () ->
                  Tar.checked(archive(entries.toArray(TarEntry[]::new)))
                      .transferTo(OutputStream.nullOutputStream()))
          .as("checked copy of %s", entries)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("tar entry '" + last);
    }
    try (var list = Files.list(outside)) {
      assertThat(list).isEmpty();
    }
  }

  @Test
  void refusesWritingThroughALinkAlreadyInTheTargetThatLeadsOut() throws Exception {
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    Path dst = Files.createDirectories(tmp.resolve("dst"));
    Files.createSymbolicLink(dst.resolve("planted"), outside);
    Files.createSymbolicLink(dst.resolve("dangling"), tmp.resolve("nowhere"));

    assertThatThrownBy(() -> Tar.extract(archive(file("planted/x", "x")), dst))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'planted/x' refused")
        .hasMessageContaining("symbolic link planted");
    assertThatThrownBy(() -> Tar.extract(archive(file("dangling/x", "x")), dst))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'dangling/x' refused");
    assertThat(tmp.resolve("nowhere")).doesNotExist();
    try (var list = Files.list(outside)) {
      assertThat(list).isEmpty();
    }
  }

  @Test
  void followsALinkThatStaysInside() throws Exception {
    Path dst = Files.createDirectories(tmp.resolve("dst"));

    Tar.extract(archive(dir("real"), link("alias", "real"), file("alias/x", "through")), dst);

    assertThat(dst.resolve("real/x")).hasContent("through");
    assertThat(Files.isSymbolicLink(dst.resolve("alias"))).isTrue();
  }

  @Test
  void checkedCopyNormalisesNamesAndKeepsContent() throws Exception {
    var in = archive(dir("./"), dir("./a/"), file("./a//b", "bee"), link("l", "a"), file("e", ""));
    byte[] checked = Tar.checked(in).readAllBytes();

    var reader = new TarReader(new ByteArrayInputStream(checked));
    assertThat(reader.next().map(TarEntry::name)).contains("a/");
    assertThat(reader.next().map(TarEntry::name)).contains("a/b");
    assertThat(new String(reader.content().readAllBytes(), StandardCharsets.UTF_8))
        .isEqualTo("bee");
    assertThat(reader.next().map(TarEntry::linkTarget)).contains("a");
    assertThat(reader.next().map(TarEntry::name)).contains("e");
    assertThat(reader.next()).isEmpty();
    Path src = sampleTree();
    Path dst = Files.createDirectories(tmp.resolve("dst"));
    Tar.extract(Tar.checked(new ByteArrayInputStream(tarOf(src))), dst);
    assertSameTree(src, dst);
  }

  @Test
  void sizesBeyondEightGibibytesUsePaxAndBase256() throws Exception {
    long size = 10L * 1024 * 1024 * 1024 + 7;
    var headers = new ByteArrayOutputStream();
    OutputStream headersOnly =
        new OutputStream() {
          @Override
          public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
          }

          @Override
          public void write(byte[] b, int off, int len) {
            if (headers.size() >= 3 * 512) {
              throw new IllegalStateException("headers written"); // the content is not needed
            }
            headers.write(b, off, Math.min(len, 3 * 512 - headers.size()));
          }
        };
    TarEntry big = new TarEntry("big.bin", TarEntry.Type.FILE, 0644, size, MTIME, "", 0, 0);
    assertThatThrownBy(() -> new TarWriter(headersOnly).add(big, InputStream.nullInputStream()))
        .hasMessage("headers written");
    byte[] bytes = headers.toByteArray();

    // PAX header and its data, then the ustar header whose size field is base-256
    assertThat(bytes[156]).isEqualTo((byte) 'x');
    assertThat(new TarReader(new ByteArrayInputStream(bytes)).next()).contains(big);
    byte[] ustarOnly = java.util.Arrays.copyOfRange(bytes, 1024, 1536);
    assertThat(ustarOnly[124] & 0xff).isEqualTo(0x80);
    assertThat(new TarReader(new ByteArrayInputStream(ustarOnly)).next()).contains(big);
    assertThat(TarReader.number(ustarOnly, 124, 12, "size")).isEqualTo(size);
  }

  @Test
  void refusesWhatIsNotATarArchiveAndATruncatedOne() throws Exception {
    byte[] garbage = new byte[1024];
    java.util.Arrays.fill(garbage, (byte) 'g');
    assertThatThrownBy(() -> Tar.extract(new ByteArrayInputStream(garbage), tmp))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a tar archive");

    byte[] whole = archive(file("f", "x".repeat(2000))).readAllBytes();
    byte[] truncated = java.util.Arrays.copyOf(whole, 1000);
    Path dst = Files.createDirectories(tmp.resolve("dst"));
    assertThatThrownBy(() -> Tar.extract(new ByteArrayInputStream(truncated), dst))
        .isInstanceOf(EOFException.class);
  }

  @Test
  void stopsAtTheEndOfArchiveMarkerAndLeavesTheRest() throws Exception {
    byte[] tar = archive(file("f", "x")).readAllBytes();
    var in = new ByteArrayInputStream(concat(tar, "trailing".getBytes(StandardCharsets.UTF_8)));

    Tar.extract(in, Files.createDirectories(tmp.resolve("dst")));

    assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("trailing");
  }

  @Test
  void readsTheContentsOfATopDirectory() throws Exception {
    var reader = TarReader.withinDirectory(archive(dir("v"), dir("v/a"), file("v/a/f", "x")), "v");

    assertThat(reader.next().map(TarEntry::name)).contains("a/");
    assertThat(reader.next().map(TarEntry::name)).contains("a/f");
    assertThat(reader.next()).isEmpty();
    assertThatThrownBy(() -> TarReader.withinDirectory(archive(file("elsewhere", "x")), "v").next())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("elsewhere");
  }

  @Test
  void readsTheContentsOfATopDirectoryInPodmansForm() throws Exception {
    var reader = TarReader.withinDirectory(archive(dir("/"), dir("/a"), file("/a/f", "x")), "v");

    assertThat(reader.next().map(TarEntry::name)).contains("a/");
    assertThat(reader.next().map(TarEntry::name)).contains("a/f");
    assertThat(reader.next()).isEmpty();
  }

  @Test
  void answersInterruption() throws Exception {
    Path src = sampleTree();
    byte[] tar = tarOf(src);
    Path dst = Files.createDirectories(tmp.resolve("dst"));
    Thread.currentThread().interrupt();
    try {
      assertThatThrownBy(() -> Tar.extract(new ByteArrayInputStream(tar), dst))
          .isInstanceOf(InterruptedIOException.class);
      assertThatThrownBy(() -> Tar.write(src, OutputStream.nullOutputStream()))
          .isInstanceOf(InterruptedIOException.class);
    } finally {
      assertThat(Thread.interrupted()).isTrue();
    }
  }

  @Test
  void preparesATargetDirectory() throws Exception {
    Path fresh = tmp.resolve("a/b/c");
    Tar.prepareTarget(fresh, false);
    assertThat(fresh).isEmptyDirectory();
    Files.writeString(fresh.resolve("f"), "x");

    assertThatThrownBy(() -> Tar.prepareTarget(fresh, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not empty");
    Tar.prepareTarget(fresh, true);
    assertThatThrownBy(() -> Tar.prepareTarget(fresh.resolve("f"), true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a directory");
  }

  // --- helpers ---

  private static TarEntry file(String name, String content) {
    var e =
        new TarEntry(
            name,
            TarEntry.Type.FILE,
            0644,
            content.getBytes(StandardCharsets.UTF_8).length,
            MTIME,
            "",
            0,
            0);
    CONTENT.put(e, content);
    return e;
  }

  private static TarEntry dir(String name) {
    return new TarEntry(name, TarEntry.Type.DIRECTORY, 0755, 0, MTIME, "", 0, 0);
  }

  private static TarEntry link(String name, String target) {
    return new TarEntry(name, TarEntry.Type.SYMLINK, 0777, 0, MTIME, target, 0, 0);
  }

  private static TarEntry entry(String name, TarEntry.Type type, String target) {
    return new TarEntry(name, type, 0644, 0, MTIME, target, 0, 0);
  }

  /** An archive of entries; a file's content is its name's length worth of a fixed text. */
  private static InputStream archive(TarEntry... entries) throws IOException {
    var out = new ByteArrayOutputStream();
    TarWriter writer = new TarWriter(out);
    for (TarEntry e : entries) {
      byte[] content = new byte[(int) e.size()];
      if (e.type() == TarEntry.Type.FILE) {
        content = contentOf(e).getBytes(StandardCharsets.UTF_8);
      }
      writer.add(e, new ByteArrayInputStream(content));
    }
    writer.finish();
    return new ByteArrayInputStream(out.toByteArray());
  }

  private static final java.util.Map<TarEntry, String> CONTENT =
      new java.util.concurrent.ConcurrentHashMap<>();

  private static String contentOf(TarEntry e) {
    return CONTENT.getOrDefault(e, "");
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] all = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }

  private static void run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", command) + ": " + output).isZero();
  }

  /**
   * Same names, types, permission bits, link targets and file contents, without following links.
   */
  static void assertSameTree(Path expected, Path actual) throws IOException {
    assertThat(listing(actual)).isEqualTo(listing(expected));
  }

  private static List<String> listing(Path root) throws IOException {
    List<String> lines = new ArrayList<>();
    try (var walk = Files.walk(root)) {
      for (Path p : walk.sorted().toList()) {
        String rel = root.relativize(p).toString();
        if (Files.isSymbolicLink(p)) {
          lines.add(rel + " -> " + Files.readSymbolicLink(p));
        } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          lines.add(
              rel
                  + "/ "
                  + (rel.isEmpty()
                      ? ""
                      : PosixFilePermissions.toString(Files.getPosixFilePermissions(p))));
        } else {
          lines.add(
              rel
                  + " "
                  + PosixFilePermissions.toString(Files.getPosixFilePermissions(p))
                  + " "
                  + java.util.HexFormat.of()
                      .formatHex(
                          java.security.MessageDigest.getInstance("SHA-256")
                              .digest(Files.readAllBytes(p))));
        }
      }
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
    return lines;
  }
}
