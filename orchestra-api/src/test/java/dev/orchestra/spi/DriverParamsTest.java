package dev.orchestra.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DriverParamsTest {

  @Test
  void readsKnownParameters() {
    DriverParams params = DriverParams.of("local", Map.of("root", "/tmp/x"), Set.of("root"));

    assertThat(params.get("root")).contains("/tmp/x");
    assertThat(params.get("other")).isEmpty();
  }

  @Test
  void refusesUnknownParametersListingTheKnownOnes() {
    assertThatThrownBy(() -> DriverParams.of("docker", Map.of("hots", "x"), Set.of("host", "pull")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'hots'")
        .hasMessageContaining("host, pull");
  }

  @Test
  void hidesSecretsInToString() {
    DriverParams params =
        DriverParams.of("k8s", Map.of("token", "abc123", "host", "h"), Set.of("token", "host"));

    assertThat(params.toString()).contains("host=h").doesNotContain("abc123");
  }

  @Test
  void redactsSecretValuesAndUriQueries() {
    assertThat(DriverParams.redact(Map.of("password", "p", "identityPassphrase", "q", "host", "h")))
        .containsEntry("password", "****")
        .containsEntry("identityPassphrase", "****")
        .containsEntry("host", "h");
    assertThat(DriverParams.redactUri("docker://ns?token=s3cret")).isEqualTo("docker://ns?...");
    assertThat(DriverParams.redactUri("docker://ns")).isEqualTo("docker://ns");
  }
}
