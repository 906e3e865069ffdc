/**
 * The {@code "docker"} driver: every task is a container on a Docker engine, reached through
 * docker-java over the Apache HttpClient 5 transport.
 *
 * <p>Open it with {@code Orchestra.open("docker", namespace, params)}; its parameters and behaviour
 * are described on its page in the repository, {@code docs/drivers/docker.md}.
 */
package dev.orchestra.docker;
