/// DestinationRule, Gateway and ServiceEntry rules.
extension Validation {
    /// The `trafficPolicy.loadBalancer.simple` values Istio accepts.
    public static let loadBalancers: [String] = ["UNSPECIFIED", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN", "LEAST_REQUEST", "LEAST_CONN"]

    static func check(_ rule: DestinationRule, _ object: KubeObject) -> [Diagnostic] {
        var findings = Findings(object: object)
        if rule.host.trimmingCharacters(in: .whitespaces).isEmpty {
            findings.error("spec.host", "must not be empty: write the service these subsets belong to, for example reviews")
        }
        var seen: [String: Int] = [:]
        for (index, subset) in rule.subsets.enumerated() {
            let path = "spec.subsets[\(index)]"
            if subset.name.isEmpty {
                findings.error("\(path).name", "must not be empty: name the subset, for example v1")
            } else if let first = seen[subset.name] {
                findings.error(
                    "\(path).name",
                    "subset '\(subset.name)' is already defined at spec.subsets[\(first)]: each subset needs its own name (rename it, for example to v\(index + 1), or remove the copy)")
            } else {
                seen[subset.name] = index
            }
            checkPolicy(subset.trafficPolicy, "\(path).trafficPolicy", &findings)
        }
        checkPolicy(rule.trafficPolicy, "spec.trafficPolicy", &findings)
        return findings.list
    }

    static func checkPolicy(_ policy: TrafficPolicy?, _ path: String, _ findings: inout Findings) {
        guard let balancer = policy?.loadBalancer, !loadBalancers.contains(balancer) else { return }
        let hint = loadBalancers.first { $0 == balancer.uppercased().replacingOccurrences(of: "-", with: "_") }
            ?? SpecReader.closest(balancer, in: Set(loadBalancers))
        let suggestion = hint.map { "did you mean \($0)? " } ?? ""
        findings.error(
            "\(path).loadBalancer.simple",
            "'\(balancer)' is not a load balancer: \(suggestion)use one of ROUND_ROBIN, LEAST_REQUEST, LEAST_CONN, RANDOM, PASSTHROUGH (upper case)")
    }

    static func check(_ gateway: Gateway, raw: Value, _ object: KubeObject) -> [Diagnostic] {
        var findings = Findings(object: object)
        if gateway.servers.isEmpty {
            findings.error(
                "spec.servers",
                "a Gateway needs at least one server: add 'servers:' with a port (number: 80, name: http, protocol: HTTP) and hosts (for example \"*\")")
        }
        for (index, server) in gateway.servers.enumerated() {
            let path = "spec.servers[\(index)]"
            if !validPorts.contains(server.portNumber) {
                findings.error("\(path).port.number", "is \(server.portNumber): a port number must be between 1 and 65535, for example 80")
            }
            if server.hosts.isEmpty {
                findings.error("\(path).hosts", "a server needs at least one host: add 'hosts:' with the host names it accepts, or \"*\" for any")
            }
            for (hostIndex, host) in server.hosts.enumerated() where host.isEmpty {
                findings.error("\(path).hosts[\(hostIndex)]", "must not be empty: write a host name, or \"*\" for any")
            }
        }
        return findings.list
    }

    static func check(_ entry: ServiceEntry, _ object: KubeObject) -> [Diagnostic] {
        var findings = Findings(object: object)
        if entry.hosts.isEmpty {
            findings.error("spec.hosts", "a ServiceEntry needs at least one host, for example www.googleapis.com")
        }
        if let location = entry.location, !["MESH_EXTERNAL", "MESH_INTERNAL"].contains(location) {
            findings.error("spec.location", "'\(location)' is not a location: use MESH_EXTERNAL or MESH_INTERNAL")
        }
        return findings.list
    }
}
