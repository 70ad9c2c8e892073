import MeshModel

/// Where one namespace's workloads and proxies listen on loopback: with a ``MeshSnapshot``, the
/// translator's whole input.
///
/// One Envoy process serves a whole namespace. Each sidecar-injected pod gets two listeners of its
/// own in it (an outbound HTTP proxy its app sends every upstream call to, and an inbound listener
/// in front of the app), so each pod still has its own routes (`sourceLabels`, injection) exactly
/// as a separate sidecar would. The same Envoy also hosts the namespace's "kube-proxy" listener
/// (for pods without a sidecar: plain per-request spreading over every pod of a service, no
/// Istio rules) and its ingress gateway listener.
public struct NamespaceTopology: Sendable, Equatable {
    public var namespace: String
    /// The loopback address every listener and app binds.
    public var host: String
    public var pods: [PodEndpoint]
    /// The HTTP proxy port that pods without a sidecar send their upstream calls to.
    public var kubeProxyPort: Int
    /// The ingress gateway's listener port; nil when the namespace has no ingress.
    public var ingressPort: Int?
    /// The labels of the ingress gateway workload, which `Gateway.spec.selector` must match.
    public var ingressLabels: [String: String]

    public init(
        namespace: String, host: String = "127.0.0.1", pods: [PodEndpoint], kubeProxyPort: Int, ingressPort: Int?,
        ingressLabels: [String: String] = ["istio": "ingressgateway", "app": "istio-ingressgateway"]
    ) {
        self.namespace = namespace
        self.host = host
        self.pods = pods
        self.kubeProxyPort = kubeProxyPort
        self.ingressPort = ingressPort
        self.ingressLabels = ingressLabels
    }
}

/// One running pod: its labels and ports.
public struct PodEndpoint: Sendable, Equatable {
    /// Pod name, e.g. `reviews-v1-6d8f9c7b5-x2k4q`.
    public var name: String
    public var labels: [String: String]
    /// The port the application listens on.
    public var appPort: Int
    /// The pod's sidecar listeners; nil when the pod runs without a sidecar.
    public var sidecar: SidecarPorts?
    /// Only ready pods are endpoints of services.
    public var ready: Bool

    public init(name: String, labels: [String: String], appPort: Int, sidecar: SidecarPorts?, ready: Bool = true) {
        self.name = name
        self.labels = labels
        self.appPort = appPort
        self.sidecar = sidecar
        self.ready = ready
    }

    /// Where other pods reach this pod: through its sidecar's inbound listener when it has one.
    public var servingPort: Int { sidecar?.inboundPort ?? appPort }
}

/// The two listeners of a pod's sidecar.
public struct SidecarPorts: Sendable, Equatable {
    /// The app's outbound HTTP proxy (its `HTTP_PROXY`).
    public var outboundPort: Int
    /// In front of the app; services' endpoints point here.
    public var inboundPort: Int

    public init(outboundPort: Int, inboundPort: Int) {
        self.outboundPort = outboundPort
        self.inboundPort = inboundPort
    }
}
