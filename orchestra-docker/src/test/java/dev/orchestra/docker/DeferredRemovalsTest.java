package dev.orchestra.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.RemoveContainerCmd;
import com.github.dockerjava.api.command.RemoveVolumeCmd;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Volume;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@link DeferredRemovals} on a real engine, with the engine's answers put in the order that once
 * left a volume behind for good: the failed run's volume is refused as in use by its container, and
 * that container's removal completes before the refusal is looked at.
 */
@RequiresDocker
class DeferredRemovalsTest {

  private static final Duration BOUND = Duration.ofSeconds(30);

  @Test
  @DisplayName(
      "a volume refused as in use by the failed run's container, removed on another thread just"
          + " after, is tried again and removed")
  void volumeRefusedWhileItsContainerGoesIsRemovedLater() throws Exception {
    String name = TestNamespaces.record(DockerTesting.namespace("defer"));
    DockerClient engine = DockerTesting.engine();
    Map<String, String> labels = Map.of(Labels.NAMESPACE, name, Labels.TASK_ID, "victim");
    String volume = name + "-data";
    String containerName = name + "-victim";
    engine.createVolumeCmd().withName(volume).withLabels(labels).exec();
    String containerId =
        engine
            .createContainerCmd(DockerTesting.IMAGE)
            .withName(containerName)
            .withLabels(labels)
            .withCmd("true")
            .withHostConfig(
                HostConfig.newHostConfig().withBinds(new Bind(volume, new Volume("/data"))))
            .exec()
            .getId();

    CountDownLatch volumeRefused = new CountDownLatch(1);
    AtomicBoolean firstVolumeAttempt = new AtomicBoolean(true);
    AtomicReference<DeferredRemovals> deferred = new AtomicReference<>();
    DockerClient ordered =
        wrap(
            DockerClient.class,
            engine,
            result -> {
              if (result instanceof RemoveContainerCmd cmd) {
                // The container goes only once the engine refused the volume because of it.
                return wrap(
                    RemoveContainerCmd.class,
                    cmd,
                    r -> r,
                    () ->
                        assertThat(volumeRefused.await(BOUND.toSeconds(), TimeUnit.SECONDS))
                            .as("the volume's removal was refused")
                            .isTrue(),
                    failure -> {});
              }
              if (result instanceof RemoveVolumeCmd cmd) {
                return wrap(
                    RemoveVolumeCmd.class,
                    cmd,
                    r -> r,
                    () -> {},
                    failure -> {
                      if (failure instanceof ConflictException
                          && firstVolumeAttempt.getAndSet(false)) {
                        volumeRefused.countDown();
                        await("the container's removal to complete")
                            .atMost(BOUND)
                            .until(() -> !deferred.get().removingContainers());
                      }
                    });
              }
              return result;
            },
            () -> {},
            failure -> {});

    DockerConnection connection = DockerConnection.open(Optional.empty());
    DockerNamespace namespace = new DockerNamespace(name, connection);
    try {
      deferred.set(new DeferredRemovals(namespace, ordered));
      deferred.get().container(containerName, "victim", containerId);
      deferred.get().volumes(List.of(volume));

      await("the container and the volume to be removed")
          .atMost(BOUND)
          .pollInterval(Duration.ofMillis(100))
          .until(
              () ->
                  DockerTesting.containersOf(name).isEmpty()
                      && DockerTesting.volumesOf(name).isEmpty());
      assertThat(firstVolumeAttempt).as("the volume was refused once").isFalse();
    } finally {
      namespace.shutdownExecutor();
      connection.close();
      removeQuietly(() -> engine.removeContainerCmd(containerId).withForce(true).exec());
      removeQuietly(() -> engine.removeVolumeCmd(volume).exec());
    }
  }

  /** Work before a wrapped object's {@code exec()}. */
  private interface BeforeExec {
    void run() throws Exception;
  }

  /** Work when a wrapped object's {@code exec()} fails, before the failure is thrown. */
  private interface OnFailure {
    void accept(RuntimeException failure) throws Exception;
  }

  /**
   * Wraps an object of a docker-java interface: what its calls return passes through {@code
   * results}, except that its builder calls return the wrapper, so that the {@code exec()} at the
   * end of a chain is the wrapper's too.
   */
  private static <T> T wrap(
      Class<T> type,
      T target,
      UnaryOperator<Object> results,
      BeforeExec beforeExec,
      OnFailure onFailure) {
    AtomicReference<Object> self = new AtomicReference<>();
    InvocationHandler handler =
        (proxy, method, args) -> {
          if (method.getName().equals("exec") && method.getParameterCount() == 0) {
            beforeExec.run();
          }
          Object result;
          try {
            result = method.invoke(target, args);
          } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException failure) {
              onFailure.accept(failure);
            }
            throw e.getCause();
          }
          return result == target ? self.get() : results.apply(result);
        };
    T proxy =
        type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, handler));
    self.set(proxy);
    return proxy;
  }

  private static void removeQuietly(Runnable removal) {
    try {
      removal.run();
    } catch (NotFoundException e) {
      // Removed by the code under test, as it should be.
    }
  }
}
