package dev.orchestra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.orchestra.spi.DriverProvider;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DriverRegistryTest {

  @TempDir Path dir;

  /** A class loader whose service file lists the given provider class names. */
  private ClassLoader loaderListing(String... classNames) throws IOException {
    Path services = dir.resolve("META-INF/services");
    Files.createDirectories(services);
    Files.write(services.resolve(DriverProvider.class.getName()), List.of(classNames));
    return new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader());
  }

  @Test
  void findsProvidersByName() throws IOException {
    DriverRegistry registry =
        DriverRegistry.load(List.of(loaderListing(Alpha.class.getName(), Beta.class.getName())));

    assertThat(registry.names()).containsExactly("alpha", "beta");
    try (Driver driver = registry.open("alpha", "ns-1", Map.of("k", "v"), Map.of())) {
      assertThat(driver.name()).isEqualTo("alpha");
      assertThat(((NamedDriver) driver).namespace).isEqualTo("ns-1");
      assertThat(((NamedDriver) driver).params).containsEntry("k", "v");
    }
  }

  @Test
  void unknownNameListsTheAvailableOnes() throws IOException {
    DriverRegistry registry =
        DriverRegistry.load(List.of(loaderListing(Alpha.class.getName(), Beta.class.getName())));

    assertThatThrownBy(() -> registry.open("gamma", "ns", Map.of(), Map.of()))
        .isInstanceOf(DriverNotFoundException.class)
        .hasMessageContaining("'gamma'")
        .hasMessageContaining("alpha, beta");
  }

  @Test
  void providersThatFailToLoadAreSkipped() throws IOException {
    DriverRegistry registry =
        DriverRegistry.load(
            List.of(
                loaderListing(
                    "dev.orchestra.NoSuchProvider",
                    Exploding.class.getName(),
                    Alpha.class.getName(),
                    Nameless.class.getName())));

    assertThat(registry.names()).containsExactly("alpha");
  }

  @Test
  void duplicateNamesAreAnErrorNamingBothClasses() throws IOException {
    DriverRegistry registry =
        DriverRegistry.load(
            List.of(loaderListing(Alpha.class.getName(), OtherAlpha.class.getName())));

    assertThat(registry.names()).containsExactly("alpha");
    assertThatThrownBy(() -> registry.open("alpha", "ns", Map.of(), Map.of()))
        .isInstanceOf(OrchestraException.class)
        .hasMessageContaining(Alpha.class.getName())
        .hasMessageContaining(OtherAlpha.class.getName());
  }

  @Test
  void aProviderSeenThroughTwoLoadersCountsOnce() throws IOException {
    ClassLoader loader = loaderListing(Alpha.class.getName());

    DriverRegistry registry = DriverRegistry.load(List.of(loader, loader));

    assertThat(registry.open("alpha", "ns", Map.of(), Map.of()).name()).isEqualTo("alpha");
  }

  @Test
  void checksNamespaceAndParams() throws IOException {
    DriverRegistry registry = DriverRegistry.load(List.of(loaderListing(Alpha.class.getName())));

    assertThatThrownBy(() -> registry.open("alpha", " ", Map.of(), Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("namespace");
    assertThatThrownBy(() -> registry.open("alpha", null, Map.of(), Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("namespace");
    assertThatThrownBy(() -> registry.open("alpha", "ns", null, Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("params");
  }

  @Test
  void wrapsUnexpectedProviderFailures() throws IOException {
    DriverRegistry registry = DriverRegistry.load(List.of(loaderListing(Broken.class.getName())));

    assertThatThrownBy(() -> registry.open("broken", "ns", Map.of(), Map.of()))
        .isExactlyInstanceOf(OrchestraException.class)
        .hasMessageContaining("'broken'")
        .hasMessageContaining("'ns'")
        .hasRootCauseInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void opensByUriWithPercentDecodedParams() throws IOException {
    DriverRegistry registry = DriverRegistry.load(List.of(loaderListing(Alpha.class.getName())));

    NamedDriver driver =
        (NamedDriver)
            registry.open(
                DriverRegistry.parse(
                    "ALPHA://build-42?host=tcp://10.0.0.5:2376&pull=never&label=a%20b%2Bc+d%C3%A9😀&empty="),
                Map.of(),
                Map.of());

    assertThat(driver.namespace).isEqualTo("build-42");
    assertThat(driver.params)
        .containsEntry("host", "tcp://10.0.0.5:2376")
        .containsEntry("pull", "never")
        .containsEntry("label", "a b+c+d\u00e9\uD83D\uDE00")
        .containsEntry("empty", "");
  }

  @Test
  void opensByUriWhoseParamIsAnSshAddressWithUserPortAndPath() throws IOException {
    DriverRegistry registry = DriverRegistry.load(List.of(loaderListing(Alpha.class.getName())));

    NamedDriver driver =
        (NamedDriver)
            registry.open(
                DriverRegistry.parse(
                    "alpha://ns?host=ssh://ci@10.0.0.5:2222/run/podman/podman.sock"
                        + "&identityFile=/home/ci/.ssh/id_ed25519"),
                Map.of(),
                Map.of());

    assertThat(driver.namespace).isEqualTo("ns");
    assertThat(driver.params)
        .containsEntry("host", "ssh://ci@10.0.0.5:2222/run/podman/podman.sock")
        .containsEntry("identityFile", "/home/ci/.ssh/id_ed25519");
  }

  @Test
  void explicitParamsWinOverTheUriWhichWinsOverTheEnvironment() throws IOException {
    DriverRegistry registry = DriverRegistry.load(List.of(loaderListing(Alpha.class.getName())));
    Map<String, String> env =
        Map.of(
            "ORCHESTRA_ALPHA_HOST", "from-env",
            "ORCHESTRA_ALPHA_PULL", "from-env",
            "ORCHESTRA_ALPHA_ROOT", "from-env",
            "ORCHESTRA_BETA_HOST", "other driver");

    NamedDriver driver =
        (NamedDriver)
            registry.open(
                DriverRegistry.parse("alpha://ns?host=from-uri&pull=from-uri"),
                Map.of("host", "from-map"),
                env);

    assertThat(driver.params)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("host", "from-map", "pull", "from-uri", "root", "from-env"));
    NamedDriver plain = (NamedDriver) registry.open("alpha", "ns", Map.of(), env);
    assertThat(plain.params).containsEntry("host", "from-env");
  }

  @Test
  void anEnvironmentVariableInUpperSnakeCaseGivesACamelCaseParameter() {
    assertThat(
            DriverRegistry.environmentParams(
                "docker",
                Map.of(
                    "ORCHESTRA_DOCKER_REQUEST_TIMEOUT", "30",
                    "ORCHESTRA_DOCKER_HOST", "tcp://h:2375",
                    "ORCHESTRA_DOCKERX_HOST", "another driver",
                    "ORCHESTRA_DOCKER_", "no name")))
        .containsExactlyInAnyOrderEntriesOf(Map.of("requestTimeout", "30", "host", "tcp://h:2375"));
  }

  @Test
  void refusesMalformedUrisWithoutShowingTheirQuery() throws IOException {
    DriverRegistry registry = DriverRegistry.load(List.of(loaderListing(Alpha.class.getName())));

    assertThatThrownBy(() -> DriverRegistry.parse("alpha://ns?token=s3cret&x=%zz bad"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageNotContaining("s3cret");
    assertThatThrownBy(
            () ->
                registry.open(
                    DriverRegistry.parse("alpha://ns/path?token=s3cret"), Map.of(), Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("path")
        .hasMessageNotContaining("s3cret");
    assertThatThrownBy(
            () -> registry.open(DriverRegistry.parse("alpha://ns?a=1&a=2"), Map.of(), Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'a' twice");
    assertThatThrownBy(
            () -> registry.open(DriverRegistry.parse("alpha://ns?x=%4"), Map.of(), Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("malformed");
    assertThatThrownBy(() -> registry.open(DriverRegistry.parse("alpha:ns"), Map.of(), Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("driver://namespace");
    assertThatThrownBy(() -> registry.open(DriverRegistry.parse("gamma://ns"), Map.of(), Map.of()))
        .isInstanceOf(DriverNotFoundException.class);
  }

  @Test
  void aDriverNameWithoutANamespaceShowsBothWaysToNameOne() {
    for (String text : List.of("alpha", "alpha:", "alpha://")) {
      assertThatThrownBy(() -> DriverRegistry.parse(text))
          .as(text)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("'" + text + "' names driver 'alpha' but no namespace")
          .hasMessageContaining("alpha://<namespace>")
          .hasMessageContaining("Orchestra.open(\"alpha\", \"<namespace>\")");
    }
    assertThatThrownBy(() -> Orchestra.open("local"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("local://<namespace>")
        .hasMessageContaining("Orchestra.open(\"local\", \"<namespace>\")");
    assertThatThrownBy(() -> Orchestra.open(URI.create("alpha"), Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Orchestra.open(\"alpha\", \"<namespace>\")");
  }

  @Test
  void noExceptionCarriesTheValueOfASecretParameter() throws IOException {
    DriverRegistry registry =
        DriverRegistry.load(List.of(loaderListing(Alpha.class.getName(), Leaky.class.getName())));
    Map<String, ThrowingCallable> opens = new LinkedHashMap<>();
    opens.put("a space in the query", () -> DriverRegistry.parse("alpha://ns?token=hunter2 x"));
    opens.put("a bad escape", () -> DriverRegistry.parse("alpha://ns?token=hunter2&x=%zz"));
    opens.put("a bad escape first", () -> DriverRegistry.parse("alpha://ns?x=%zz&token=hunter2"));
    opens.put("a fragment", () -> DriverRegistry.parse("alpha://ns#token=hunter2 x"));
    opens.put(
        "an opaque URI",
        () -> registry.open(DriverRegistry.parse("alpha:ns?token=hunter2"), Map.of(), Map.of()));
    opens.put(
        "a path",
        () ->
            registry.open(DriverRegistry.parse("alpha://ns/p?token=hunter2"), Map.of(), Map.of()));
    opens.put(
        "a repeated parameter",
        () ->
            registry.open(
                DriverRegistry.parse("alpha://ns?token=hunter2&token=hunter2"),
                Map.of(),
                Map.of()));
    for (String thrown : List.of("illegal", "orchestra", "interrupted", "other")) {
      opens.put(
          "a provider that throws (" + thrown + ") showing its parameters",
          () ->
              registry.open(
                  DriverRegistry.parse("leaky://ns?api-token=hunter2&throw=" + thrown),
                  Map.of(),
                  Map.of()));
    }
    opens.put(
        "a provider that shows a secret from the environment",
        () ->
            registry.open(
                "leaky",
                "ns",
                Map.of("throw", "illegal"),
                Map.of("ORCHESTRA_LEAKY_PASSWORD", "hunter2")));

    Map<String, String> shown = new LinkedHashMap<>();
    opens.forEach(
        (what, open) -> {
          Throwable e = catchThrowable(open);
          shown.put(what, e == null ? "nothing thrown" : everythingShownOf(e));
        });

    assertThat(shown)
        .as("everything each exception shows")
        .allSatisfy((what, text) -> assertThat(text).as(what).doesNotContain("hunter2"))
        .doesNotContainValue("nothing thrown");
  }

  @Test
  void anExceptionThatShowedASecretKeepsItsKindItsCausesAndItsStackTrace() throws IOException {
    DriverRegistry registry = DriverRegistry.load(List.of(loaderListing(Leaky.class.getName())));
    Map<String, String> params = Map.of("api-token", "hunter2", "throw", "illegal");

    Throwable e = catchThrowable(() -> registry.open("leaky", "ns", params, Map.of()));

    assertThat(e)
        .isExactlyInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("api-token=****")
        .hasMessageContaining("throw=illegal");
    assertThat(e.getStackTrace()[0].getClassName()).isEqualTo(Leaky.class.getName());
    assertThat(e.getCause()).hasMessageStartingWith("java.io.IOException: cannot log in with ****");
    assertThat(e.getCause().getCause()).hasMessage("java.lang.IllegalStateException: ****");
    assertThat(e.getSuppressed()).singleElement().hasToString("java.io.IOException: ****");
    assertThat(
            catchThrowable(() -> registry.open("leaky", "ns", Map.of("throw", "other"), Map.of())))
        .as("what a provider throws when no secret was given")
        .isExactlyInstanceOf(OrchestraException.class)
        .hasCauseExactlyInstanceOf(IllegalStateException.class);
  }

  /** Everything a log of the exception could show: its stack trace, causes and suppressed ones. */
  private static String everythingShownOf(Throwable e) {
    StringWriter text = new StringWriter();
    e.printStackTrace(new PrintWriter(text));
    for (Throwable t = e; t != null; t = t.getCause()) {
      text.append(t.getMessage()).append(t.getLocalizedMessage()).append(t.toString());
    }
    return text.toString();
  }

  @Test
  void theFacadeUsesTheClassPath() {
    // orchestra-api ships no driver; the facade must answer, not fail
    assertThat(Orchestra.drivers()).doesNotContainNull();
    assertThatThrownBy(() -> Orchestra.open("no-such-driver", "ns"))
        .isInstanceOf(DriverNotFoundException.class)
        .hasMessageContaining("no-such-driver");
  }

  /** Just enough of a driver to tell which provider opened it. */
  static final class NamedDriver implements Driver {
    final String name;
    final String namespace;
    final Map<String, String> params;

    NamedDriver(String name, String namespace, Map<String, String> params) {
      this.name = name;
      this.namespace = namespace;
      this.params = params;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public Container runContainer(Task task) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Volume createVolume(String name, long sizeBytes) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void close() {}
  }

  public static class Alpha implements DriverProvider {
    @Override
    public String name() {
      return "alpha";
    }

    @Override
    public Driver create(String namespace, Map<String, String> params) {
      return new NamedDriver(name(), namespace, params);
    }
  }

  public static class OtherAlpha extends Alpha {}

  public static class Beta extends Alpha {
    @Override
    public String name() {
      return "beta";
    }
  }

  public static class Nameless extends Alpha {
    @Override
    public String name() {
      return " ";
    }
  }

  public static class Exploding extends Alpha {
    public Exploding() {
      throw new IllegalStateException("cannot start");
    }
  }

  /** Throws what its parameter {@code throw} asks for, showing every parameter it was given. */
  public static class Leaky extends Alpha {
    @Override
    public String name() {
      return "leaky";
    }

    @Override
    public Driver create(String namespace, Map<String, String> params) {
      String secret = params.getOrDefault("api-token", params.getOrDefault("password", "none"));
      IOException login = new IOException("cannot log in with " + secret);
      login.initCause(new IllegalStateException(secret));
      String message = "cannot open with " + params;
      RuntimeException e =
          switch (params.get("throw")) {
            case "illegal" -> new IllegalArgumentException(message, login);
            case "orchestra" -> new OrchestraException(message, login);
            case "interrupted" -> new OrchestraInterruptedException(message, login);
            default -> new IllegalStateException(message, login);
          };
      e.addSuppressed(new IOException(secret));
      throw e;
    }
  }

  public static class Broken extends Alpha {
    @Override
    public String name() {
      return "broken";
    }

    @Override
    public Driver create(String namespace, Map<String, String> params) {
      throw new UnsupportedOperationException("oops");
    }
  }
}
