package dev.orchestra.bench;

import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One task on an engine reached over SSH: the driver with {@code host=ssh://...} against {@code
 * docker -H ssh://... run --rm}. The address comes from {@value #SSH_HOST}, the driver's known
 * hosts and identity from {@value #SSH_KNOWN_HOSTS} and {@value #SSH_IDENTITY_FILE} (as parameters
 * of this row's driver only: in the environment they would reach every Docker driver of the run,
 * which warns that a unix:// host does not use them), the Docker CLI's from the OpenSSH
 * configuration. Without the address the row says it was not measured.
 */
final class SshRow {

  /** System property: the {@code ssh://user@host:port} address of the engine to measure. */
  static final String SSH_HOST = "bench.sshHost";

  /** System property: the known_hosts file the driver checks the SSH server's key against. */
  static final String SSH_KNOWN_HOSTS = "bench.sshKnownHosts";

  /** System property: the private key the driver logs in with. */
  static final String SSH_IDENTITY_FILE = "bench.sshIdentityFile";

  private static final String NAME = "docker over ssh: one task";

  private final Settings settings;

  SshRow(Settings settings) {
    this.settings = settings;
  }

  /** The row; one that says it was not measured when {@value #SSH_HOST} is not set. */
  Row latency() throws Exception {
    String host = System.getProperty(SSH_HOST, "").strip();
    if (host.isEmpty()) {
      return Row.notMeasured(
          NAME,
          "Not measured in this run: it needs an engine reached over SSH, given as -D"
              + SSH_HOST
              + "=ssh://user@host:port (scripts/bench.sh starts a private sshd for it).");
    }
    Map<String, String> params = new LinkedHashMap<>();
    params.put("host", host);
    String knownHosts = System.getProperty(SSH_KNOWN_HOSTS, "").strip();
    if (!knownHosts.isEmpty()) {
      params.put("knownHosts", knownHosts);
    }
    String identityFile = System.getProperty(SSH_IDENTITY_FILE, "").strip();
    if (!identityFile.isEmpty()) {
      params.put("identityFile", identityFile);
    }
    try (Driver driver = Orchestra.open("docker", DockerRows.freshNamespace(), params)) {
      Rotation.Trial library =
          DockerRows.oneTask(driver, settings.image(), "ssh-", "library over ssh");
      Rotation.Trial dockerRun =
          DockerRows.timedCommand(
              "docker -H ssh:// run --rm",
              () ->
                  DockerRows.runCommand(
                      "docker", "-H", host, "run", "--rm", settings.image(), "true"));
      List<Samples> s =
          Rotation.run(settings.warmups(), settings.runs(), List.of(library, dockerRun));
      return Row.timed(
          NAME,
          "runContainer(true) + await, host=ssh://",
          "docker -H ssh://... run --rm busybox true",
          s.get(0),
          s.get(1),
          Rotation.describeOrder("L", "D"),
          0.9,
          "One task at a time over SSH, from the call to the observed exit (code 0 checked):"
              + " the driver keeps one SSH session and opens a channel per engine connection;"
              + " the Docker CLI logs in anew for each command (ssh + docker system dial-stdio"
              + " on the far side) and includes its own removal. Cleanup not timed.");
    }
  }
}
