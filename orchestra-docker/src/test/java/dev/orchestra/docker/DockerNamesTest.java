package dev.orchestra.docker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DockerNamesTest {

  /** Docker's rule for container names; volume names follow it too. */
  private static final String DOCKER_NAME = "[a-zA-Z0-9][a-zA-Z0-9_.-]+";

  @Test
  void plainNamespaceAndIdStayReadable() {
    assertThat(DockerNames.of("build42", "compile")).isEqualTo("build42-compile");
    assertThat(DockerNames.of("ci", "step-1.a")).isEqualTo("ci-step-1.a");
  }

  @Test
  void namespaceWithDashIsHashedButKeepsAReadablePrefix() {
    assertThat(DockerNames.of("ci-42", "build")).matches("ci-42-build_[0-9a-f]{16}");
  }

  @Test
  void pairsThatJoinToTheSameTextNeverShareAName() {
    assertThat(DockerNames.of("a-b", "c")).isNotEqualTo(DockerNames.of("a", "b-c"));
    assertThat(DockerNames.of("a", "B")).isNotEqualTo(DockerNames.of("a", "b"));
    assertThat(DockerNames.of("a", "b c")).isNotEqualTo(DockerNames.of("a", "b-c"));
  }

  @Test
  void everyNameIsValidForDockerAndDistinct() {
    List<String> namespaces =
        List.of("ns", "n-s", "N S", "a.b", "x", "ünï", "-lead", "q".repeat(80));
    List<String> ids =
        List.of("t", "T", "t-1", "1-t", "has space", "a/b", "..", "é", "_u", "z".repeat(100));
    Map<String, String> seen = new HashMap<>();
    for (String ns : namespaces) {
      for (String id : ids) {
        String name = DockerNames.of(ns, id);
        assertThat(name).matches(DOCKER_NAME).hasSizeLessThanOrEqualTo(63);
        String pair = ns + " / " + id;
        assertThat(seen.put(name, pair)).as("name %s of %s", name, pair).isNull();
      }
    }
  }
}
