/**
 * The local driver, registered as {@code "local"}: tasks run as operating-system processes on this
 * machine. Open it with {@code Orchestra.open("local", namespace)}; {@link
 * dev.orchestra.local.LocalDriverProvider} documents its parameters, layout and limits.
 */
package dev.orchestra.local;
