package dev.orchestra.kubernetes.kubelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.function.Predicate;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

@DisplayName("Emulated API server rules (no Docker): selectors, names, quantities, patches")
class EmulatedApiRulesTest {

  private static JsonNode pod(String labels) {
    return Json.read(
        "{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\",\"labels\":" + labels + "}}");
  }

  @Test
  void labelSelectorsOfEveryFormFabric8Sends() {
    JsonNode pod = pod("{\"app\":\"web\",\"tier\":\"front\"}");
    Predicate<JsonNode> eq = Selectors.parse("app=web,tier==front", null);
    assertThat(eq.test(pod)).isTrue();
    assertThat(Selectors.parse("app!=web", null).test(pod)).isFalse();
    assertThat(Selectors.parse("app in (db,web)", null).test(pod)).isTrue();
    assertThat(Selectors.parse("app notin (db,web)", null).test(pod)).isFalse();
    assertThat(Selectors.parse("tier", null).test(pod)).isTrue();
    assertThat(Selectors.parse("!tier", null).test(pod)).isFalse();
    assertThat(Selectors.parse("missing", null).test(pod)).isFalse();
    assertThat(Selectors.parse(null, "metadata.name=p").test(pod)).isTrue();
    assertThat(Selectors.parse(null, "metadata.name!=p").test(pod)).isFalse();
    assertThatThrownBy(() -> Selectors.parse(null, "spec.image=x"))
        .isInstanceOfSatisfying(ApiStatus.Failure.class, e -> assertThat(e.code).isEqualTo(400));
  }

  @Test
  void namesAndLabelsAreCheckedAsTheApiServerDoes() {
    Validation.name("Pod", "a-b.c");
    assertThatThrownBy(() -> Validation.name("Pod", "A_b"))
        .isInstanceOfSatisfying(
            ApiStatus.Failure.class,
            e -> {
              assertThat(e.code).isEqualTo(422);
              assertThat(e.status.path("reason").asString()).isEqualTo("Invalid");
              assertThat(e.status.path("details").path("causes").path(0).path("field").asString())
                  .isEqualTo("metadata.name");
            });
    assertThatThrownBy(() -> Validation.name("Pod", "x".repeat(254)))
        .isInstanceOf(ApiStatus.Failure.class);
    Validation.labels("Pod", "p", Json.read("{\"example.com/key\":\"v-1\",\"k\":\"\"}"));
    assertThatThrownBy(() -> Validation.labels("Pod", "p", Json.read("{\"k\":\"-bad\"}")))
        .isInstanceOf(ApiStatus.Failure.class);
    assertThatThrownBy(() -> Validation.labels("Pod", "p", Json.read("{\"a/b/c\":\"v\"}")))
        .isInstanceOf(ApiStatus.Failure.class);
    assertThatThrownBy(
            () -> Validation.labels("Pod", "p", Json.read("{\"k\":\"" + "v".repeat(64) + "\"}")))
        .isInstanceOf(ApiStatus.Failure.class);
  }

  @Test
  void quantitiesInEveryUnit() {
    assertThat(Quantities.bytes("64Mi")).isEqualTo(64L * 1024 * 1024);
    assertThat(Quantities.bytes("1G")).isEqualTo(1_000_000_000L);
    assertThat(Quantities.bytes("1.5Gi")).isEqualTo(1610612736L);
    assertThat(Quantities.bytes("129e6")).isEqualTo(129_000_000L);
    assertThat(Quantities.shares("500m")).isEqualTo(512);
    assertThat(Quantities.shares("2")).isEqualTo(2048);
    assertThat(Quantities.shares("1m")).isEqualTo(2);
  }

  @Test
  void mergePatchesRemoveWithNullAndStrategicOnesMergeNamedLists() {
    JsonNode target =
        Json.read(
            "{\"spec\":{\"activeDeadlineSeconds\":60,\"containers\":[{\"name\":\"a\",\"image\":\"x\"},{\"name\":\"b\",\"image\":\"y\"}]}}");
    JsonNode merged =
        ApiServer.mergePatch(
            target,
            Json.read(
                "{\"spec\":{\"activeDeadlineSeconds\":null,\"containers\":[{\"name\":\"b\",\"image\":\"z\"}]}}"),
            false);
    assertThat(merged.path("spec").has("activeDeadlineSeconds")).isFalse();
    assertThat(merged.path("spec").path("containers").size()).isEqualTo(1);
    JsonNode strategic =
        ApiServer.mergePatch(
            target,
            Json.read("{\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":\"z\"}]}}"),
            true);
    assertThat(strategic.path("spec").path("containers").size()).isEqualTo(2);
    assertThat(strategic.path("spec").path("containers").path(1).path("image").asString())
        .isEqualTo("z");
  }

  @Test
  void aWatchReplaysFromAResourceVersionAndRefusesOneTooOld() throws Exception {
    Store store = new Store();
    var pod =
        (tools.jackson.databind.node.ObjectNode)
            Json.read("{\"metadata\":{\"name\":\"p\"},\"spec\":{}}");
    store.create("pods", "Pod", "default", pod);
    String version = pod.path("metadata").path("resourceVersion").asString();
    store.update(
        "pods",
        "default",
        "p",
        p -> {
          ((tools.jackson.databind.node.ObjectNode) p.path("spec")).put("activeDeadlineSeconds", 5);
          return p;
        });
    Store.Watch watch = store.watch("pods", "default", o -> true, version);
    assertThat(watch.events.poll().type()).isEqualTo("MODIFIED");
    assertThat(watch.events.poll()).isNull();
    Store.Watch all = store.watch("pods", "default", o -> true, null);
    assertThat(all.events.poll().type()).isEqualTo("ADDED");
    assertThatThrownBy(
            () ->
                store.create(
                    "pods",
                    "Pod",
                    "default",
                    (tools.jackson.databind.node.ObjectNode)
                        Json.read("{\"metadata\":{\"name\":\"p\"}}")))
        .isInstanceOfSatisfying(ApiStatus.Failure.class, e -> assertThat(e.code).isEqualTo(409));
  }
}
