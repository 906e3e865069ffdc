package dev.orchestra;

import dev.orchestra.spi.Names;
import dev.orchestra.spi.TaskPaths;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * What to run: an immutable description of one task. Build one with {@link #builder()}.
 *
 * <p>Accessors never return {@code null}; collections are unmodifiable. {@link #toString()} names
 * the environment's keys but never its values, which often hold secrets.
 */
public final class Task {

  private final String id;
  private final String image;
  private final List<String> command;
  private final Map<String, String> env;
  private final List<Mount> mounts;
  private final ContainerLimits limits;
  private final boolean privileged;
  private final String user;
  private final Object stdin; // byte[] (replayable) or InputStream (single use)
  private final String workDir;
  private final Duration timeout;

  private Task(Builder b) {
    this.id = b.id;
    this.image = b.image;
    this.command = List.copyOf(b.command);
    this.env = Collections.unmodifiableMap(new LinkedHashMap<>(b.env));
    this.mounts = List.copyOf(b.mounts);
    this.limits = b.limits;
    this.privileged = b.privileged;
    this.user = b.user;
    this.stdin = b.stdin;
    this.workDir = b.workDir;
    this.timeout = b.timeout;
  }

  /**
   * Starts a new builder.
   *
   * @return an empty builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder holding this task's values, to derive a changed copy.
   *
   * @return a builder initialised from this task
   */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.id = id;
    b.image = image;
    b.command.addAll(command);
    b.env.putAll(env);
    b.mounts.addAll(mounts);
    b.limits = limits;
    b.privileged = privileged;
    b.user = user;
    b.stdin = stdin;
    b.workDir = workDir;
    b.timeout = timeout;
    return b;
  }

  /**
   * The task's id, unique within a namespace: {@link Driver#runContainer(Task)} is idempotent by
   * it.
   *
   * @return the id: not blank, without control characters
   */
  public String id() {
    return id;
  }

  /**
   * The image to run the command in, for image-based drivers.
   *
   * @return the image reference, or empty when none was given
   */
  public Optional<String> image() {
    return Optional.ofNullable(image);
  }

  /**
   * The argv to execute. The driver never passes it through a shell: to use one, make it the
   * command ({@code sh -c '...'}).
   *
   * @return the command and its arguments, at least one element
   */
  public List<String> command() {
    return command;
  }

  /**
   * The task's environment: the only variables it sees (the local driver adds {@code PATH}).
   *
   * @return the variables in the order they were given
   */
  public Map<String, String> env() {
    return env;
  }

  /**
   * The volumes mounted into the task directory.
   *
   * @return the mounts, in the order they were given
   */
  public List<Mount> mounts() {
    return mounts;
  }

  /**
   * The task's resource limits.
   *
   * @return the limits; {@link ContainerLimits#NONE} unless set
   */
  public ContainerLimits limits() {
    return limits;
  }

  /**
   * Whether the task asks for extended privileges.
   *
   * @return {@code true} for a privileged task
   */
  public boolean privileged() {
    return privileged;
  }

  /**
   * The user to run as (a name or a numeric uid, optionally {@code user:group}).
   *
   * @return the user, or empty for the platform's default
   */
  public Optional<String> user() {
    return Optional.ofNullable(user);
  }

  /**
   * The bytes to deliver on the task's standard input, followed by end of file.
   *
   * <p>Input given as a string or bytes is replayable: each call returns a fresh stream. Input
   * given as an {@link InputStream} is the caller's stream, read once by the driver that runs the
   * task; the driver closes it when done.
   *
   * @return the input, or empty when the task gets no input (its standard input is at end of file)
   */
  public Optional<InputStream> stdin() {
    if (stdin instanceof byte[] bytes) {
      return Optional.of(new ByteArrayInputStream(bytes));
    }
    return Optional.ofNullable((InputStream) stdin);
  }

  /**
   * The working directory, relative to the task directory, created if missing.
   *
   * @return the normalised relative path ({@code a/b}, or {@code .} for the task directory itself),
   *     or empty for the task directory
   */
  public Optional<String> workDir() {
    return Optional.ofNullable(workDir);
  }

  /**
   * The longest the task may run. A driver with {@link Capability#TIMEOUT} stops a task that runs
   * longer (as by {@link Container#stop(Duration)} with a grace period of 10 seconds) and reports
   * {@link ExitReason#TIMED_OUT}. The same holds for a step of a {@link Sandbox}. A timeout too
   * long for a timer to count ({@code ChronoUnit.FOREVER.getDuration()}) is no limit in practice:
   * drivers saturate it (see {@link dev.orchestra.spi.Durations}) and the task runs as if it had
   * none.
   *
   * @return the maximum run time, or empty for no limit
   */
  public Optional<Duration> timeout() {
    return Optional.ofNullable(timeout);
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof Task t)) {
      return false;
    }
    boolean sameStdin =
        stdin instanceof byte[] a && t.stdin instanceof byte[] b
            ? Arrays.equals(a, b)
            : stdin == t.stdin;
    return id.equals(t.id)
        && Objects.equals(image, t.image)
        && command.equals(t.command)
        && env.equals(t.env)
        && mounts.equals(t.mounts)
        && limits.equals(t.limits)
        && privileged == t.privileged
        && Objects.equals(user, t.user)
        && sameStdin
        && Objects.equals(workDir, t.workDir)
        && Objects.equals(timeout, t.timeout);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        id, image, command, env, mounts, limits, privileged, user, workDir, timeout);
  }

  @Override
  public String toString() {
    StringBuilder s = new StringBuilder("Task[id=").append(id);
    if (image != null) {
      s.append(", image=").append(image);
    }
    s.append(", command=").append(command);
    if (!env.isEmpty()) {
      s.append(", env=").append(env.keySet()).append(" (values hidden)");
    }
    if (!mounts.isEmpty()) {
      s.append(", mounts=").append(mounts);
    }
    if (!limits.isUnlimited()) {
      s.append(", limits=").append(limits);
    }
    if (privileged) {
      s.append(", privileged");
    }
    if (user != null) {
      s.append(", user=").append(user);
    }
    if (stdin != null) {
      s.append(", stdin");
    }
    if (workDir != null) {
      s.append(", workDir=").append(workDir);
    }
    if (timeout != null) {
      s.append(", timeout=").append(timeout);
    }
    return s.append(']').toString();
  }

  /**
   * Builds a {@link Task}. Every setter rejects {@code null} with an {@link
   * IllegalArgumentException} naming the field; {@link #build()} checks the whole.
   *
   * <p>Not thread-safe; a builder may be reused after {@link #build()}.
   */
  public static final class Builder {

    private String id;
    private String image;
    private final List<String> command = new ArrayList<>();
    private final Map<String, String> env = new LinkedHashMap<>();
    private final List<Mount> mounts = new ArrayList<>();
    private ContainerLimits limits = ContainerLimits.NONE;
    private boolean privileged;
    private String user;
    private Object stdin;
    private String workDir;
    private Duration timeout;

    private Builder() {}

    /**
     * Sets the task id (required), unique within the namespace.
     *
     * @param id not blank, without control characters
     * @return this builder
     * @throws IllegalArgumentException if the id is null, blank or holds a control character
     */
    public Builder id(String id) {
      this.id = Names.requireText("id", id);
      return this;
    }

    /**
     * Sets the image, required by image-based drivers and ignored (with a warning) by the others.
     *
     * @param image an image reference such as {@code busybox} or {@code busybox:1.36}
     * @return this builder
     * @throws IllegalArgumentException if the image is null, blank or holds whitespace or control
     *     characters
     */
    public Builder image(String image) {
      Names.requireText("image", image);
      if (image.chars().anyMatch(Character::isWhitespace)) {
        throw new IllegalArgumentException(
            "image must not contain whitespace, was '" + image + "'");
      }
      this.image = image;
      return this;
    }

    /**
     * Sets the command (required): the argv, never passed through a shell.
     *
     * @param command the program and its arguments, at least one
     * @return this builder
     * @throws IllegalArgumentException if null, empty, or an element is null or holds a NUL
     */
    public Builder command(String... command) {
      if (command == null) {
        throw new IllegalArgumentException("command must not be null");
      }
      return command(Arrays.asList(command));
    }

    /**
     * Sets the command (required): the argv, never passed through a shell.
     *
     * @param command the program and its arguments, at least one
     * @return this builder
     * @throws IllegalArgumentException if null, empty, or an element is null or holds a NUL
     */
    public Builder command(List<String> command) {
      if (command == null) {
        throw new IllegalArgumentException("command must not be null");
      }
      List<String> copy = new ArrayList<>(command.size());
      for (int i = 0; i < command.size(); i++) {
        String arg = command.get(i);
        if (arg == null) {
          throw new IllegalArgumentException("command[" + i + "] must not be null");
        }
        if (arg.indexOf('\0') >= 0) {
          throw new IllegalArgumentException("command[" + i + "] must not contain NUL");
        }
        copy.add(arg);
      }
      this.command.clear();
      this.command.addAll(copy);
      return this;
    }

    /**
     * Adds one environment variable, replacing an earlier value of the same key.
     *
     * @param key not empty, without {@code =} or NUL
     * @param value any text without NUL; may be empty
     * @return this builder
     * @throws IllegalArgumentException if the key or value cannot be carried by a process
     *     environment
     */
    public Builder env(String key, String value) {
      if (key == null) {
        throw new IllegalArgumentException("env key must not be null");
      }
      if (key.isEmpty() || key.indexOf('=') >= 0 || key.indexOf('\0') >= 0) {
        throw new IllegalArgumentException(
            "env key must be non-empty without '=' or NUL, was '" + Names.printable(key) + "'");
      }
      if (value == null) {
        throw new IllegalArgumentException("env value of '" + key + "' must not be null");
      }
      if (value.indexOf('\0') >= 0) {
        throw new IllegalArgumentException("env value of '" + key + "' must not contain NUL");
      }
      env.put(key, value);
      return this;
    }

    /**
     * Adds every variable of the map, as by {@link #env(String, String)}.
     *
     * @param env the variables to add
     * @return this builder
     * @throws IllegalArgumentException if the map is null or holds an invalid entry
     */
    public Builder env(Map<String, String> env) {
      if (env == null) {
        throw new IllegalArgumentException("env must not be null");
      }
      env.forEach(this::env);
      return this;
    }

    /**
     * Mounts a volume of the namespace into the task directory.
     *
     * @param volumeName the volume's name
     * @param path where it appears, relative to the task directory ({@code /x} and {@code x} are
     *     the same)
     * @return this builder
     * @throws IllegalArgumentException if the name or the path is invalid (see {@link Mount})
     */
    public Builder mount(String volumeName, String path) {
      mounts.add(new Mount(volumeName, path));
      return this;
    }

    /**
     * Replaces the mounts.
     *
     * @param mounts the mounts, none null
     * @return this builder
     * @throws IllegalArgumentException if the list or an element is null
     */
    public Builder mounts(List<Mount> mounts) {
      if (mounts == null) {
        throw new IllegalArgumentException("mounts must not be null");
      }
      for (int i = 0; i < mounts.size(); i++) {
        if (mounts.get(i) == null) {
          throw new IllegalArgumentException("mounts[" + i + "] must not be null");
        }
      }
      this.mounts.clear();
      this.mounts.addAll(mounts);
      return this;
    }

    /**
     * Sets the resource limits.
     *
     * @param limits the limits; {@link ContainerLimits#NONE} for none
     * @return this builder
     * @throws IllegalArgumentException if null
     */
    public Builder limits(ContainerLimits limits) {
      if (limits == null) {
        throw new IllegalArgumentException("limits must not be null");
      }
      this.limits = limits;
      return this;
    }

    /**
     * Asks for extended privileges.
     *
     * @param privileged whether the task is privileged
     * @return this builder
     */
    public Builder privileged(boolean privileged) {
      this.privileged = privileged;
      return this;
    }

    /**
     * Runs the task as this user.
     *
     * @param user a user name or numeric uid, optionally {@code user:group}
     * @return this builder
     * @throws IllegalArgumentException if null, blank or holding whitespace or control characters
     */
    public Builder user(String user) {
      Names.requireText("user", user);
      if (user.chars().anyMatch(Character::isWhitespace)) {
        throw new IllegalArgumentException("user must not contain whitespace, was '" + user + "'");
      }
      this.user = user;
      return this;
    }

    /**
     * Feeds this stream to the task's standard input, then end of file. The stream is read once, by
     * the driver that runs the task, and closed by it.
     *
     * @param stdin the input
     * @return this builder
     * @throws IllegalArgumentException if null
     */
    public Builder stdin(InputStream stdin) {
      if (stdin == null) {
        throw new IllegalArgumentException("stdin must not be null");
      }
      this.stdin = stdin;
      return this;
    }

    /**
     * Feeds this text, encoded as UTF-8, to the task's standard input, then end of file.
     *
     * @param stdin the input
     * @return this builder
     * @throws IllegalArgumentException if null
     */
    public Builder stdin(String stdin) {
      if (stdin == null) {
        throw new IllegalArgumentException("stdin must not be null");
      }
      this.stdin = stdin.getBytes(StandardCharsets.UTF_8);
      return this;
    }

    /**
     * Feeds a copy of these bytes to the task's standard input, then end of file.
     *
     * @param stdin the input
     * @return this builder
     * @throws IllegalArgumentException if null
     */
    public Builder stdin(byte[] stdin) {
      if (stdin == null) {
        throw new IllegalArgumentException("stdin must not be null");
      }
      this.stdin = stdin.clone();
      return this;
    }

    /**
     * Sets the working directory, relative to the task directory ({@code /src} and {@code src} are
     * the same); it is created if missing.
     *
     * @param workDir the directory
     * @return this builder
     * @throws IllegalArgumentException if null, or holding a {@code ..} segment or a control
     *     character
     */
    public Builder workDir(String workDir) {
      this.workDir = TaskPaths.requireRelativePath("workDir", workDir, true);
      return this;
    }

    /**
     * Limits how long the task may run (see {@link Task#timeout()}). Without a call the task has no
     * limit.
     *
     * @param timeout the maximum run time: any positive duration, to the nanosecond; however long,
     *     {@code ChronoUnit.FOREVER.getDuration()} included (drivers count at most 292 years, which
     *     is no limit in practice)
     * @return this builder
     * @throws IllegalArgumentException if null, zero or negative
     */
    public Builder timeout(Duration timeout) {
      if (timeout == null) {
        throw new IllegalArgumentException("timeout must not be null");
      }
      if (timeout.isZero() || timeout.isNegative()) {
        throw new IllegalArgumentException("timeout must be positive, was " + timeout);
      }
      this.timeout = timeout;
      return this;
    }

    /**
     * Checks the whole and builds the task.
     *
     * @return the task
     * @throws IllegalArgumentException if the id or command is missing, or two mounts share a path
     */
    public Task build() {
      if (id == null) {
        throw new IllegalArgumentException("id is required");
      }
      if (command.isEmpty()) {
        throw new IllegalArgumentException("command is required (at least the program to run)");
      }
      if (command.get(0).isEmpty()) {
        throw new IllegalArgumentException("command[0] (the program) must not be empty");
      }
      Set<String> paths = new HashSet<>();
      for (Mount mount : mounts) {
        String path = TaskPaths.requireRelativePath("mount path", mount.path(), false);
        if (!paths.add(path)) {
          throw new IllegalArgumentException(
              "two mounts share the path '" + path + "' (" + mounts + ")");
        }
      }
      return new Task(this);
    }
  }
}
