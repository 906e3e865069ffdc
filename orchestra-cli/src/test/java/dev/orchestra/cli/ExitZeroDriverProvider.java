package dev.orchestra.cli;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import dev.orchestra.Task;
import dev.orchestra.Volume;
import dev.orchestra.spi.DriverProvider;
import java.io.OutputStream;
import java.util.Map;
import java.util.Set;

/**
 * A deliberately broken driver, {@value #NAME}: the local driver, except that every finished task
 * reads exit code 0, as a driver that swallows failures would. The TCK must fail it.
 */
public final class ExitZeroDriverProvider implements DriverProvider {

  static final String NAME = "exit-zero";

  /** Created by ServiceLoader. */
  public ExitZeroDriverProvider() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Driver create(String namespace, Map<String, String> params) {
    Driver local = Orchestra.open("local", namespace, params);
    return new Driver() {
      @Override
      public String name() {
        return NAME;
      }

      @Override
      public Container runContainer(Task task) {
        Container c = local.runContainer(task);
        return new Container() {
          @Override
          public String id() {
            return c.id();
          }

          @Override
          public ContainerStatus status() {
            ContainerStatus real = c.status();
            return real.isDone() ? ContainerStatus.exited(0) : real;
          }

          @Override
          public void logs(OutputStream stdout, OutputStream stderr) {
            c.logs(stdout, stderr);
          }

          @Override
          public void cleanup() {
            c.cleanup();
          }
        };
      }

      @Override
      public Volume createVolume(String name, long sizeBytes) {
        return local.createVolume(name, sizeBytes);
      }

      /** Only what this wrapper forwards: none of the lifecycle methods. */
      @Override
      public Set<Capability> capabilities() {
        return Set.of();
      }

      @Override
      public void close() {
        local.close();
      }
    };
  }
}
