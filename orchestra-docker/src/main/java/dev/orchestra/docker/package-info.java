/**
 * The {@code "docker"} driver: every task is a container on a Docker engine, reached through
 * docker-java over the Apache HttpClient 5 transport.
 *
 * <p>Open it with {@code Orchestra.open("docker", namespace, params)}. Parameters: {@code host}
 * (the engine's address, overriding {@code DOCKER_HOST}) and {@code pull} ({@code missing}, the
 * default, {@code always} or {@code never}).
 */
package dev.orchestra.docker;
