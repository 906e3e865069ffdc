package dev.orchestra.kubernetes;

import dev.orchestra.Driver;
import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.spi.DriverParams;
import dev.orchestra.spi.DriverProvider;
import dev.orchestra.spi.Names;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.File;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Registers the {@code "kubernetes"} driver with {@link dev.orchestra.Orchestra}: every task a bare
 * pod on a Kubernetes cluster.
 *
 * <pre>{@code
 * try (Driver k8s = Orchestra.open("kubernetes", "build-42")) { ... }
 * try (Driver k8s = Orchestra.open("kubernetes://build-42?context=kind-ci&namespace=ci")) { ... }
 * }</pre>
 *
 * <p>The cluster is found as {@code kubectl} finds it: the {@value #KUBECONFIG} parameter when
 * given, else fabric8's auto-configuration (an in-cluster service account, {@code KUBECONFIG},
 * {@code ~/.kube/config}). Its parameters are {@value #KUBECONFIG}, {@value #CONTEXT}, {@value
 * #NAMESPACE} (the Kubernetes namespace, default the context's, else {@code default}), {@value
 * #STORAGE_CLASS}, {@value #ACCESS_MODE}, {@value #REQUEST_TIMEOUT}, {@value #START_TIMEOUT} and
 * {@value #STOP_GRACE}. What the driver does is described once, on its page in the repository,
 * {@code docs/drivers/kubernetes.md}. The contract it keeps is the Javadoc of {@link Driver}.
 */
public final class KubernetesDriverProvider implements DriverProvider {

  /** The registry name of the driver. */
  public static final String NAME = "kubernetes";

  /** The parameter that names the kubeconfig file to read. */
  public static final String KUBECONFIG = "kubeconfig";

  /** The parameter that names the kubeconfig context to use. */
  public static final String CONTEXT = "context";

  /** The parameter that names the Kubernetes namespace the pods and claims live in. */
  public static final String NAMESPACE = "namespace";

  /** The parameter that names the storage class of the volumes' claims. */
  public static final String STORAGE_CLASS = "storageClass";

  /** The parameter that sets the access mode of the volumes' claims (default ReadWriteOnce). */
  public static final String ACCESS_MODE = "accessMode";

  /** The parameter that bounds each API request that is not a stream. */
  public static final String REQUEST_TIMEOUT = "requestTimeout";

  /**
   * The parameter that sets every pod's {@code terminationGracePeriodSeconds}: the time between
   * SIGTERM and SIGKILL when a task is stopped or times out (default 10 s).
   */
  public static final String STOP_GRACE = "stopGrace";

  /**
   * The parameter that bounds how long {@code runContainer} waits for a new pod's container to run:
   * scheduling and the image pull (default 5 minutes).
   */
  public static final String START_TIMEOUT = "startTimeout";

  static final Duration DEFAULT_START_TIMEOUT = Duration.ofMinutes(5);
  private static final Duration LONGEST_START_TIMEOUT = Duration.ofHours(24);
  static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(30);
  static final Duration DEFAULT_STOP_GRACE = Duration.ofSeconds(10);
  private static final Duration LONGEST_REQUEST_TIMEOUT = Duration.ofHours(1);
  private static final Duration LONGEST_STOP_GRACE = Duration.ofHours(24);
  private static final Set<String> ACCESS_MODES =
      Set.of("ReadWriteOnce", "ReadWriteMany", "ReadWriteOncePod", "ReadOnlyMany");
  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final Pattern DNS_SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");

  /** Creates the provider; does nothing else (the registry instantiates every provider). */
  public KubernetesDriverProvider() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Driver create(String namespace, Map<String, String> params) {
    Names.requireNamespace(namespace);
    DriverParams checked =
        DriverParams.of(
            NAME,
            params,
            Set.of(
                KUBECONFIG,
                CONTEXT,
                NAMESPACE,
                STORAGE_CLASS,
                ACCESS_MODE,
                REQUEST_TIMEOUT,
                START_TIMEOUT,
                STOP_GRACE));
    Settings settings = settings(checked);
    Config config = config(checked, settings.requestTimeout());
    String kubeNamespace =
        checked
            .get(NAMESPACE)
            .map(String::strip)
            .orElseGet(
                () ->
                    Optional.ofNullable(config.getNamespace())
                        .filter(n -> !n.isBlank())
                        .orElse("default"));
    if (!DNS_LABEL.matcher(kubeNamespace).matches()) {
      throw new IllegalArgumentException(
          "parameter '"
              + NAMESPACE
              + "' of driver '"
              + NAME
              + "' must be a Kubernetes namespace name (RFC 1123 label: lowercase letters, digits"
              + " and '-', at most 63), was '"
              + Names.printable(kubeNamespace)
              + "'");
    }
    KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build();
    try {
      return new KubernetesDriver(namespace, client, settings.withKubeNamespace(kubeNamespace));
    } catch (OrchestraInterruptedException e) {
      client.close();
      throw e;
    } catch (RuntimeException e) {
      client.close();
      throw new OrchestraException(
          "driver '"
              + NAME
              + "' cannot watch the pods of Kubernetes namespace '"
              + kubeNamespace
              + "' at "
              + KubeNames.shown(config.getMasterUrl())
              + " (cluster from "
              + checked
                  .get(KUBECONFIG)
                  .map(f -> "kubeconfig " + f)
                  .orElse(
                      "fabric8's auto-configuration: in-cluster service account, KUBECONFIG,"
                          + " ~/.kube/config")
              + Optional.ofNullable(config.getCurrentContext())
                  .map(c -> ", context " + c.getName())
                  .orElse("")
              + "): "
              + e.getMessage(),
          e);
    }
  }

  /**
   * What the driver was configured with, apart from the cluster's address and credentials (which
   * stay in fabric8's {@link Config}, never shown).
   */
  record Settings(
      String kubeNamespace,
      Optional<String> storageClass,
      String accessMode,
      Duration requestTimeout,
      Duration startTimeout,
      Duration stopGrace) {

    Settings withKubeNamespace(String ns) {
      return new Settings(ns, storageClass, accessMode, requestTimeout, startTimeout, stopGrace);
    }

    @Override
    public String toString() {
      return "namespace="
          + kubeNamespace
          + ", storageClass="
          + storageClass.orElse("(cluster default)")
          + ", accessMode="
          + accessMode
          + ", requestTimeout="
          + requestTimeout
          + ", startTimeout="
          + startTimeout
          + ", stopGrace="
          + stopGrace;
    }
  }

  static Settings settings(DriverParams params) {
    Optional<String> storageClass = params.get(STORAGE_CLASS).map(String::strip);
    storageClass.ifPresent(
        s -> {
          if (!DNS_SUBDOMAIN.matcher(s).matches()) {
            throw new IllegalArgumentException(
                "parameter '"
                    + STORAGE_CLASS
                    + "' of driver '"
                    + NAME
                    + "' must be a storage class name (RFC 1123 subdomain), was '"
                    + Names.printable(s)
                    + "'");
          }
        });
    String accessMode = params.get(ACCESS_MODE).map(String::strip).orElse("ReadWriteOnce");
    if (!ACCESS_MODES.contains(accessMode)) {
      throw new IllegalArgumentException(
          "parameter '"
              + ACCESS_MODE
              + "' of driver '"
              + NAME
              + "' must be one of "
              + String.join(", ", new java.util.TreeSet<>(ACCESS_MODES))
              + ", was '"
              + Names.printable(accessMode)
              + "'");
    }
    Duration requestTimeout =
        bounded(params, REQUEST_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, LONGEST_REQUEST_TIMEOUT);
    Duration startTimeout =
        bounded(params, START_TIMEOUT, DEFAULT_START_TIMEOUT, LONGEST_START_TIMEOUT);
    Duration stopGrace = bounded(params, STOP_GRACE, DEFAULT_STOP_GRACE, LONGEST_STOP_GRACE);
    return new Settings(
        "default", storageClass, accessMode, requestTimeout, startTimeout, stopGrace);
  }

  private static Duration bounded(
      DriverParams params, String name, Duration byDefault, Duration longest) {
    Duration d = params.getDuration(name).orElse(byDefault);
    if (d.compareTo(Duration.ofSeconds(1)) < 0 || d.compareTo(longest) > 0) {
      throw new IllegalArgumentException(
          "parameter '"
              + name
              + "' of driver '"
              + NAME
              + "' must be from PT1S to "
              + longest
              + ", was '"
              + params.get(name).orElse("")
              + "'");
    }
    return d;
  }

  /**
   * The client's configuration, as {@code kubectl} would find it. Messages never carry the
   * configuration itself (it may hold tokens and keys), only the file and context names.
   */
  static Config config(DriverParams params, Duration requestTimeout) {
    Optional<String> context = params.get(CONTEXT).map(String::strip);
    context.ifPresent(c -> Names.requireText("parameter '" + CONTEXT + "'", c));
    Config config;
    Optional<String> file = params.get(KUBECONFIG);
    try {
      if (file.isPresent()) {
        File f = new File(file.get());
        if (!f.isFile()) {
          throw new IllegalArgumentException(
              "parameter '"
                  + KUBECONFIG
                  + "' of driver '"
                  + NAME
                  + "' must name a readable kubeconfig file, was '"
                  + Names.printable(file.get())
                  + "' (no such file)");
        }
        config = Config.fromKubeconfig(context.orElse(null), f);
      } else {
        config = Config.autoConfigure(context.orElse(null));
      }
    } catch (IllegalArgumentException e) {
      throw e;
    } catch (RuntimeException e) {
      // fabric8's messages name files and contexts, never credentials; its cause is kept out so
      // that no parser excerpt of the file reaches a log.
      throw new OrchestraException(
          "driver '"
              + NAME
              + "' could not read its cluster configuration ("
              + file.map(f -> "kubeconfig " + f).orElse("auto-configuration")
              + context.map(c -> ", context " + c).orElse("")
              + "): "
              + e.getClass().getSimpleName()
              + ": "
              + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
    }
    if (context.isPresent()
        && (config.getCurrentContext() == null
            || !context.get().equals(config.getCurrentContext().getName()))) {
      throw new IllegalArgumentException(
          "parameter '"
              + CONTEXT
              + "' of driver '"
              + NAME
              + "' names no context of "
              + file.map(f -> "kubeconfig " + f).orElse("the kubeconfig found")
              + ", was '"
              + Names.printable(context.get())
              + "'");
    }
    int millis = (int) Math.min(Integer.MAX_VALUE, requestTimeout.toMillis());
    config.setRequestTimeout(millis);
    config.setConnectionTimeout(millis);
    // one retry at most: fabric8 retries a failed request up to 10 times with a doubling pause by
    // default, which would stretch a call to an unreachable server far beyond requestTimeout
    config.setRequestRetryBackoffLimit(1);
    return config;
  }
}
