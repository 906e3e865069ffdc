package dev.orchestra.spi;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tar archives to and from local directories, safely: what a driver needs for {@code Volume.copyIn}
 * and {@code Volume.copyOut} (see {@link TarReader} and {@link TarWriter} for the formats).
 *
 * <p>{@link #extract(TarReader, Path)} never writes outside its root: an entry whose name is
 * absolute or holds a {@code ..} segment, that would be written through a symbolic link leading out
 * of the root (every parent is checked without following links), a hard link, a device, a FIFO or
 * an entry of an unknown type is refused with an {@link IllegalArgumentException} naming it. A
 * concurrent process that swaps a directory for a link while an extraction runs is outside this
 * guarantee (Java has no {@code openat}-style creation of directories and links).
 *
 * <p>Memory stays constant whatever the size of the data (a directory's listing is held while it is
 * written, and the modes of extracted directories until the end). Every method answers {@link
 * Thread#interrupt()} with an {@link java.io.InterruptedIOException}, which {@link
 * Exceptions#launder(String, Throwable)} turns into an {@code OrchestraInterruptedException}.
 */
public final class Tar {

  private static final Logger LOG = LoggerFactory.getLogger(Tar.class);

  private Tar() {}

  /**
   * Checks an entry's name and returns its normal form, relative to the root.
   *
   * @param name the entry's name as the archive holds it
   * @return the segments joined by {@code /} without {@code .} or empty segments, or {@code ""} for
   *     the root itself ({@code ./})
   * @throws IllegalArgumentException if the name is empty, absolute, holds a {@code ..} segment, a
   *     NUL or a backslash-separated drive
   */
  public static String checkedPath(String name) {
    if (name.isEmpty()) {
      throw refused(name, "its name is empty");
    }
    if (name.startsWith("/") || name.matches("^[A-Za-z]:.*")) {
      throw refused(name, "its path is absolute");
    }
    if (name.indexOf('\0') >= 0) {
      throw refused(name, "its name holds a NUL character");
    }
    List<String> segments = new ArrayList<>();
    for (String segment : name.split("/")) {
      if (segment.equals("..")) {
        throw refused(name, "its path holds '..'");
      }
      if (!segment.isEmpty() && !segment.equals(".")) {
        segments.add(segment);
      }
    }
    return String.join("/", segments);
  }

  /**
   * Extracts a tar stream into a directory: see {@link #extract(TarReader, Path)}.
   *
   * @param tar the archive, read to its end-of-archive marker and not closed
   * @param root an existing directory
   * @return the number of entries extracted
   * @throws IllegalArgumentException if an entry is refused or the stream is not a tar archive
   * @throws IOException if reading the stream or writing the files fails
   */
  public static long extract(InputStream tar, Path root) throws IOException {
    return extract(new TarReader(tar), root);
  }

  /**
   * Extracts an archive into a directory: directories are created (empty ones too), a file, link or
   * empty directory of the same path is replaced, file and directory modes (the permission bits,
   * without setuid, setgid and sticky) and modification times are kept, symbolic links are created
   * as they are (their target is not checked: only writing through one is). Ownership is left to
   * the process's own. A file entry where a non-empty directory stands is refused.
   *
   * <p>Entries before a refused one stay extracted.
   *
   * @param reader the archive
   * @param root an existing directory
   * @return the number of entries extracted
   * @throws IllegalArgumentException if an entry is refused or the stream is not a tar archive
   * @throws IOException if reading the stream or writing the files fails
   */
  public static long extract(TarReader reader, Path root) throws IOException {
    Path realRoot = root.toRealPath();
    Deque<Extracted> directories = new ArrayDeque<>();
    long count = 0;
    try {
      for (var next = reader.next(); next.isPresent(); next = reader.next()) {
        TarEntry entry = next.get();
        if (extractEntry(realRoot, entry, reader.content(), directories)) {
          count++;
        }
      }
    } finally {
      finishDirectories(directories);
    }
    LOG.debug("extracted {} tar entries into {}", count, root);
    return count;
  }

  /**
   * Applies directories' modes deepest first, so a read-only one is finished after its contents.
   */
  private static void finishDirectories(Deque<Extracted> directories) throws IOException {
    while (!directories.isEmpty()) {
      Extracted d = directories.pop();
      applyMetadata(d.path(), d.entry());
    }
  }

  private static boolean extractEntry(
      Path realRoot, TarEntry entry, InputStream content, Deque<Extracted> directories)
      throws IOException {
    String path = checkedEntry(entry);
    if (path.isEmpty()) {
      if (entry.type() != TarEntry.Type.DIRECTORY) {
        throw refused(entry.name(), "it names the root itself");
      }
      return false; // the root's own mode and owner are the platform's
    }
    int slash = path.lastIndexOf('/');
    Path parent = slash < 0 ? realRoot : parents(realRoot, path.substring(0, slash), entry.name());
    Path target = parent.resolve(path.substring(slash + 1));
    BasicFileAttributes existing = attributes(target);
    switch (entry.type()) {
      case DIRECTORY -> {
        if (existing == null || !existing.isDirectory()) {
          replace(target, existing, entry);
          Files.createDirectory(target);
        }
        directories.push(new Extracted(target, entry));
      }
      case SYMLINK -> {
        if (entry.linkTarget().isEmpty()) {
          throw refused(entry.name(), "it is a symbolic link without a target");
        }
        replace(target, existing, entry);
        Files.createSymbolicLink(target, target.getFileSystem().getPath(entry.linkTarget()));
        setTime(target, entry);
      }
      default -> {
        replace(target, existing, entry);
        // open only while no process starts: a task may run this file (SpawnLock)
        SpawnLock.writing(
            "writing " + target,
            () -> {
              try (OutputStream out =
                  Files.newOutputStream(
                      target,
                      StandardOpenOption.CREATE_NEW,
                      StandardOpenOption.WRITE,
                      LinkOption.NOFOLLOW_LINKS)) {
                byte[] buffer = new byte[64 * 1024];
                for (int n; (n = content.read(buffer)) >= 0; ) {
                  out.write(buffer, 0, n);
                }
              }
            });
        applyMetadata(target, entry);
      }
    }
    return true;
  }

  /** Walks (and creates) the parent directories of an entry, never through a link leading out. */
  private static Path parents(Path realRoot, String parentPath, String name) throws IOException {
    Path current = realRoot;
    for (String segment : parentPath.split("/")) {
      Path next = current.resolve(segment);
      BasicFileAttributes attrs = attributes(next);
      if (attrs == null) {
        Files.createDirectory(next);
      } else if (attrs.isSymbolicLink()) {
        Path real;
        try {
          real = next.toRealPath();
        } catch (NoSuchFileException e) {
          throw refused(
              name,
              "it would be written through the dangling symbolic link " + relative(realRoot, next));
        }
        if (!real.startsWith(realRoot)) {
          throw refused(
              name,
              "it would be written through the symbolic link "
                  + relative(realRoot, next)
                  + ", which leads out of the target");
        }
        if (!Files.isDirectory(real, LinkOption.NOFOLLOW_LINKS)) {
          throw refused(name, relative(realRoot, next) + " is not a directory");
        }
        next = real;
      } else if (!attrs.isDirectory()) {
        Files.delete(next);
        Files.createDirectory(next);
      }
      current = next;
    }
    return current;
  }

  private static void replace(Path target, BasicFileAttributes existing, TarEntry entry)
      throws IOException {
    if (existing == null) {
      return;
    }
    try {
      Files.delete(target); // a link itself, never what it points to; an empty directory
    } catch (DirectoryNotEmptyException e) {
      throw refused(entry.name(), "a directory that is not empty stands at its path");
    }
  }

  private static BasicFileAttributes attributes(Path path) throws IOException {
    try {
      return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  private static void applyMetadata(Path path, TarEntry entry) throws IOException {
    PosixFileAttributeView posix =
        Files.getFileAttributeView(path, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
    if (posix != null) {
      posix.setPermissions(permissions(entry.mode()));
    } else if ((entry.mode() & 0100) != 0) {
      path.toFile().setExecutable(true);
    }
    setTime(path, entry);
  }

  private static void setTime(Path path, TarEntry entry) throws IOException {
    FileTime time = FileTime.fromMillis(entry.mtimeSeconds() * 1000);
    Files.getFileAttributeView(path, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
        .setTimes(time, null, null);
  }

  /**
   * Writes a directory's contents as a tar archive and finishes it: paths relative to the directory
   * (which is not an entry itself), in name order; directories (empty ones too), regular files,
   * symbolic links as links (never followed); permission bits, modification times and numeric
   * owners. Sockets, FIFOs and devices are skipped with a warning. A file that changes while it is
   * written is written as far as its size when it was listed (padded with zeros if it shrank, with
   * a warning).
   *
   * @param root the directory
   * @param out where the archive goes; not closed
   * @throws IllegalArgumentException if {@code root} is not a directory
   * @throws IOException if reading the files or writing the stream fails
   */
  public static void write(Path root, OutputStream out) throws IOException {
    if (!Files.isDirectory(root)) {
      throw new IllegalArgumentException(root + " is not a directory");
    }
    TarWriter writer = new TarWriter(out);
    walk(root, "", writer::add);
    writer.finish();
  }

  /**
   * Copies a directory's contents into another directory, as {@link #extract(TarReader, Path)} of
   * what {@link #write(Path, OutputStream)} makes of it would, without the archive in between.
   *
   * @param source the directory to copy
   * @param target an existing directory
   * @return the number of entries copied
   * @throws IllegalArgumentException if {@code source} is not a directory, or an entry is refused
   *     (a link already in the target that leads out of it)
   * @throws IOException if reading or writing the files fails
   */
  public static long copyTree(Path source, Path target) throws IOException {
    if (!Files.isDirectory(source)) {
      throw new IllegalArgumentException(source + " is not a directory");
    }
    Path realRoot = target.toRealPath();
    Deque<Extracted> directories = new ArrayDeque<>();
    long[] count = {0};
    try {
      walk(
          source,
          "",
          (entry, content) -> {
            extractEntry(realRoot, entry, content, directories);
            count[0]++;
            return true;
          });
    } finally {
      finishDirectories(directories);
    }
    LOG.debug("copied {} entries from {} into {}", count[0], source, target);
    return count[0];
  }

  /** Receives the entries of a directory walk. */
  @FunctionalInterface
  private interface EntrySink {
    boolean add(TarEntry entry, InputStream content) throws IOException;
  }

  private static void walk(Path dir, String prefix, EntrySink writer) throws IOException {
    List<Path> children;
    try (Stream<Path> list = Files.list(dir)) {
      children = list.sorted().toList();
    }
    for (Path child : children) {
      TarReader.checkInterrupt();
      String name = prefix + child.getFileName();
      Map<String, Object> a;
      try {
        a =
            Files.readAttributes(
                child,
                "unix:mode,uid,gid,size,lastModifiedTime,isDirectory,isSymbolicLink,isRegularFile",
                LinkOption.NOFOLLOW_LINKS);
      } catch (NoSuchFileException e) {
        continue; // deleted since the listing
      }
      int mode = (Integer) a.get("mode") & 07777;
      long mtime = ((FileTime) a.get("lastModifiedTime")).toMillis() / 1000;
      long uid = (Integer) a.get("uid");
      long gid = (Integer) a.get("gid");
      if ((Boolean) a.get("isSymbolicLink")) {
        String target = Files.readSymbolicLink(child).toString();
        writer.add(
            new TarEntry(name, TarEntry.Type.SYMLINK, mode, 0, mtime, target, uid, gid),
            InputStream.nullInputStream());
      } else if ((Boolean) a.get("isDirectory")) {
        writer.add(
            new TarEntry(name + "/", TarEntry.Type.DIRECTORY, mode, 0, mtime, "", uid, gid),
            InputStream.nullInputStream());
        walk(child, name + "/", writer);
      } else if ((Boolean) a.get("isRegularFile")) {
        long size = (Long) a.get("size");
        try (InputStream content = Files.newInputStream(child, LinkOption.NOFOLLOW_LINKS)) {
          if (!writer.add(
              new TarEntry(name, TarEntry.Type.FILE, mode, size, mtime, "", uid, gid), content)) {
            LOG.warn("{} shrank while it was archived: padded with zeros to {} bytes", child, size);
          }
        }
      } else {
        LOG.warn("{} is not a file, directory or symbolic link: not archived", child);
      }
    }
  }

  /**
   * Checks an archive before it reaches a platform that extracts it itself: the stream returned
   * carries the same entries, names in their normal form, and refuses (with an {@link
   * IllegalArgumentException} thrown by its {@code read}) what {@link #extract(TarReader, Path)}
   * refuses that can be seen without the target: names that are absolute or hold {@code ..}, hard
   * links, devices, FIFOs and unknown types, and any entry below a symbolic link that an earlier
   * entry of the archive made (the classic attack: a link to {@code /etc}, then {@code
   * link/passwd}). It pulls from {@code tar} as it is read, in constant memory, up to the
   * end-of-archive marker, and ends with its own.
   *
   * @param tar the archive; not closed
   * @return the checked archive
   */
  public static InputStream checked(InputStream tar) {
    return new CheckedArchive(new TarReader(tar));
  }

  /**
   * Prepares a local directory to receive a copy: creates it with its parents if missing.
   *
   * @param directory the target
   * @param merge whether a directory that is not empty is acceptable
   * @throws IllegalArgumentException if it exists and is not a directory, or is not empty and
   *     {@code merge} is false
   * @throws IOException if it cannot be created or listed
   */
  public static void prepareTarget(Path directory, boolean merge) throws IOException {
    if (Files.exists(directory, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(directory)) {
      throw new IllegalArgumentException(directory + " exists and is not a directory");
    }
    try {
      Files.createDirectories(directory);
    } catch (FileAlreadyExistsException e) {
      throw new IllegalArgumentException(directory + " exists and is not a directory", e);
    }
    if (!merge) {
      try (Stream<Path> list = Files.list(directory)) {
        if (list.findAny().isPresent()) {
          throw new IllegalArgumentException(
              directory + " is not empty (copy into an empty directory, or ask to merge)");
        }
      }
    }
  }

  private static Set<PosixFilePermission> permissions(int mode) {
    Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
    PosixFilePermission[] all =
        PosixFilePermission.values(); // OWNER_READ (0400) ... OTHERS_EXECUTE (01)
    for (int i = 0; i < all.length; i++) {
      if ((mode & (0400 >> i)) != 0) {
        set.add(all[i]);
      }
    }
    return set;
  }

  private static String relative(Path root, Path path) {
    return root.relativize(path).toString();
  }

  /** Refuses the entries an extraction refuses by name or type. */
  private static String checkedEntry(TarEntry entry) {
    String path = checkedPath(entry.name());
    switch (entry.type()) {
      case FILE, DIRECTORY, SYMLINK -> {}
      case HARDLINK -> throw refused(entry.name(), "it is a hard link");
      case CHARACTER_DEVICE, BLOCK_DEVICE -> throw refused(entry.name(), "it is a device");
      case FIFO -> throw refused(entry.name(), "it is a FIFO");
      case OTHER -> throw refused(entry.name(), "its type is not a file, directory or link");
    }
    return path;
  }

  /** The stream of {@link #checked(InputStream)}: re-encodes entry by entry, as it is read. */
  private static final class CheckedArchive extends BulkInputStream {

    private final TarReader reader;
    private final Set<String> links = new HashSet<>();
    private final java.io.ByteArrayOutputStream pending = new java.io.ByteArrayOutputStream();
    private final TarWriter headers = new TarWriter(pending);
    private byte[] buffered = new byte[0];
    private int position;
    private InputStream content;
    private long contentSize;
    private boolean done;

    CheckedArchive(TarReader reader) {
      this.reader = reader;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) {
        return 0;
      }
      while (true) {
        if (position < buffered.length) {
          int n = Math.min(len, buffered.length - position);
          System.arraycopy(buffered, position, b, off, n);
          position += n;
          return n;
        }
        if (content != null) {
          int n = content.read(b, off, len);
          if (n >= 0) {
            return n;
          }
          content = null;
          headers.pad(contentSize);
          fill();
          continue;
        }
        if (done) {
          return -1;
        }
        nextEntry();
      }
    }

    private void nextEntry() throws IOException {
      var next = reader.next();
      if (next.isEmpty()) {
        headers.finish();
        done = true;
        fill();
        return;
      }
      TarEntry entry = next.get();
      String path = checkedEntry(entry);
      if (path.isEmpty()) {
        return;
      }
      for (int i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
        if (links.contains(path.substring(0, i))) {
          throw refused(
              entry.name(),
              "it would be written through the symbolic link "
                  + path.substring(0, i)
                  + " of the same archive");
        }
      }
      if (entry.type() == TarEntry.Type.SYMLINK) {
        links.add(path);
      } else {
        links.remove(path);
      }
      headers.writeHeader(entry.withName(path));
      fill();
      if (entry.type() == TarEntry.Type.FILE) {
        content = reader.content();
        contentSize = entry.size();
      }
    }

    private void fill() {
      buffered = pending.toByteArray();
      pending.reset();
      position = 0;
    }
  }

  /** A directory whose mode and time are applied once its contents are in. */
  private record Extracted(Path path, TarEntry entry) {}

  private static IllegalArgumentException refused(String name, String why) {
    return new IllegalArgumentException(
        "tar entry '" + Names.printable(name) + "' refused: " + why);
  }
}
