package dev.orchestra.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.orchestra.Capability;
import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import dev.orchestra.Task;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cache on a real driver, the local one: a build writes into a volume, the cache saves it, and
 * the next build (another namespace, as on another CI run) starts with it restored.
 */
class LocalDriverCacheTest {

  @TempDir Path temp;

  @Test
  void theNextBuildSeesWhatThePreviousBuildSaved() throws Exception {
    var store = new DirectoryStore(temp.resolve("store"));
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    try (Driver build1 = Orchestra.open("local", "cache-build1-" + suffix)) {
      assertThat(build1.capabilities()).contains(Capability.VOLUME_DATA);
      var cache = VolumeCache.of(build1, store);
      var restored = cache.restore("deps", "deps-v1");
      assertThat(restored.hit()).isFalse();
      assertThat(run(build1, "write", "mkdir -p deps/repo && echo resolved > deps/repo/lib.jar"))
          .isEmpty();
      assertThat(cache.save(restored.volume(), "deps-v1")).isTrue();
    }
    assertThat(Files.list(store.directory())).hasSize(1);

    try (Driver build2 = Orchestra.open("local", "cache-build2-" + suffix)) {
      var restored = VolumeCache.of(build2, store).restore("deps", "deps-v1");
      assertThat(restored.hit()).isTrue();
      assertThat(run(build2, "read", "cat deps/repo/lib.jar")).isEqualTo("resolved\n");
    }
  }

  private static String run(Driver driver, String id, String script) throws Exception {
    var container =
        driver.runContainer(
            Task.builder().id(id).command("sh", "-c", script).mount("deps", "deps").build());
    assertThat(container.await(Duration.ofMinutes(1)).exitCode()).isZero();
    var out = new ByteArrayOutputStream();
    container.logs(out, new ByteArrayOutputStream());
    return out.toString(StandardCharsets.UTF_8);
  }
}
