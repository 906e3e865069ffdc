package dev.orchestra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.orchestra.spi.DriverProvider;
import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Drivers that only a later class loader sees, as in a host that loads each plug-in with a class
 * loader of its own: two providers, compiled when the tests start into jars of their own that are
 * not on the test class path, each seen through a {@link URLClassLoader} of its own.
 */
class ClassLoaderLookupTest {

  @TempDir static Path dir;

  private static final Map<String, Path> JARS = new HashMap<>();

  @BeforeAll
  static void compilePlugins() throws Exception {
    for (String name : List.of("plugin-a", "plugin-b")) {
      JARS.put(name, jarWith(name));
    }
  }

  @Test
  void theDefaultRegistryMissesALaterPluginThatTheLookupByItsLoaderFinds() throws Exception {
    // The default registry is made on first use, with the context class loader of that moment.
    assertThat(Orchestra.drivers()).doesNotContain("plugin-a");
    try (URLClassLoader plugin = pluginWith("plugin-a")) {
      ClassLoader context = Thread.currentThread().getContextClassLoader();
      Thread.currentThread().setContextClassLoader(plugin);
      try {
        assertThat(Orchestra.drivers()).as("the default registry").doesNotContain("plugin-a");
        assertThatThrownBy(() -> Orchestra.open("plugin-a", "ns"))
            .isInstanceOf(DriverNotFoundException.class);
      } finally {
        Thread.currentThread().setContextClassLoader(context);
      }

      assertThat(Orchestra.drivers(plugin)).as("the plug-in's drivers").contains("plugin-a");
      try (Driver byName = Orchestra.open("plugin-a", "ns", Map.of(), plugin);
          Driver byUri = Orchestra.open("plugin-a://ns", plugin);
          Driver byUriAndMap = Orchestra.open(new URI("plugin-a://ns"), Map.of(), plugin)) {
        assertThat(List.of(byName.name(), byUri.name(), byUriAndMap.name()))
            .containsOnly("plugin-a");
        assertThat(byName.getClass().getClassLoader()).isSameAs(plugin);
      }
    }
  }

  @Test
  void twoLoadersWithDifferentDriversSeeDifferentSets() throws Exception {
    try (URLClassLoader a = pluginWith("plugin-a");
        URLClassLoader b = pluginWith("plugin-b")) {
      assertThat(Orchestra.drivers(a)).contains("plugin-a").doesNotContain("plugin-b");
      assertThat(Orchestra.drivers(b)).contains("plugin-b").doesNotContain("plugin-a");
      assertThatThrownBy(() -> Orchestra.open("plugin-b", "ns", Map.of(), a))
          .isInstanceOf(DriverNotFoundException.class)
          .hasMessageContaining("'plugin-b'")
          .hasMessageContaining("plugin-a");
      try (Driver driver = Orchestra.open("plugin-b", "ns", Map.of(), b)) {
        assertThat(driver.getClass().getClassLoader()).isSameAs(b);
      }
    }
  }

  @Test
  void aNullLoaderIsRefused() {
    assertThatThrownBy(() -> Orchestra.drivers(null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("class loader");
    assertThatThrownBy(() -> Orchestra.open("local", "ns", Map.of(), null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("class loader");
  }

  /** A class loader of its own, child of the test's, over the jar of the driver {@code name}. */
  private URLClassLoader pluginWith(String name) throws IOException {
    return new URLClassLoader(
        new URL[] {JARS.get(name).toUri().toURL()}, getClass().getClassLoader());
  }

  /** A jar holding one compiled provider of the driver {@code name} and its service file. */
  private static Path jarWith(String name) throws IOException, URISyntaxException {
    String pkg = "plugin." + name.replace('-', '_');
    Path sources = dir.resolve(name + "-src");
    Path classes = dir.resolve(name + "-classes");
    Path source = sources.resolve(pkg.replace('.', '/')).resolve("Provider.java");
    Files.createDirectories(source.getParent());
    Files.createDirectories(classes);
    Files.writeString(
        source,
        """
        package %s;

        import dev.orchestra.Container;
        import dev.orchestra.Driver;
        import dev.orchestra.Task;
        import dev.orchestra.Volume;
        import dev.orchestra.spi.DriverProvider;
        import java.util.Map;

        public final class Provider implements DriverProvider {
          @Override
          public String name() {
            return "%s";
          }

          @Override
          public Driver create(String namespace, Map<String, String> params) {
            return new Driver() {
              @Override
              public String name() {
                return "%s";
              }

              @Override
              public Container runContainer(Task task) {
                throw new UnsupportedOperationException();
              }

              @Override
              public Volume createVolume(String volume, long sizeBytes) {
                throw new UnsupportedOperationException();
              }

              @Override
              public void close() {}
            };
          }
        }
        """
            .formatted(pkg, name, name));
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    assertThat(javac).as("the JDK's compiler").isNotNull();
    String api =
        Path.of(DriverProvider.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            .toString();
    StringWriter errors = new StringWriter();
    int status =
        javac.run(
            null,
            null,
            new WriterStream(errors),
            "-d",
            classes.toString(),
            "-classpath",
            api,
            source.toString());
    assertThat(status).as("compiling %s: %s", source, errors).isZero();

    Path jar = dir.resolve(name + ".jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
        Stream<Path> files = Files.walk(classes)) {
      for (Path file : files.filter(Files::isRegularFile).toList()) {
        out.putNextEntry(new JarEntry(classes.relativize(file).toString().replace('\\', '/')));
        out.write(Files.readAllBytes(file));
        out.closeEntry();
      }
      out.putNextEntry(new JarEntry("META-INF/services/" + DriverProvider.class.getName()));
      out.write((pkg + ".Provider\n").getBytes(StandardCharsets.UTF_8));
      out.closeEntry();
    }
    return jar;
  }

  /** The compiler's diagnostics, into a writer. */
  private static final class WriterStream extends OutputStream {
    private final StringWriter target;

    WriterStream(StringWriter target) {
      this.target = target;
    }

    @Override
    public void write(int b) {
      target.write(b);
    }
  }
}
