/// The Kubernetes API the lab-runner serves.
public enum KubeAPI {}
