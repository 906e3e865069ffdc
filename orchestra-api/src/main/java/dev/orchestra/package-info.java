/**
 * Orchestra: run build tasks as containers on any platform through pluggable drivers.
 *
 * <p>Open a {@link dev.orchestra.Driver} by name with {@link dev.orchestra.Orchestra}, start {@link
 * dev.orchestra.Task}s with {@link dev.orchestra.Driver#runContainer(dev.orchestra.Task)}, poll
 * their {@link dev.orchestra.ContainerStatus}, read their logs, share {@link dev.orchestra.Volume}s
 * between them, and close the driver to remove everything its namespace created.
 */
package dev.orchestra;
