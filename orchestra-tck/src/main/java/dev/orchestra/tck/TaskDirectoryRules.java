package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Each task runs in a fresh directory of its own, its default working directory. That mount paths
 * are relative to it is checked by the {@link DriverTck.Mounts} rules, whose tasks reach their
 * volumes from there.
 */
abstract class TaskDirectoryRules extends DriverRules {

  TaskDirectoryRules(DriverTck kit) {
    super(kit);
  }

  @Test
  @DisplayName("each task gets a fresh directory: a file one task leaves is not in another's")
  void taskDirectoryIsFresh() {
    assertSucceeded(runToEnd(task("litter", sh("echo x > ./leftover")).build()));

    Result other = runToEnd(task("look", sh("test ! -e ./leftover")).build());

    assertThat(other.exitCode()).as("exit code of 'test ! -e ./leftover'").isZero();
  }

  @Test
  @DisplayName("workDir 'sub' is the directory sub of the task directory")
  void workDirIsInsideTaskDirectory() {
    Result r =
        runToEnd(
            task("pwd", sh("pwd && test -d ../data")).mount("data", "data").workDir("sub").build());

    assertSucceeded(r);
    assertThat(r.out().strip()).as("pwd").endsWith("/sub");
  }

  @Test
  @DisplayName("a missing workDir is created, parents too ('a/b/c')")
  void workDirCreated() {
    Result r = runToEnd(task("pwd", "pwd").workDir("a/b/c").build());

    assertSucceeded(r);
    assertThat(r.out().strip()).as("pwd").endsWith("/a/b/c");
  }

  @Test
  @DisplayName("a workDir that is a mount writes into the volume")
  void workDirIsMount() {
    assertSucceeded(
        runToEnd(
            task("build", sh("echo built > artifact")).mount("src", "src").workDir("src").build()));

    assertThat(readFile(driver, "src", "artifact")).isEqualTo("built\n");
  }

  @Test
  @DisplayName("a missing workDir inside a mount is created in the volume")
  void workDirInsideMount() {
    assertSucceeded(
        runToEnd(
            task("build", sh("echo built > artifact"))
                .mount("repo", "repo")
                .workDir("repo/build")
                .build()));

    assertThat(readFile(driver, "repo", "build/artifact")).isEqualTo("built\n");
  }
}
