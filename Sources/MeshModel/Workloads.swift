/// A Kubernetes Service: the ports and the selector that picks its pods.
public struct ServiceSpec: Sendable, Equatable {
    public struct Port: Sendable, Equatable {
        public var name: String?
        public var port: Int
        /// The container port traffic goes to (`targetPort`, default `port`); named target ports resolve to `port`.
        public var targetPort: Int
        public var proto: String
    }

    public var name: String
    public var namespace: String
    public var labels: [String: String]
    public var selector: [String: String]
    public var ports: [Port]
    public var source: SourceLocation
}

/// A Deployment, as far as a local run needs it: replicas, pod labels and containers.
public struct DeploymentSpec: Sendable, Equatable {
    public struct Container: Sendable, Equatable {
        public var name: String
        public var image: String
        public var command: [String]
        public var args: [String]
        /// Literal `env` values, in order (values from secrets or fields are left out).
        public var env: [(String, String)]
        public var ports: [Int]

        public static func == (lhs: Container, rhs: Container) -> Bool {
            lhs.name == rhs.name && lhs.image == rhs.image && lhs.command == rhs.command && lhs.args == rhs.args
                && lhs.env.elementsEqual(rhs.env, by: ==) && lhs.ports == rhs.ports
        }
    }

    public var name: String
    public var namespace: String
    public var labels: [String: String]
    public var replicas: Int
    public var selector: [String: String]
    /// The pod template's labels.
    public var podLabels: [String: String]
    public var podAnnotations: [String: String]
    public var containers: [Container]
    public var serviceAccountName: String?
    public var source: SourceLocation
}

/// Reads core and apps objects.
public enum WorkloadParser {
    public static func service(_ object: KubeObject, namespace: String) -> (ServiceSpec?, [Diagnostic]) {
        let reader = SpecReader()
        let spec = object.spec
        var ports: [ServiceSpec.Port] = []
        for (index, item) in reader.list(spec["ports"], "spec.ports").enumerated() {
            let path = "spec.ports[\(index)]"
            guard let port = reader.int(item["port"], "\(path).port") else {
                if item["port"] == nil { reader.problem("\(path).port", "missing") }
                continue
            }
            let target: Int
            switch item["targetPort"] {
            case .int(let number)?: target = number
            default: target = port
            }
            ports.append(
                .init(
                    name: reader.string(item["name"], "\(path).name"), port: port, targetPort: target,
                    proto: reader.string(item["protocol"], "\(path).protocol") ?? "TCP"))
        }
        if ports.isEmpty, reader.problems.isEmpty {
            reader.problem("spec.ports", "a Service needs at least one port")
        }
        let service = ServiceSpec(
            name: object.metadata.name, namespace: namespace, labels: object.metadata.labels,
            selector: reader.stringMap(spec["selector"], "spec.selector"), ports: ports, source: object.source)
        let problems = NetworkingParser.diagnostics(reader, object)
        return (problems.isEmpty ? service : nil, problems)
    }

    public static func deployment(_ object: KubeObject, namespace: String) -> (DeploymentSpec?, [Diagnostic]) {
        let reader = SpecReader()
        let spec = object.spec
        let template = spec["template"]
        if template == nil { reader.problem("spec.template", "missing: a Deployment needs a pod template") }
        let podLabels = reader.stringMap(template?["metadata"]?["labels"], "spec.template.metadata.labels")
        var selector = reader.stringMap(spec["selector"]?["matchLabels"], "spec.selector.matchLabels")
        if spec["selector"] == nil { selector = podLabels }  // extensions/v1beta1 defaulted the selector
        var containers: [DeploymentSpec.Container] = []
        for (index, item) in reader.list(template?["spec"]?["containers"], "spec.template.spec.containers").enumerated() {
            let path = "spec.template.spec.containers[\(index)]"
            guard let image = reader.string(item["image"], "\(path).image") else {
                if item["image"] == nil { reader.problem("\(path).image", "missing") }
                continue
            }
            var env: [(String, String)] = []
            for (envIndex, variable) in reader.list(item["env"], "\(path).env").enumerated() {
                guard let name = reader.string(variable["name"], "\(path).env[\(envIndex)].name") else { continue }
                if let value = variable["value"] {
                    env.append((name, reader.string(value, "\(path).env[\(envIndex)].value") ?? ""))
                } else if variable["valueFrom"] == nil {
                    env.append((name, ""))
                }
            }
            containers.append(
                .init(
                    name: reader.string(item["name"], "\(path).name") ?? "container-\(index)", image: image,
                    command: reader.strings(item["command"], "\(path).command"),
                    args: reader.strings(item["args"], "\(path).args"), env: env,
                    ports: reader.list(item["ports"], "\(path).ports").enumerated().compactMap {
                        reader.int($0.element["containerPort"], "\(path).ports[\($0.offset)].containerPort")
                    }))
        }
        if containers.isEmpty, reader.problems.isEmpty {
            reader.problem("spec.template.spec.containers", "a Deployment needs at least one container")
        }
        if !selector.isEmpty, !selector.allSatisfy({ podLabels[$0.key] == $0.value }) {
            reader.problem("spec.selector.matchLabels", "does not match the pod template's labels")
        }
        let replicas = reader.int(spec["replicas"], "spec.replicas") ?? 1
        if replicas < 0 {
            reader.problem("spec.replicas", "is \(replicas): replicas cannot be negative; write 0 to stop the pods, or 1")
        }
        let deployment = DeploymentSpec(
            name: object.metadata.name, namespace: namespace, labels: object.metadata.labels,
            replicas: max(replicas, 0), selector: selector, podLabels: podLabels,
            podAnnotations: reader.stringMap(template?["metadata"]?["annotations"], "spec.template.metadata.annotations"),
            containers: containers,
            serviceAccountName: reader.string(template?["spec"]?["serviceAccountName"], "spec.template.spec.serviceAccountName"),
            source: object.source)
        let problems = NetworkingParser.diagnostics(reader, object)
        return (problems.isEmpty ? deployment : nil, problems)
    }
}
