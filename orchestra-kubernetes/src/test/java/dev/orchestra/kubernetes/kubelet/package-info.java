/**
 * The EMULATED Kubernetes cluster behind {@code dev.orchestra.kubernetes.EmulatedKubelet}: an API
 * server subset ({@link dev.orchestra.kubernetes.kubelet.ApiServer}) and a kubelet ({@link
 * dev.orchestra.kubernetes.kubelet.Kubelet}) that runs pods on the local Docker engine. Each class
 * names the kubernetes.io pages it follows.
 *
 * <p>Not emulated, on purpose or for now: restarts ({@code restartPolicy} Always and OnFailure
 * behave as Never); image pulls (only images the engine has); init, sidecar and further containers
 * (only a pod's first container runs); probes; volumes other than {@code emptyDir} and {@code
 * persistentVolumeClaim} (refused with 422); {@code env[].valueFrom}; writes of {@code
 * pods/status}; paging ({@code limit}/{@code continue}: every list is whole); server-side apply;
 * watch events for objects that stop matching a selector; authentication and RBAC; namespaces other
 * than as a name; services and networking between pods.
 */
package dev.orchestra.kubernetes.kubelet;
