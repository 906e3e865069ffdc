package dev.orchestra.docker;

import com.jcraft.jsch.ConfigRepository;
import com.jcraft.jsch.OpenSSHConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Where and how the driver reaches an engine over SSH: the {@code host=ssh://user@host:port/socket}
 * address, completed as OpenSSH completes it ({@code ~/.ssh/config}: {@code HostName}, {@code
 * Port}, {@code User}, {@code IdentityFile}; then the default identities {@code ~/.ssh/id_ed25519},
 * {@code id_ecdsa}, {@code id_rsa}), and the driver parameters of the SSH transport. Its {@link
 * #toString()} never shows the passphrase.
 */
final class SshTarget {

  /** The engine's socket on the remote machine unless the address has a path. */
  static final String DEFAULT_ENGINE_SOCKET = "/var/run/docker.sock";

  private static final int DEFAULT_PORT = 22;
  private static final List<String> DEFAULT_IDENTITIES =
      List.of("id_ed25519", "id_ecdsa", "id_rsa");

  final String alias;
  final String hostName;
  final int port;
  final String user;
  final String engineSocket;
  final Path knownHosts;
  final boolean strictHostKeyChecking;
  final List<Path> identities;
  private final byte[] passphrase;

  private SshTarget(
      String alias,
      String hostName,
      int port,
      String user,
      String engineSocket,
      Path knownHosts,
      boolean strictHostKeyChecking,
      List<Path> identities,
      byte[] passphrase) {
    this.alias = alias;
    this.hostName = hostName;
    this.port = port;
    this.user = user;
    this.engineSocket = engineSocket;
    this.knownHosts = knownHosts;
    this.strictHostKeyChecking = strictHostKeyChecking;
    this.identities = List.copyOf(identities);
    this.passphrase = passphrase;
  }

  /** The driver parameters of the SSH transport, as given. */
  record Params(
      Optional<String> knownHosts,
      Optional<String> strictHostKeyChecking,
      Optional<String> identityFile,
      Optional<String> identityPassphrase,
      Optional<String> sshConfig) {

    /** No SSH parameter given. */
    static final Params NONE =
        new Params(
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            Optional.empty());

    /** Never shows the passphrase. */
    @Override
    public String toString() {
      return "SshParams[knownHosts="
          + knownHosts.orElse("default")
          + ", strictHostKeyChecking="
          + strictHostKeyChecking.orElse("default")
          + ", identityFile="
          + identityFile.orElse("default")
          + ", identityPassphrase="
          + (identityPassphrase.isPresent() ? "****" : "none")
          + ", sshConfig="
          + sshConfig.orElse("default")
          + "]";
    }
  }

  /** Whether an engine address is an SSH one. */
  static boolean isSsh(String address) {
    return address.strip().toLowerCase(Locale.ROOT).startsWith("ssh://");
  }

  /**
   * Reads an {@code ssh://[user@]host[:port][/path/to/engine.sock]} address and completes it.
   *
   * @throws IllegalArgumentException naming the parameter and what is wrong (never a password)
   */
  static SshTarget parse(String address, Params params) {
    URI uri;
    try {
      uri = new URI(address.strip());
    } catch (java.net.URISyntaxException e) {
      throw new IllegalArgumentException(
          "parameter 'host' of driver 'docker' is not a valid ssh:// address: " + e.getReason());
    }
    String userInfo = uri.getRawUserInfo();
    if (userInfo != null && userInfo.contains(":")) {
      throw new IllegalArgumentException(
          "parameter 'host' of driver 'docker' must not hold a password"
              + " (ssh://user@host[:port]): the SSH transport logs in with a key, see"
              + " 'identityFile'");
    }
    if (uri.getHost() == null || uri.getQuery() != null || uri.getFragment() != null) {
      throw new IllegalArgumentException(
          "parameter 'host' of driver 'docker' must read ssh://[user@]host[:port][/engine.sock],"
              + " was '"
              + address
              + "'");
    }
    Path home = Path.of(System.getProperty("user.home"));
    Path sshDir = home.resolve(".ssh");
    ConfigRepository.Config config =
        sshConfig(params.sshConfig().map(p -> expand(p, home)).orElse(sshDir.resolve("config")))
            .getConfig(uri.getHost());
    String hostName = Optional.ofNullable(config.getHostname()).orElse(uri.getHost());
    int port = uri.getPort() > 0 ? uri.getPort() : config.getPort() > 0 ? config.getPort() : 22;
    String user =
        Optional.ofNullable(uri.getUserInfo())
            .or(() -> Optional.ofNullable(config.getUser()))
            .orElse(System.getProperty("user.name"));
    String path = uri.getPath();
    String engineSocket = path == null || path.isEmpty() ? DEFAULT_ENGINE_SOCKET : path;
    List<Path> identities = new ArrayList<>();
    if (params.identityFile().isPresent()) {
      identities.add(expand(params.identityFile().get(), home));
    } else {
      String[] configured = config.getValues("IdentityFile");
      if (configured != null) {
        for (String f : configured) {
          identities.add(expand(f, home));
        }
      }
      for (String f : DEFAULT_IDENTITIES) {
        Path p = sshDir.resolve(f);
        if (!identities.contains(p) && Files.isReadable(p)) {
          identities.add(p);
        }
      }
    }
    boolean strict =
        params
            .strictHostKeyChecking()
            .map(
                v ->
                    switch (v.strip().toLowerCase(Locale.ROOT)) {
                      case "yes", "true" -> true;
                      case "no", "false" -> false;
                      default ->
                          throw new IllegalArgumentException(
                              "parameter 'strictHostKeyChecking' of driver 'docker' must be yes or"
                                  + " no, was '"
                                  + v
                                  + "'");
                    })
            .orElse(true);
    return new SshTarget(
        uri.getHost(),
        hostName,
        port,
        user,
        engineSocket,
        params.knownHosts().map(p -> expand(p, home)).orElse(sshDir.resolve("known_hosts")),
        strict,
        identities,
        params.identityPassphrase().map(p -> p.getBytes(StandardCharsets.UTF_8)).orElse(null));
  }

  private static ConfigRepository sshConfig(Path file) {
    if (!Files.isRegularFile(file)) {
      return ConfigRepository.nullConfig;
    }
    try {
      return OpenSSHConfig.parseFile(file.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the SSH configuration " + file, e);
    }
  }

  private static Path expand(String path, Path home) {
    String p = path.strip();
    if (p.equals("~")) {
      return home;
    }
    return p.startsWith("~/") ? home.resolve(p.substring(2)) : Path.of(p);
  }

  /** The passphrase of the identities, or {@code null}: a copy, for JSch. */
  byte[] passphrase() {
    return passphrase == null ? null : passphrase.clone();
  }

  /**
   * {@code host:port} as OpenSSH names it in {@code known_hosts}: {@code [host]:port} unless 22.
   */
  String knownHostsName() {
    return port == DEFAULT_PORT ? hostName : "[" + hostName + "]:" + port;
  }

  /** The address for messages: {@code ssh://user@host:port/engine.sock}, never a secret. */
  @Override
  public String toString() {
    return "ssh://" + user + "@" + hostName + ":" + port + engineSocket;
  }
}
