/**
 * Driver {@code kubernetes}: each task runs as a bare pod on a Kubernetes cluster, through the
 * fabric8 Kubernetes client on the JDK's HTTP client.
 */
package dev.orchestra.kubernetes;
