package dev.orchestra.tck;

import dev.orchestra.Capability;
import dev.orchestra.Container;
import dev.orchestra.ContainerStatus;
import dev.orchestra.Driver;
import dev.orchestra.Sandbox;
import dev.orchestra.Task;
import dev.orchestra.Volume;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A driver that hands every call to another one; a broken driver overrides the call it breaks. Its
 * containers, volumes and sandboxes are forwarding too, made by {@link #wrap(Container)}, {@link
 * #wrap(Volume)} and {@link #wrap(Sandbox)}; a sandbox's containers are wrapped as the driver's.
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
  public Optional<Container> find(String taskId) {
    return delegate.find(taskId).map(this::wrap);
  }

  @Override
  public Sandbox createSandbox(Task task) {
    return wrap(delegate.createSandbox(task));
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

  Sandbox wrap(Sandbox sandbox) {
    return new ForwardingSandbox(sandbox);
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

    @Override
    public void follow(OutputStream stdout, OutputStream stderr) {
      delegate.follow(stdout, stderr);
    }

    @Override
    public CompletableFuture<ContainerStatus> onExit() {
      return delegate.onExit();
    }

    @Override
    public ContainerStatus await(Duration timeout) {
      return delegate.await(timeout);
    }

    @Override
    public ContainerStatus stop(Duration grace) {
      return delegate.stop(grace);
    }
  }

  /** A sandbox that hands every call to another one, wrapping its containers as the driver's. */
  class ForwardingSandbox implements Sandbox {

    final Sandbox delegate;

    ForwardingSandbox(Sandbox delegate) {
      this.delegate = delegate;
    }

    @Override
    public Container container() {
      return wrap(delegate.container());
    }

    @Override
    public Container exec(Task step) {
      return wrap(delegate.exec(step));
    }

    @Override
    public void close() {
      delegate.close();
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

    @Override
    public void copyIn(java.io.InputStream tar) {
      delegate.copyIn(tar);
    }

    @Override
    public void copyOut(OutputStream tar) {
      delegate.copyOut(tar);
    }

    @Override
    public void copyIn(java.nio.file.Path directory) {
      delegate.copyIn(directory);
    }

    @Override
    public void copyOut(java.nio.file.Path directory, boolean merge) {
      delegate.copyOut(directory, merge);
    }
  }
}
