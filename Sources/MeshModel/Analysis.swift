/// Whole-namespace analysis, like `istioctl analyze`: configuration that Istio accepts but that
/// does not do what the learner probably wants. Warnings explain failures (503s, rules ignored);
/// infos explain behaviour.
///
/// Codes follow Istio's where one exists (`IST0101` ReferencedResourceNotFound, `IST0102`
/// NamespaceNotInjected, `IST0109` ConflictingMeshGatewayVirtualServiceHosts, `IST0132`
/// VirtualServiceHostNotFoundInGateway); the others are MeshDojo's own (`MD01xx`, see ``Code``).
public enum Analysis {
    public enum Code {
        public static let referencedResourceNotFound = "IST0101"
        public static let namespaceNotInjected = "IST0102"
        public static let conflictingVirtualServiceHosts = "IST0109"
        public static let hostNotInGateway = "IST0132"
        /// A VirtualService bound only to gateways: the sidecars do not get its rules.
        public static let gatewayOnly = "MD0101"
        /// A DestinationRule for a host that no Service or ServiceEntry provides.
        public static let destinationRuleHostNotFound = "MD0102"
        /// A subset whose labels select none of the service's pods.
        public static let subsetSelectsNothing = "MD0103"
        /// A header match on `end-user` that is not all lower case.
        public static let endUserCase = "MD0104"
        /// A split whose weights do not add up to 100, with the shares that result.
        public static let weightsNormalised = "MD0105"
        /// A ServiceEntry for a host outside this machine.
        public static let externalHost = "MD0106"
        /// Rules after a rule without `match`: never reached.
        public static let unreachableRule = "MD0107"
    }

    /// Warnings and infos about a whole namespace, sorted by severity, then object, then field.
    ///
    /// - Parameter snapshot: the namespace, typed (objects that failed validation are not in it).
    /// - Returns: the findings; empty when nothing looks wrong.
    public static func analyze(_ snapshot: MeshSnapshot) -> [Diagnostic] {
        let context = Context(snapshot)
        var found: [Diagnostic] = []
        found += injection(context)
        for service in snapshot.virtualServices {
            found += destinations(service, context)
            found += gatewayBindings(service, context)
            found += matches(service)
            found += weights(service)
        }
        found += duplicateHosts(context)
        for rule in snapshot.destinationRules {
            found += destinationRule(rule, context)
        }
        for entry in snapshot.serviceEntries {
            found += externalHosts(entry)
        }
        return sorted(found)
    }

    /// Severity first, then object, field and message, so output is stable.
    public static func sorted(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
        diagnostics.sorted {
            ($0.severity, $0.object ?? "", $0.field ?? "", $0.message) < ($1.severity, $1.object ?? "", $1.field ?? "", $1.message)
        }
    }

    /// What the rules look up: fully qualified hosts of the namespace's services and entries.
    struct Context {
        let snapshot: MeshSnapshot
        /// Service FQDN → service.
        let services: [String: ServiceSpec]
        let entryHosts: [String]

        init(_ snapshot: MeshSnapshot) {
            self.snapshot = snapshot
            var services: [String: ServiceSpec] = [:]
            for service in snapshot.services {
                services[HostName.fullyQualified(service.name, namespace: service.namespace)] = service
            }
            self.services = services
            entryHosts = snapshot.serviceEntries.flatMap { entry in
                entry.hosts.map { HostName.fullyQualified($0, namespace: entry.namespace) }
            }
        }

        /// Whether a Service or a ServiceEntry provides `host` (an FQDN or pattern).
        func isKnown(_ host: String) -> Bool {
            if services[host] != nil || host == "*" { return true }
            if services.keys.contains(where: { HostName.matches(pattern: host, host: $0) }) { return true }
            return entryHosts.contains { HostName.matches(pattern: $0, host: host) || HostName.matches(pattern: host, host: $0) }
        }

        /// The DestinationRules whose host covers `host`.
        func rules(for host: String) -> [DestinationRule] {
            snapshot.destinationRules.filter {
                HostName.matches(pattern: HostName.fullyQualified($0.host, namespace: $0.namespace), host: host)
            }
        }

        /// A hint for a host written with a dot that is not a full name, such as `reviews.default`.
        func expansionHint(_ host: String) -> LocalizedHint? {
            guard host.contains("."), !host.hasSuffix(HostName.clusterDomain), let first = host.split(separator: ".").first
            else { return nil }
            let short = String(first)
            guard snapshot.services.contains(where: { $0.name == short }) else { return nil }
            let full = "\(host.split(separator: ".").dropFirst().first.map { "\(short).\($0)" } ?? short).\(HostName.clusterDomain)"
            return LocalizedHint(
                en: " Istio does not expand names that contain a dot: '\(host)' is taken as written and matches no service. Write '\(short)' or the full name '\(full)'.",
                ja: " Istio はドットを含む名前を補完しません。'\(host)' は書かれたとおりに扱われ、どの Service にも一致しません。'\(short)' または完全な名前 '\(full)' と書いてください。")
        }
    }

    /// A sentence added to a message, in both languages.
    struct LocalizedHint {
        var en: String
        var ja: String
    }

    static func diagnostic(
        _ severity: Diagnostic.Severity, _ code: String, _ message: String, ja: String, kind: String, name: String,
        source: SourceLocation, field: String? = nil
    ) -> Diagnostic {
        Diagnostic(severity, code: code, message, ja: ja, file: source.file, document: source.document, object: "\(kind)/\(name)", field: field)
    }

    static func injection(_ context: Context) -> [Diagnostic] {
        let snapshot = context.snapshot
        guard !snapshot.injectionEnabled, !snapshot.virtualServices.isEmpty || !snapshot.destinationRules.isEmpty else { return [] }
        let label = snapshot.namespaceLabels["istio-injection"].map { " (it is '\($0)')" } ?? ""
        let labelJa = snapshot.namespaceLabels["istio-injection"].map { "（現在は '\($0)'）" } ?? ""
        return [
            Diagnostic(
                .warning, code: Code.namespaceNotInjected,
                "namespace '\(snapshot.namespace)' is not labelled istio-injection=enabled\(label), so its pods have no sidecar and the VirtualServices and DestinationRules here have no effect between services (every version keeps answering). Label the namespace and restart the pods: kubectl label namespace \(snapshot.namespace) istio-injection=enabled, then kubectl rollout restart deployment -n \(snapshot.namespace)",
                ja: "名前空間 '\(snapshot.namespace)' に istio-injection=enabled のラベルがない\(labelJa)ため、Pod にサイドカーがなく、ここにある VirtualService と DestinationRule はサービス間の通信に効きません（すべてのバージョンが応答し続けます）。名前空間にラベルを付けて Pod を再起動してください：kubectl label namespace \(snapshot.namespace) istio-injection=enabled の後に kubectl rollout restart deployment -n \(snapshot.namespace)",
                object: "Namespace/\(snapshot.namespace)", field: "metadata.labels")
        ]
    }

    static func externalHosts(_ entry: ServiceEntry) -> [Diagnostic] {
        let outside = entry.hosts.filter { host in
            !(host == "localhost" || host.hasPrefix("127.") || host == "::1" || !host.contains(".")
                || host.hasSuffix(HostName.clusterDomain))
        }
        guard !outside.isEmpty else { return [] }
        return [
            diagnostic(
                .info, Code.externalHost,
                "\(outside.joined(separator: ", ")) is outside this machine: the local run has no internet access, so calls to it fail there; on Kubernetes the ServiceEntry lets the mesh reach it",
                ja: "\(outside.joined(separator: ", ")) はこのマシンの外にあります。ローカル実行ではインターネットに接続できないため、そこへの呼び出しは失敗します。Kubernetes 上では、この ServiceEntry によってメッシュから到達できます",
                kind: "ServiceEntry", name: entry.name, source: entry.source, field: "spec.hosts")
        ]
    }
}
