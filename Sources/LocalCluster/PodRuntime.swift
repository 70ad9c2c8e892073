import EnvoyConfig
import Foundation
import MeshModel

/// One pod of the local engine: a supervised process of a bookinfo executable.
final class PodRuntime: @unchecked Sendable {
    let name: String
    let deployment: String
    let templateHash: String
    let labels: [String: String]
    let image: String
    let appPort: Int
    let sidecar: SidecarPorts?
    let createdAt = Date()
    let uid = UUID().uuidString.lowercased()
    /// The Deployment's first container (its name and port, for the Pod object).
    let container: DeploymentSpec.Container?
    let serviceAccount: String?
    let logFile: String?
    let process: SupervisedProcess?
    /// Why the pod cannot run (unknown image), shown as its status.
    let failure: String?
    /// An injected ingress gateway (`inject.istio.io/templates: gateway`): the namespace's own
    /// ingress Envoy serves it, so the pod has no process and its port is the ingress port.
    let gateway: Bool
    // Mutated only on the cluster actor.
    var ready = false
    var exitReason: String?
    var resourceVersion = 0
    /// When the pod was asked to stop (shown as Terminating).
    var deletionRequested: Date?

    init(
        name: String, deployment: String, templateHash: String, labels: [String: String], image: String, appPort: Int,
        sidecar: SidecarPorts?, process: SupervisedProcess?, failure: String?, container: DeploymentSpec.Container? = nil,
        serviceAccount: String? = nil, logFile: String? = nil, gateway: Bool = false
    ) {
        self.gateway = gateway
        self.container = container
        self.serviceAccount = serviceAccount
        self.logFile = logFile
        self.name = name
        self.deployment = deployment
        self.templateHash = templateHash
        self.labels = labels
        self.image = image
        self.appPort = appPort
        self.sidecar = sidecar
        self.process = process
        self.failure = failure
    }

    var endpoint: PodEndpoint {
        PodEndpoint(name: name, labels: labels, appPort: appPort, sidecar: sidecar, ready: ready)
    }

    /// The status kubectl would show.
    var phase: String {
        if let failure { return failure }
        if gateway { return "Running" }
        if process?.pid == nil { return (process?.restarts ?? 0) > 0 ? "CrashLoopBackOff" : "ContainerCreating" }
        return "Running"
    }

    var status: PodStatus {
        let containers = sidecar == nil ? 1 : 2
        let readyContainers = ready ? containers : (sidecar == nil ? 0 : 1)
        return PodStatus(
            name: name, labels: labels, ready: "\(readyContainers)/\(containers)", phase: phase,
            restarts: process?.restarts ?? 0, createdAt: createdAt, appPort: appPort, sidecar: sidecar != nil,
            image: image, pid: process?.pid)
    }
}

/// A pod as the API and `labctl get pods` show it.
public struct PodStatus: Sendable, Equatable {
    public var name: String
    public var labels: [String: String]
    /// `1/1` without a sidecar, `2/2` with one (when ready).
    public var ready: String
    public var phase: String
    public var restarts: Int
    public var createdAt: Date
    public var appPort: Int
    public var sidecar: Bool
    public var image: String
    public var pid: Int32?
}
