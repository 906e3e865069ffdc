package dev.orchestra.local;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.StringArray;
import com.sun.jna.ptr.IntByReference;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts a task's process with one {@code posix_spawnp} of the C library, the way a shell does: one
 * child that runs the command directly, reaped by {@link ChildReaper} with no thread per process.
 *
 * <p>The JDK's own launch (its default on Linux) spawns a helper program that then runs the
 * command, so every process costs two program loads, and it keeps a reaper thread per running
 * child. Both costs dominate a short task. This launch gives the child what the JDK's gives it: the
 * command resolved on the caller's {@code PATH}, the given environment only, the working directory,
 * standard output and error written to the given files (created or truncated), standard input
 * either a pipe or {@code /dev/null}, every other descriptor closed, an empty signal mask, and the
 * signals this JVM ignores ignored (as under {@code nohup}), every other one at its default (the
 * program's load resets the JVM's handlers). Arguments and the environment are encoded with the
 * default charset and paths with the file-name charset, as the JDK does.
 *
 * <p>Used where it can be: Linux on x86-64 or AArch64 (the flag values below are theirs) with a C
 * library that has {@code posix_spawn_file_actions_addchdir_np} and {@code
 * posix_spawn_file_actions_addclosefrom_np} (glibc 2.34 or later) and a kernel with {@code
 * pidfd_open} (5.3 or later). Elsewhere, or when the system property {@value #PROPERTY} is {@code
 * jdk}, the driver starts processes with {@link ProcessBuilder}; {@link #unavailable()} says why.
 */
final class PosixSpawn {

  private static final Logger LOG = LoggerFactory.getLogger(PosixSpawn.class);

  /** The system property that chooses the launch: {@code native} (the default) or {@code jdk}. */
  static final String PROPERTY = "orchestra.local.spawn";

  private static final int O_RDONLY = 0;
  private static final int O_WRONLY = 1;
  private static final int O_CREAT = 0100;
  private static final int O_TRUNC = 01000;
  static final int O_CLOEXEC = 02000000;
  private static final int CREATE_MODE = 0666;

  private static final short POSIX_SPAWN_SETSIGMASK = 0x08;

  /** glibc's types are smaller (80 and 336 bytes); the spare room costs nothing. */
  private static final int FILE_ACTIONS_BYTES = 256;

  private static final int ATTR_BYTES = 1024;
  private static final int SIGSET_BYTES = 256;

  /** The C library functions used here and by {@link ChildReaper}. */
  interface LibC extends Library {
    /** {@code errno}: a call interrupted by a signal. */
    int EINTR = 4;

    /** {@code errno}: try again (a full counter, nothing to reap yet). */
    int EAGAIN = 11;

    int posix_spawnp(
        IntByReference pid,
        String file,
        Pointer fileActions,
        Pointer attr,
        StringArray argv,
        StringArray envp);

    int posix_spawn_file_actions_init(Pointer actions);

    int posix_spawn_file_actions_destroy(Pointer actions);

    int posix_spawn_file_actions_addopen(Pointer actions, int fd, byte[] path, int flags, int mode);

    int posix_spawn_file_actions_adddup2(Pointer actions, int fd, int newFd);

    int posix_spawn_file_actions_addchdir_np(Pointer actions, byte[] path);

    int posix_spawn_file_actions_addclosefrom_np(Pointer actions, int from);

    int posix_spawnattr_init(Pointer attr);

    int posix_spawnattr_setflags(Pointer attr, short flags);

    int posix_spawnattr_setsigmask(Pointer attr, Pointer mask);

    int sigemptyset(Pointer set);

    String strerror(int errno);

    long syscall(long number, Object... args) throws LastErrorException;

    int waitpid(int pid, IntByReference status, int options) throws LastErrorException;

    int poll(ByteBuffer fds, long count, int timeoutMillis) throws LastErrorException;

    int eventfd(int initial, int flags) throws LastErrorException;

    int pipe2(int[] fds, int flags) throws LastErrorException;

    long read(int fd, byte[] buffer, long count) throws LastErrorException;

    long write(int fd, byte[] buffer, long count) throws LastErrorException;

    int close(int fd) throws LastErrorException;
  }

  private static final Loaded LOADED = Loaded.load();

  private PosixSpawn() {}

  /** The library, the attributes every spawn shares, or why there are none. */
  private record Loaded(LibC libc, Pointer attr, String unavailable) {

    static Loaded load() {
      String choice = System.getProperty(PROPERTY, "native");
      if (choice.equals("jdk")) {
        String why = "the system property " + PROPERTY + " is 'jdk'";
        LOG.debug("starting processes with ProcessBuilder: {}", why);
        return new Loaded(null, null, why);
      }
      if (!choice.equals("native")) {
        LOG.warn(
            "the system property {} is '{}', neither 'native' nor 'jdk'; using 'native'",
            PROPERTY,
            choice);
      }
      String os = System.getProperty("os.name", "");
      String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
      if (!os.equals("Linux") || !(arch.equals("amd64") || arch.equals("aarch64"))) {
        return failed("it is built for Linux on amd64 or aarch64, not " + os + " on " + arch);
      }
      try {
        LibC libc = Native.load("c", LibC.class);
        // Present only in glibc 2.34 and later: fail here, not at the first task.
        com.sun.jna.NativeLibrary c = com.sun.jna.NativeLibrary.getInstance("c");
        c.getFunction("posix_spawn_file_actions_addchdir_np");
        c.getFunction("posix_spawn_file_actions_addclosefrom_np");
        Memory attr = new Memory(ATTR_BYTES);
        Memory none = new Memory(SIGSET_BYTES);
        check(libc, libc.posix_spawnattr_init(attr), "posix_spawnattr_init");
        check(libc, libc.sigemptyset(none) == 0 ? 0 : 22, "sigemptyset");
        check(libc, libc.posix_spawnattr_setsigmask(attr, none), "setsigmask");
        check(libc, libc.posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK), "setflags");
        ChildReaper.probe(libc);
        return new Loaded(libc, attr, null);
      } catch (LinkageError | IOException | LastErrorException | IllegalStateException e) {
        return failed("the C library or kernel lacks what it needs: " + e);
      }
    }

    /** Logged at INFO: the operator learns why tasks start slower than they could. */
    private static Loaded failed(String why) {
      LOG.info("starting processes with ProcessBuilder: {}", why);
      return new Loaded(null, null, why);
    }
  }

  /**
   * Why this launch cannot be used here.
   *
   * @return empty when it can
   */
  static Optional<String> unavailable() {
    return Optional.ofNullable(LOADED.unavailable());
  }

  /** The C library, for {@link ChildReaper}; only when {@link #unavailable()} is empty. */
  static LibC libc() {
    return LOADED.libc();
  }

  /**
   * Starts a process.
   *
   * @param command the program (resolved on the caller's {@code PATH} unless it has a slash) and
   *     its arguments
   * @param env the whole environment of the process
   * @param workDir its working directory
   * @param stdout the file its standard output goes to, created or truncated
   * @param stderr the file its standard error goes to, created or truncated
   * @param pipeStdin whether its standard input is a pipe ({@link Process#getOutputStream()})
   *     rather than {@code /dev/null}
   * @return the running process
   * @throws IOException if it cannot start, with the JDK's wording ({@code Cannot run program ...:
   *     error=2, No such file or directory}); nothing is left running then
   * @throws IllegalStateException if {@link #unavailable()} is not empty
   */
  static Process start(
      List<String> command,
      Map<String, String> env,
      Path workDir,
      Path stdout,
      Path stderr,
      boolean pipeStdin)
      throws IOException {
    Loaded loaded = LOADED;
    if (loaded.libc() == null) {
      throw new IllegalStateException("posix_spawn cannot be used: " + loaded.unavailable());
    }
    LibC libc = loaded.libc();
    Charset text = Charset.defaultCharset();
    Charset names = fileNameCharset();
    String[] argv = command.toArray(String[]::new);
    String[] envp = new String[env.size()];
    int i = 0;
    for (Map.Entry<String, String> e : env.entrySet()) {
      envp[i++] = e.getKey() + "=" + e.getValue();
    }
    for (String s : argv) {
      refuseNul(s, "command");
    }
    for (String s : envp) {
      refuseNul(s, "environment");
    }
    int[] pipe = null;
    Memory actions = new Memory(FILE_ACTIONS_BYTES);
    check(libc, libc.posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
    try {
      if (pipeStdin) {
        pipe = new int[2];
        try {
          libc.pipe2(pipe, O_CLOEXEC);
        } catch (LastErrorException e) {
          throw new IOException(
              "Cannot run program \"" + argv[0] + "\": no pipe for its input: " + e.getMessage(),
              e);
        }
        check(libc, libc.posix_spawn_file_actions_adddup2(actions, pipe[0], 0), "adddup2");
      } else {
        check(
            libc,
            libc.posix_spawn_file_actions_addopen(
                actions, 0, cString("/dev/null", names), O_RDONLY, 0),
            "addopen");
      }
      // Outputs first, by absolute path, then the directory: a relative program name with a
      // slash resolves against the working directory, as with the JDK.
      int flags = O_WRONLY | O_CREAT | O_TRUNC;
      check(
          libc,
          libc.posix_spawn_file_actions_addopen(
              actions, 1, cString(stdout.toAbsolutePath().toString(), names), flags, CREATE_MODE),
          "addopen");
      check(
          libc,
          libc.posix_spawn_file_actions_addopen(
              actions, 2, cString(stderr.toAbsolutePath().toString(), names), flags, CREATE_MODE),
          "addopen");
      check(
          libc,
          libc.posix_spawn_file_actions_addchdir_np(
              actions, cString(workDir.toAbsolutePath().toString(), names)),
          "addchdir_np");
      check(libc, libc.posix_spawn_file_actions_addclosefrom_np(actions, 3), "addclosefrom_np");
      IntByReference pid = new IntByReference();
      int error =
          libc.posix_spawnp(
              pid,
              argv[0],
              actions,
              loaded.attr(),
              new StringArray(argv, text.name()),
              new StringArray(envp, text.name()));
      if (error != 0) {
        throw new IOException(
            "Cannot run program \""
                + argv[0]
                + "\" (in directory \""
                + workDir
                + "\"): error="
                + error
                + ", "
                + libc.strerror(error));
      }
      OutputStream input = OutputStream.nullOutputStream();
      if (pipe != null) {
        closeQuietly(libc, pipe[0]);
        input = new PipeOutputStream(libc, pipe[1]);
        pipe = null;
      }
      return watch(pid.getValue(), input);
    } finally {
      libc.posix_spawn_file_actions_destroy(actions);
      if (pipe != null) {
        closeQuietly(libc, pipe[0]);
        closeQuietly(libc, pipe[1]);
      }
    }
  }

  /** Hands a started child to the reaper. */
  private static Process watch(int pid, OutputStream input) {
    // The child exists until it is reaped, at the earliest by the reaper below: the handle is
    // taken while the pid cannot have been reused.
    ProcessHandle handle =
        ProcessHandle.of(pid)
            .orElseThrow(() -> new IllegalStateException("pid " + pid + " vanished unreaped"));
    return new SpawnedProcess(handle, ChildReaper.watch(pid), input);
  }

  private static void refuseNul(String s, String where) throws IOException {
    if (s.indexOf('\0') >= 0) {
      throw new IOException("invalid null character in " + where);
    }
  }

  private static Charset fileNameCharset() {
    String name = System.getProperty("sun.jnu.encoding");
    try {
      return name == null ? Charset.defaultCharset() : Charset.forName(name);
    } catch (IllegalArgumentException e) {
      return Charset.defaultCharset();
    }
  }

  private static byte[] cString(String s, Charset charset) throws IOException {
    refuseNul(s, "path");
    byte[] bytes = s.getBytes(charset);
    byte[] c = new byte[bytes.length + 1];
    System.arraycopy(bytes, 0, c, 0, bytes.length);
    return c;
  }

  private static void check(LibC libc, int error, String what) throws IOException {
    if (error != 0) {
      throw new IOException(what + " failed: error=" + error + ", " + libc.strerror(error));
    }
  }

  static void closeQuietly(LibC libc, int fd) {
    try {
      libc.close(fd);
    } catch (LastErrorException e) {
      LOG.debug("closing descriptor {} failed: {}", fd, e.getMessage());
    }
  }

  /** The writing end of a child's input pipe: plain blocking writes, no buffering. */
  private static final class PipeOutputStream extends OutputStream {

    private static final int CHUNK = 64 * 1024;

    private final LibC libc;
    private final int fd;
    private boolean closed;

    PipeOutputStream(LibC libc, int fd) {
      this.libc = libc;
      this.fd = fd;
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
      java.util.Objects.checkFromIndexSize(off, len, b.length);
      if (closed) {
        throw new IOException("Stream closed");
      }
      byte[] chunk = null;
      int done = 0;
      while (done < len) {
        int n = Math.min(CHUNK, len - done);
        byte[] from;
        if (off + done == 0 && n == b.length) {
          from = b;
        } else {
          if (chunk == null || chunk.length != n) {
            chunk = new byte[n];
          }
          System.arraycopy(b, off + done, chunk, 0, n);
          from = chunk;
        }
        try {
          done += (int) libc.write(fd, from, n);
        } catch (LastErrorException e) {
          if (e.getErrorCode() != LibC.EINTR) {
            throw new IOException(e.getMessage(), e);
          }
        }
      }
    }

    @Override
    public synchronized void close() throws IOException {
      if (!closed) {
        closed = true;
        try {
          libc.close(fd);
        } catch (LastErrorException e) {
          throw new IOException(e.getMessage(), e);
        }
      }
    }
  }
}
