package dev.orchestra.bench;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test that needs a Docker engine: skipped with one loud reason without one, or a failure
 * when {@code ORCHESTRA_REQUIRE_DOCKER=true} (or {@code -Dorchestra.requireDocker=true}), as in CI.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(DockerEngineCondition.class)
@interface RequiresDocker {}
