package dev.orchestra.tck;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.Task;
import dev.orchestra.Volume;
import java.io.OutputStream;
import java.util.Set;

/**
 * A driver that hands every call to another one; a broken driver overrides the call it breaks. Its
 * containers and volumes are forwarding too, made by {@link #wrap(Container)} and {@link
 * #wrap(Volume)}.
 */
class ForwardingDriver implements Driver {

  final Driver delegate;

  ForwardingDriver(Driver delegate) {
    this.delegate = delegate;
  }

  @Override
  public String name() {
    return delegate.name();
  }

  @Override
  public Container runContainer(Task task) {
    return wrap(delegate.runContainer(task));
  }

  @Override
  public Volume createVolume(String name, long sizeBytes) {
    return wrap(delegate.createVolume(name, sizeBytes));
  }

  @Override
  public Set<Capability> capabilities() {
    return delegate.capabilities();
  }

  @Override
  public void close() {
    delegate.close();
  }

  Container wrap(Container container) {
    return new ForwardingContainer(container);
  }

  Volume wrap(Volume volume) {
    return new ForwardingVolume(volume);
  }

  /** A container that hands every call to another one. */
  static class ForwardingContainer implements Container {

    final Container delegate;

    ForwardingContainer(Container delegate) {
      this.delegate = delegate;
    }

    @Override
    public String id() {
      return delegate.id();
    }

    @Override
    public ContainerStatus status() {
      return delegate.status();
    }

    @Override
    public void logs(OutputStream stdout, OutputStream stderr) {
      delegate.logs(stdout, stderr);
    }

    @Override
    public void cleanup() {
      delegate.cleanup();
    }
  }

  /** A volume that hands every call to another one. */
  static class ForwardingVolume implements Volume {

    final Volume delegate;

    ForwardingVolume(Volume delegate) {
      this.delegate = delegate;
    }

    @Override
    public String name() {
      return delegate.name();
    }

    @Override
    public void cleanup() {
      delegate.cleanup();
    }
  }
}
