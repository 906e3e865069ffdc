/**
 * The local driver, registered as {@code "local"}: tasks run as operating-system processes on this
 * machine. Open it with {@code Orchestra.open("local", namespace)}; its parameters, layout and
 * limits are described on its page in the repository, {@code docs/drivers/local.md}.
 */
package dev.orchestra.local;
