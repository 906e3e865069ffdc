package dev.orchestra.docker;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class or test that needs a Docker engine. Without one it is skipped with one loud
 * reason, or fails when {@code ORCHESTRA_REQUIRE_DOCKER=true} (or {@code -Dorchestra.requireDocker=
 * true}), as in CI. See {@link DockerEngineCondition}.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Inherited
@ExtendWith(DockerEngineCondition.class)
public @interface RequiresDocker {}
