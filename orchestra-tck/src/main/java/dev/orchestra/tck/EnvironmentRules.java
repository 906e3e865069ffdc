package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** A task sees exactly the variables it was given. */
abstract class EnvironmentRules extends DriverRules {

  EnvironmentRules(DriverTck kit) {
    super(kit);
  }

  @Test
  @DisplayName(
      "given variables are present with their values exactly (spaces, '=', empty,"
          + " non-ASCII, shell characters)")
  void givenVariablesExact() {
    Map<String, String> given = new LinkedHashMap<>();
    given.put("TCK_SIMPLE", "value");
    given.put("TCK_SPACES", " two  spaces ");
    given.put("TCK_EQUALS", "a=b=c");
    given.put("TCK_EMPTY", "");
    given.put("TCK_UNICODE", "grüße ✓");
    given.put("TCK_SHELL", "it's \"quoted\" $HOME `x` \\ *");
    StringBuilder script = new StringBuilder("printf '[%s]\\n'");
    given.keySet().forEach(k -> script.append(" \"${").append(k).append("-unset}\""));

    Result r = runToEnd(task("env", sh(script.toString())).env(given).build());

    StringBuilder expected = new StringBuilder();
    given.values().forEach(v -> expected.append('[').append(v).append("]\n"));
    assertThat(r.exitCode()).as("exit code").isZero();
    assertThat(r.out()).as("the variables as the task sees them").isEqualTo(expected.toString());
  }

  @Test
  @DisplayName("the caller's environment does not reach the task")
  void callerEnvironmentAbsent() {
    Result r = runToEnd(task("env", "env").build());
    assertThat(r.exitCode()).as("exit code of env").isZero();
    String taskEnv = "\n" + r.out();

    SoftAssertions leaks = new SoftAssertions();
    Set<String> platform = kit.platformVariables();
    System.getenv()
        .forEach(
            (name, value) -> {
              if (!platform.contains(name)) {
                leaks
                    .assertThat(taskEnv.contains("\n" + name + "=" + value + "\n"))
                    .as("caller's variable %s=%s is visible to the task", name, value)
                    .isFalse();
              }
            });
    if (System.getenv(DriverTck.CALLER_MARKER) != null) {
      leaks
          .assertThat(taskEnv)
          .as("the caller's %s is visible to the task", DriverTck.CALLER_MARKER)
          .doesNotContain("\n" + DriverTck.CALLER_MARKER + "=");
    }
    leaks.assertAll();
  }
}
