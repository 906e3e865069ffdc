package dev.orchestra.kubernetes;

import dev.orchestra.Mount;
import dev.orchestra.Task;
import dev.orchestra.spi.TaskPaths;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a {@link Task} into the pod that runs it: one container named {@value KubeNames#CONTAINER},
 * {@code restartPolicy: Never}, the task directory an {@code emptyDir} at {@value #TASK_DIR}.
 *
 * <p>Kubernetes expands {@code $(NAME)} in a container's command, arguments and environment values
 * (and turns {@code $$} into {@code $}); every {@code $} is therefore written as {@code $$}, so
 * that the task sees its values exactly as given.
 */
final class PodSpecs {

  /** Where the task directory is mounted in the container; its working directory by default. */
  static final String TASK_DIR = "/orchestra/task";

  private static final String TASK_DIR_VOLUME = "task-dir";
  private static final Pattern NUMERIC_USER = Pattern.compile("(\\d+)(?::(\\d+))?");

  private PodSpecs() {}

  /**
   * The pod of a task. Checks everything the task asks for first: a task that cannot be expressed
   * fails here, before anything is created.
   *
   * <p>A timeout becomes {@code activeDeadlineSeconds}, which the kubelet counts from the pod's
   * start, before its container is created (image pull and scheduling included). So the pod is
   * created with the timeout plus {@code startAllowance} (the driver's {@code startTimeout}), and
   * shortened once its container runs ({@link #deadlineAfterStart}): a busy node's slow start does
   * not eat the task's time, and a client that goes away before that still leaves a bound.
   *
   * @param claims the claim name of every volume the task mounts, by volume name
   * @throws IllegalArgumentException naming the bad value
   */
  static Pod pod(
      String namespace,
      String podName,
      Task task,
      Map<String, String> claims,
      Duration stopGrace,
      Duration startAllowance,
      Map<String, String> extraAnnotations) {
    String image =
        task.image()
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "task '"
                            + task.id()
                            + "' has no image; the kubernetes driver runs every task in one"));
    String workDir =
        task.workDir().map(w -> TaskPaths.resolve(TASK_DIR, "workDir", w)).orElse(TASK_DIR);

    List<Volume> volumes = new ArrayList<>();
    List<VolumeMount> mounts = new ArrayList<>();
    volumes.add(
        new VolumeBuilder().withName(TASK_DIR_VOLUME).withNewEmptyDir().endEmptyDir().build());
    mounts.add(new VolumeMountBuilder().withName(TASK_DIR_VOLUME).withMountPath(TASK_DIR).build());
    int i = 0;
    for (Mount m : task.mounts()) {
      String target = TaskPaths.resolve(TASK_DIR, "mount path", m.path());
      String podVolume = "vol-" + i++;
      volumes.add(
          new VolumeBuilder()
              .withName(podVolume)
              .withNewPersistentVolumeClaim()
              .withClaimName(claims.get(m.name()))
              .endPersistentVolumeClaim()
              .build());
      mounts.add(new VolumeMountBuilder().withName(podVolume).withMountPath(target).build());
    }

    List<EnvVar> env = new ArrayList<>();
    task.env().forEach((k, v) -> env.add(new EnvVar(k, escape(v), null)));

    SecurityContextBuilder security = new SecurityContextBuilder();
    if (task.privileged()) {
      security.withPrivileged(true);
    }
    task.user()
        .ifPresent(
            u -> {
              long[] ids = numericUser(task.id(), u);
              security.withRunAsUser(ids[0]);
              if (ids[1] >= 0) {
                security.withRunAsGroup(ids[1]);
              }
            });

    ResourceRequirementsBuilder resources = new ResourceRequirementsBuilder();
    long memory = task.limits().memoryBytes();
    if (memory > 0) {
      Quantity q = new Quantity(Long.toString(memory));
      resources.addToLimits("memory", q).addToRequests("memory", q);
    }
    long shares = task.limits().cpuShares();
    if (shares > 0) {
      resources.addToRequests("cpu", new Quantity(milliCpu(shares) + "m"));
    }

    Map<String, String> labels = new HashMap<>();
    labels.put(KubeNames.NAMESPACE_LABEL, KubeNames.labelValue(namespace));
    labels.put(KubeNames.TASK_LABEL, KubeNames.labelValue(task.id()));
    Map<String, String> annotations = new HashMap<>(extraAnnotations);
    annotations.put(KubeNames.NAMESPACE_ANNOTATION, namespace);
    annotations.put(KubeNames.TASK_ANNOTATION, task.id());

    Long deadline =
        task.timeout()
            .filter(t -> deadlineSeconds(t) != null)
            .map(t -> deadlineSeconds(t.plus(startAllowance)))
            .orElse(null);
    boolean stdin = task.stdin().isPresent();
    return new PodBuilder()
        .withNewMetadata()
        .withName(podName)
        .withLabels(labels)
        .withAnnotations(annotations)
        .endMetadata()
        .withNewSpec()
        .withRestartPolicy("Never")
        // The pod's pause process is PID 1, not the task: a task's own 'kill -9 $$' then kills it
        // (PID 1 of a namespace ignores the signals it has no handler for), and orphans it leaves
        // are reaped, as the Docker driver's init process does.
        .withShareProcessNamespace(true)
        .withActiveDeadlineSeconds(deadline)
        .withTerminationGracePeriodSeconds(Math.max(1L, stopGrace.toSeconds()))
        .withEnableServiceLinks(false)
        .withAutomountServiceAccountToken(false)
        .withVolumes(volumes)
        .addNewContainer()
        .withName(KubeNames.CONTAINER)
        .withImage(image)
        .withCommand(task.command().stream().map(PodSpecs::escape).toList())
        .withEnv(env)
        .withWorkingDir(workDir)
        .withVolumeMounts(mounts)
        .withStdin(stdin ? Boolean.TRUE : null)
        .withStdinOnce(stdin ? Boolean.TRUE : null)
        .withSecurityContext(task.privileged() || task.user().isPresent() ? security.build() : null)
        .withResources(memory > 0 || shares > 0 ? resources.build() : null)
        .endContainer()
        .endSpec()
        .build();
  }

  /**
   * CPU shares as a CPU request: the kubelet gives a container {@code requests.cpu} in millicores
   * times 1024 / 1000 as its cgroup {@code cpu.shares}, so shares become {@code ceil(shares * 1000
   * / 1024)} millicores: 1024 shares are one CPU, 512 half of one. A request is a relative weight
   * under contention, as shares are, and never a cap (no CPU limit is set).
   */
  static long milliCpu(long shares) {
    return Math.max(1, (shares * 1000 + 1023) / 1024);
  }

  /**
   * A timeout as {@code activeDeadlineSeconds}: whole seconds, rounded up, at least 1; null (no
   * deadline) for a timeout too long for the field, which the API server bounds at 2^31 - 1 seconds
   * (68 years): such a timeout is no limit in practice ({@code ChronoUnit.FOREVER}).
   */
  static Long deadlineSeconds(Duration timeout) {
    if (timeout.getSeconds() >= Integer.MAX_VALUE) {
      return null;
    }
    long s = timeout.getSeconds() + (timeout.getNano() > 0 ? 1 : 0);
    return Math.max(1, s);
  }

  /**
   * The deadline that gives the task its whole timeout from its container's start: the seconds from
   * the pod's start to the container's (both as the API shows them, truncated to the second, hence
   * one second more) plus the timeout; null when the pod does not show both starts.
   */
  static Long deadlineAfterStart(Pod pod, Duration timeout) {
    Long seconds = deadlineSeconds(timeout);
    io.fabric8.kubernetes.api.model.ContainerStatus task = KubernetesContainer.taskStatus(pod);
    if (seconds == null
        || pod.getStatus() == null
        || pod.getStatus().getStartTime() == null
        || task == null
        || task.getState() == null
        || task.getState().getRunning() == null
        || task.getState().getRunning().getStartedAt() == null) {
      return null;
    }
    try {
      long podStart = java.time.Instant.parse(pod.getStatus().getStartTime()).getEpochSecond();
      long containerStart =
          java.time.Instant.parse(task.getState().getRunning().getStartedAt()).getEpochSecond();
      return Math.max(0, containerStart - podStart) + 1 + seconds;
    } catch (java.time.format.DateTimeParseException e) {
      return null;
    }
  }

  /**
   * A user as {@code runAsUser} and {@code runAsGroup} ({@code -1} when absent).
   *
   * @throws IllegalArgumentException for a name: Kubernetes runs a container as numeric ids only
   *     ({@code securityContext.runAsUser}); it cannot look a name up in the image
   */
  static long[] numericUser(String taskId, String user) {
    Matcher m = NUMERIC_USER.matcher(user);
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "user of task '"
              + taskId
              + "' must be numeric, uid or uid:gid, for the kubernetes driver, was '"
              + user
              + "': Kubernetes sets a container's user by number only (securityContext.runAsUser"
              + " and runAsGroup) and cannot resolve a name in the image");
    }
    if (m.group(1).length() > 10 || (m.group(2) != null && m.group(2).length() > 10)) {
      throw new IllegalArgumentException(
          "user of task '" + taskId + "' is out of range (at most 2147483647), was '" + user + "'");
    }
    long uid = Long.parseLong(m.group(1));
    long gid = m.group(2) == null ? -1 : Long.parseLong(m.group(2));
    if (uid > Integer.MAX_VALUE || gid > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "user of task '" + taskId + "' is out of range (at most 2147483647), was '" + user + "'");
    }
    return new long[] {uid, gid};
  }

  /** Writes every {@code $} as {@code $$}, which Kubernetes' variable expansion turns back. */
  static String escape(String value) {
    return value.replace("$", "$$");
  }
}
