package dev.orchestra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TaskTest {

  private static Task.Builder valid() {
    return Task.builder().id("build-1").command("echo", "hi");
  }

  @Test
  void buildsWithDefaults() {
    Task task = valid().build();

    assertThat(task.id()).isEqualTo("build-1");
    assertThat(task.command()).containsExactly("echo", "hi");
    assertThat(task.image()).isEmpty();
    assertThat(task.env()).isEmpty();
    assertThat(task.mounts()).isEmpty();
    assertThat(task.limits()).isEqualTo(ContainerLimits.NONE);
    assertThat(task.privileged()).isFalse();
    assertThat(task.user()).isEmpty();
    assertThat(task.stdin()).isEmpty();
    assertThat(task.workDir()).isEmpty();
  }

  @Test
  void keepsEveryOption() {
    Task task =
        valid()
            .image("busybox:1.36")
            .env("A", "x y=z")
            .env(Map.of("EMPTY", ""))
            .mount("cache", "/cache/m2")
            .limits(new ContainerLimits(512, 128L << 20))
            .privileged(true)
            .user("nobody")
            .workDir("/src/")
            .stdin("grüße")
            .build();

    assertThat(task.image()).contains("busybox:1.36");
    assertThat(task.env()).containsEntry("A", "x y=z").containsEntry("EMPTY", "");
    assertThat(task.mounts()).containsExactly(new Mount("cache", "/cache/m2"));
    assertThat(task.limits().memoryBytes()).isEqualTo(128L << 20);
    assertThat(task.privileged()).isTrue();
    assertThat(task.user()).contains("nobody");
    assertThat(task.workDir()).contains("src");
    assertThat(task.stdin().orElseThrow())
        .hasBinaryContent("grüße".getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void collectionsAreImmutableCopies() {
    List<String> command = new ArrayList<>(List.of("echo", "a"));
    Map<String, String> env = new HashMap<>(Map.of("K", "v"));
    Task task = Task.builder().id("t").command(command).env(env).build();
    command.add("b");
    env.put("L", "w");

    assertThat(task.command()).containsExactly("echo", "a");
    assertThat(task.env()).containsOnlyKeys("K");
    assertThatThrownBy(() -> task.command().add("x"))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> task.env().put("x", "y"))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void textAndBytesStdinIsReplayableButAStreamIsTheCallers() {
    byte[] bytes = {0, 1, 2, (byte) 255};
    Task fromBytes = valid().stdin(bytes).build();
    bytes[0] = 9;
    assertThat(fromBytes.stdin().orElseThrow()).hasBinaryContent(new byte[] {0, 1, 2, (byte) 255});
    assertThat(fromBytes.stdin().orElseThrow()).hasBinaryContent(new byte[] {0, 1, 2, (byte) 255});

    InputStream stream = new ByteArrayInputStream(new byte[] {1});
    assertThat(valid().stdin(stream).build().stdin()).containsSame(stream);
  }

  @Test
  void toStringHidesEnvironmentValues() {
    Task task = valid().env("TOKEN", "s3cr3t").build();

    assertThat(task.toString()).contains("TOKEN").doesNotContain("s3cr3t");
  }

  @Test
  void equalTasksAreEqual() {
    assertThat(valid().env("A", "1").build()).isEqualTo(valid().env("A", "1").build());
    assertThat(valid().env("A", "1").build().hashCode())
        .isEqualTo(valid().env("A", "1").build().hashCode());
    assertThat(valid().build()).isNotEqualTo(valid().id("other").build());
    assertThat(valid().stdin("x").build()).isEqualTo(valid().stdin("x").build());
  }

  @Test
  void toBuilderCopies() {
    Task task = valid().env("A", "1").mount("v", "v").build();

    Task copy = task.toBuilder().id("build-2").build();

    assertThat(copy.id()).isEqualTo("build-2");
    assertThat(copy.env()).isEqualTo(task.env());
    assertThat(copy.mounts()).isEqualTo(task.mounts());
  }

  @Test
  void requiresIdAndCommand() {
    assertThatThrownBy(() -> Task.builder().command("true").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("id");
    assertThatThrownBy(() -> Task.builder().id("t").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("command");
    assertThatThrownBy(() -> Task.builder().id("t").command(List.of()).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("command");
    assertThatThrownBy(() -> Task.builder().id("t").command("").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("command[0]");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "  ", "a\nb", "nul\0", "tab\there"})
  void refusesBlankOrControlCharacterIds(String id) {
    assertThatThrownBy(() -> Task.builder().id(id))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("id");
  }

  @Test
  void refusesNullsNamingTheField() {
    Task.Builder b = Task.builder();
    assertThatThrownBy(() -> b.id(null)).hasMessageContaining("id");
    assertThatThrownBy(() -> b.image(null)).hasMessageContaining("image");
    assertThatThrownBy(() -> b.command((String[]) null)).hasMessageContaining("command");
    assertThatThrownBy(() -> b.command((List<String>) null)).hasMessageContaining("command");
    assertThatThrownBy(() -> b.command("echo", null)).hasMessageContaining("command[1]");
    assertThatThrownBy(() -> b.env(null, "v")).hasMessageContaining("env key");
    assertThatThrownBy(() -> b.env("K", null)).hasMessageContaining("env value of 'K'");
    assertThatThrownBy(() -> b.env((Map<String, String>) null)).hasMessageContaining("env");
    assertThatThrownBy(() -> b.mount(null, "p")).hasMessageContaining("volume name");
    assertThatThrownBy(() -> b.mount("v", null)).hasMessageContaining("mount path");
    assertThatThrownBy(() -> b.mounts(null)).hasMessageContaining("mounts");
    assertThatThrownBy(() -> b.mounts(Arrays.asList((Mount) null)))
        .hasMessageContaining("mounts[0]");
    assertThatThrownBy(() -> b.limits(null)).hasMessageContaining("limits");
    assertThatThrownBy(() -> b.user(null)).hasMessageContaining("user");
    assertThatThrownBy(() -> b.stdin((String) null)).hasMessageContaining("stdin");
    assertThatThrownBy(() -> b.stdin((InputStream) null)).hasMessageContaining("stdin");
    assertThatThrownBy(() -> b.stdin((byte[]) null)).hasMessageContaining("stdin");
    assertThatThrownBy(() -> b.workDir(null)).hasMessageContaining("workDir");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "A=B", "NUL\0"})
  void refusesEnvironmentKeysAProcessCannotCarry(String key) {
    assertThatThrownBy(() -> Task.builder().env(key, "v"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("env key");
  }

  @Test
  void refusesNulInEnvironmentValuesAndArguments() {
    assertThatThrownBy(() -> Task.builder().env("K", "a\0b"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'K'");
    assertThatThrownBy(() -> Task.builder().command("echo", "a\0b"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("command[1]");
  }

  @ParameterizedTest
  @ValueSource(strings = {"../../etc", "a/../../b", "..", "x/.."})
  void refusesMountPathsAndWorkDirsThatLeaveTheTaskDirectory(String path) {
    assertThatThrownBy(() -> Task.builder().mount("v", path))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(path);
    assertThatThrownBy(() -> Task.builder().workDir(path))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(path);
  }

  @Test
  void timeoutMustBePositive() {
    assertThat(valid().timeout(java.time.Duration.ofSeconds(5)).build().timeout())
        .contains(java.time.Duration.ofSeconds(5));
    assertThat(valid().build().timeout()).isEmpty();
    assertThatThrownBy(() -> Task.builder().timeout(java.time.Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("timeout");
    assertThatThrownBy(() -> Task.builder().timeout(null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("timeout");
  }

  @Test
  void refusesTwoMountsAtOnePath() {
    assertThatThrownBy(() -> valid().mount("a", "/x").mount("b", "x/").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'x'");
  }

  @Test
  void refusesImagesAndUsersWithWhitespace() {
    assertThatThrownBy(() -> Task.builder().image("busy box"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("busy box");
    assertThatThrownBy(() -> Task.builder().user("no body"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no body");
  }
}
