/**
 * The service-provider interface: what a driver module implements ({@link
 * dev.orchestra.spi.DriverProvider}) and the helpers every driver shares, so that no driver copies
 * another's name sanitising ({@link dev.orchestra.spi.Names}), path resolution ({@link
 * dev.orchestra.spi.TaskPaths}), parameter checking ({@link dev.orchestra.spi.DriverParams}) or
 * exception laundering ({@link dev.orchestra.spi.Exceptions}).
 */
package dev.orchestra.spi;
