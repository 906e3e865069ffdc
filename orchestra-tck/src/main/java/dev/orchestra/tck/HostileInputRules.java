package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.OrchestraException;
import dev.orchestra.Task;
import dev.orchestra.spi.Names;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Bad and hostile input: refused clearly and leaving nothing behind, or working and never
 * colliding.
 *
 * <p>A volume name, mount path or {@code workDir} that reaches outside ({@code ../../x}) is refused
 * with an {@link IllegalArgumentException} or {@link OrchestraException} and creates nothing, and
 * the task id stays free; odd task ids (slashes, dots, spaces, unicode, 300 characters, ids that
 * differ only in case or in characters a sanitiser folds) each run as their own task; generated
 * hostile names are refused with a message that shows them, or run from several threads at once
 * without collisions, creating nothing outside the driver's areas; environment keys and values are
 * carried exactly, or refused by {@link Task.Builder} when no platform could carry them.
 */
abstract class HostileInputRules extends ReliabilityRules {

  HostileInputRules(ReliabilityTck kit) {
    super(kit);
  }

  @Test
  @DisplayName(
      "hostile task ids and volume names: refused with IllegalArgumentException naming them,"
          + " or run at once without collisions, nothing created outside the driver's area")
  void hostileIdsAndVolumes() {
    String marker = "relmark" + randomSuffix();
    List<String> names = hostileNames(marker);
    Driver driver = open(newNamespace());

    Map<String, String> volumeOf = new LinkedHashMap<>();
    SoftAssertions softly = new SoftAssertions();
    for (String name : names) {
      Throwable thrown = catchThrowable(() -> driver.createVolume(name, 0));
      if (thrown == null) {
        volumeOf.put(name, name);
      } else {
        softly
            .assertThat(thrown)
            .as("createVolume of '%s'", Names.printable(name))
            .isInstanceOf(IllegalArgumentException.class);
        softly
            .assertThat(thrown.getMessage())
            .as("message of the refusal of volume name '%s'", Names.printable(name))
            .contains(Names.printable(name));
        volumeOf.put(name, "v" + volumeOf.size() + "-" + marker);
      }
    }
    Map<String, Container> started = new LinkedHashMap<>();
    Map<String, CompletableFuture<Container>> starts = new LinkedHashMap<>();
    // Started from several threads at once, as a CI server would: collisions show.
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      for (String name : names) {
        Task.Builder b;
        try {
          b = task(name, sh("printf '%s' \"$ID\" > v/id; printf '%s' \"$ID\""));
        } catch (IllegalArgumentException e) {
          softly
              .assertThat(e.getMessage())
              .as("message of the refusal of task id '%s'", Names.printable(name))
              .contains(Names.printable(name));
          continue;
        }
        Task t = b.env("ID", name).mount(volumeOf.get(name), "v").build();
        starts.put(name, CompletableFuture.supplyAsync(() -> driver.runContainer(t), pool));
      }
      collectStarts(starts, started, softly);
    } finally {
      pool.shutdownNow();
    }
    softly.assertAll();
    assertThat(started).as("tasks with hostile ids that run").hasSizeGreaterThan(10);

    Set<String> containerIds = new HashSet<>();
    started.forEach(
        (name, c) -> {
          String shown = Names.printable(name);
          ContainerStatus s = awaitDone(c);
          softly.assertThat(s.exitCode()).as("exit code of task '%s'", shown).isZero();
          softly.assertThat(logsOf(c).out()).as("stdout of task '%s'", shown).isEqualTo(name);
          softly
              .assertThat(containerIds.add(c.id()))
              .as("container id %s of task '%s' is its own", c.id(), shown)
              .isTrue();
        });
    // One task reads every volume back: what each task wrote into its own volume, and nothing
    // another task wrote.
    Task.Builder read =
        task("read-" + marker, "sh", "-c", "for d in \"$@\"; do cat \"$d/id\"; echo; done", "sh");
    List<String> dirs = new ArrayList<>();
    StringBuilder expected = new StringBuilder();
    for (String name : started.keySet()) {
      String dir = "v" + dirs.size();
      dirs.add(dir);
      read.mount(volumeOf.get(name), dir);
      expected.append(name).append('\n');
    }
    List<String> command = new ArrayList<>(read.build().command());
    command.addAll(dirs);
    Container reader = driver.runContainer(read.command(command).build());
    softly.assertThat(awaitDone(reader).exitCode()).as("exit code of the reader").isZero();
    softly
        .assertThat(logsOf(reader).out())
        .as("what each task wrote into its own volume, in order")
        .isEqualTo(expected.toString());
    softly.assertAll();
    driver.close();
    assertNothingOutsideAreas(marker);
  }

  @Test
  @DisplayName("a volume name reaching outside ('../../x') is refused and creates nothing")
  void volumeNameEscapeRefused() {
    Driver driver = open(newNamespace());
    String unique = "tck-escape-" + randomSuffix();
    for (String name : List.of("../../" + unique, "../" + unique, "..")) {
      assertThat(catchThrowable(() -> driver.createVolume(name, 0)))
          .as("createVolume(\"%s\")", name)
          .isInstanceOfAny(IllegalArgumentException.class, OrchestraException.class);
    }
    assertNothingNamed(unique);
  }

  @Test
  @DisplayName(
      "a mount path or workDir reaching outside ('../../x') is refused, creates nothing,"
          + " and leaves the task id free")
  void pathEscapeRefused() {
    Driver driver = open(newNamespace());
    String unique = "tck-escape-" + randomSuffix();
    List<Supplier<Task>> escapes =
        List.of(
            () -> task("escape", "true").mount("vol", "../../" + unique).build(),
            () -> task("escape", "true").mount("../../" + unique, "vol").build(),
            () -> task("escape", "true").workDir("../../" + unique).build());
    for (Supplier<Task> escape : escapes) {
      assertThat(catchThrowable(() -> driver.runContainer(escape.get())))
          .as("building or running a task that escapes its directory")
          .isInstanceOfAny(IllegalArgumentException.class, OrchestraException.class);
    }
    assertNothingNamed(unique);

    Result r = runToEnd(driver, task("escape", "echo", "fresh").build());
    assertThat(r.out()).as("stdout of the task id after the refusals").isEqualTo("fresh\n");
  }

  @Test
  @DisplayName("task ids with '/', '..', spaces, unicode or 300 characters run, each its own")
  void oddTaskIds() {
    String longId = "long-" + "0123456789".repeat(30);
    assertDistinctTasks(
        open(newNamespace()),
        List.of(
            "a/b/c",
            "/",
            "..",
            "../../etc",
            "with space",
            "grüße ✓ 日本",
            "UPPER",
            longId + "1",
            longId + "2",
            "x"));
  }

  @Test
  @DisplayName(
      "task ids that differ only in case or in characters a sanitiser folds do not collide")
  void foldedTaskIdsDistinct() {
    assertDistinctTasks(
        open(newNamespace()), List.of("a/b", "a_b", "a-b", "A-B", "a b", "a.b", "a:b", "ab"));
  }

  @Test
  @DisplayName(
      "environment keys with '=' or NUL, empty keys and values with NUL are refused with"
          + " IllegalArgumentException before any driver sees them")
  void uncarriableEnvironmentRefused() {
    Map<String, String> refused = new LinkedHashMap<>();
    refused.put("A=B", "v");
    refused.put("=", "v");
    refused.put("", "v");
    refused.put("NUL\0KEY", "v");
    refused.put("NUL_VALUE", "a\0b");
    SoftAssertions softly = new SoftAssertions();
    refused.forEach(
        (key, value) -> {
          Throwable thrown =
              catchThrowable(() -> Task.builder().id("env").command("true").env(key, value));
          softly
              .assertThat(thrown)
              .as("env('%s', '%s')", Names.printable(key), Names.printable(value))
              .isInstanceOf(IllegalArgumentException.class);
          if (thrown != null) {
            softly
                .assertThat(thrown.getMessage())
                .as("message of the refusal of env key '%s'", Names.printable(key))
                .contains(key.contains("\0") ? Names.printable(key) : "env");
          }
        });
    softly.assertAll();
  }

  @Test
  @DisplayName("odd but carriable environment keys and values arrive byte for byte")
  void oddEnvironmentCarried() {
    Driver driver = open(newNamespace());
    Map<String, String> env = new LinkedHashMap<>();
    env.put("SPACED", "  two  spaces  ");
    env.put("EQUALS", "a=b==c");
    env.put("NEWLINES", "line1\nline2\n");
    env.put("UNICODE", "grüße ✓ 日本 🎉");
    env.put("EMPTY", "");
    env.put("LONG", "x".repeat(100_000));
    StringBuilder script = new StringBuilder();
    env.keySet().forEach(k -> script.append("printf '%s|' \"$").append(k).append("\"; "));
    Container c = driver.runContainer(task("env", sh(script.toString())).env(env).build());
    assertThat(awaitDone(c).exitCode()).as("exit code").isZero();
    StringBuilder expected = new StringBuilder();
    env.values().forEach(v -> expected.append(v).append('|'));
    assertThat(logsOf(c).out())
        .as("the variables as the task printed them")
        .isEqualTo(expected.toString());
  }

  private void collectStarts(
      Map<String, CompletableFuture<Container>> starts,
      Map<String, Container> started,
      SoftAssertions softly) {
    for (Map.Entry<String, CompletableFuture<Container>> start : starts.entrySet()) {
      String name = start.getKey();
      Throwable thrown = null;
      try {
        started.put(name, start.getValue().get(awaitTimeout().toMillis(), TimeUnit.MILLISECONDS));
      } catch (ExecutionException e) {
        thrown = e.getCause();
      } catch (InterruptedException | TimeoutException e) {
        throw new AssertionError("starting task '" + Names.printable(name) + "' failed", e);
      }
      if (thrown != null) {
        softly
            .assertThat(thrown)
            .as("runContainer of task id '%s'", Names.printable(name))
            .isInstanceOf(IllegalArgumentException.class);
        softly
            .assertThat(thrown.getMessage())
            .as("message of the refusal of task id '%s'", Names.printable(name))
            .contains(Names.printable(name));
      }
    }
  }

  private List<String> hostileNames(String marker) {
    String longName = "L".repeat(150) + "-" + marker + "-" + "l".repeat(150);
    List<String> names = new ArrayList<>();
    for (String base :
        List.of(
            "a/b",
            "a_b",
            "a-b",
            "A-B",
            "a b",
            "a.b",
            "a:b",
            "ab",
            "Ab",
            "AB",
            "..",
            "../../",
            "/",
            "a/../../b",
            "c:\\x",
            ".hidden",
            "-dash",
            "trailing.",
            "grüße",
            "GRÜSSE",
            "e\u0301",
            "\u00e9",
            "日本語",
            "🎉",
            "with\0nul",
            "tab\there",
            " ")) {
      names.add(base.equals(" ") ? base : base + "-" + marker);
    }
    names.add(marker + "/../..");
    names.add(marker + ":");
    names.add(marker.toUpperCase(Locale.ROOT));
    names.add(longName);
    names.add(longName + "2");
    names.add("2" + longName);
    names.add(longName.toUpperCase(Locale.ROOT));
    names.add(".");
    names.add("..");
    names.add("");
    return names;
  }

  private void assertNothingOutsideAreas(String marker) {
    Set<Path> areas = new HashSet<>();
    kit.driverAreas().forEach(p -> areas.add(p.toAbsolutePath().normalize()));
    assertThat(FileSearch.nearTheJvm(n -> n.contains(marker), areas))
        .as("files named after hostile input outside the driver's areas %s", areas)
        .isEmpty();
  }

  /** Asserts that nothing named {@code unique} exists where a path escape would have put it. */
  private static void assertNothingNamed(String unique) {
    assertThat(FileSearch.nearTheJvm(unique::equals, Set.of()))
        .as("files named %s", unique)
        .isEmpty();
  }

  /** Runs every id at once, each printing its own id, and checks none collided. */
  private void assertDistinctTasks(Driver driver, List<String> ids) {
    Map<String, Container> started = new LinkedHashMap<>();
    for (String id : ids) {
      started.put(id, driver.runContainer(task(id, "printf", "%s", id).build()));
    }
    SoftAssertions softly = new SoftAssertions();
    Set<String> containerIds = new LinkedHashSet<>();
    started.forEach(
        (id, c) -> {
          ContainerStatus s = awaitDone(c);
          softly.assertThat(s.exitCode()).as("exit code of task '%s'", id).isZero();
          softly.assertThat(logsOf(c).out()).as("stdout of task '%s'", id).isEqualTo(id);
          softly
              .assertThat(containerIds.add(c.id()))
              .as("container id %s of task '%s' is its own", c.id(), id)
              .isTrue();
        });
    softly.assertAll();
  }
}
