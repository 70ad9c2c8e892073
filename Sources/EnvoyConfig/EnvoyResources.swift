import MeshModel

/// The translation of one namespace: everything one Envoy serves, ready for file-based xDS.
public struct EnvoyResources: Sendable, Equatable {
    /// `envoy.config.listener.v3.Listener` resources, each with `@type`, sorted by name.
    public var listeners: [Value]
    /// `envoy.config.cluster.v3.Cluster` resources (STATIC, `load_assignment` inline), sorted by name.
    public var clusters: [Value]
    /// `envoy.config.route.v3.RouteConfiguration` resources, sorted by name.
    public var routeConfigurations: [Value]

    public init(listeners: [Value], clusters: [Value], routeConfigurations: [Value]) {
        self.listeners = listeners
        self.clusters = clusters
        self.routeConfigurations = routeConfigurations
    }

    /// The `DiscoveryResponse` documents for the `xds` folder, file name → JSON text, each
    /// `{"version_info": "<version>", "resources": [...]}`: `cds.json`, `lds.json` and one
    /// `rds.<route config>.json` per route configuration (``EnvoyNaming/rdsFile(routeConfig:)``),
    /// because Envoy's file-based RDS takes exactly one RouteConfiguration per file.
    public func files(version: Int) -> [String: String] {
        Dictionary(uniqueKeysWithValues: orderedFiles(version: version).map { ($0.name, $0.text) })
    }

    /// The same files in the order to write them so that nothing names a missing resource:
    /// `cds.json`, then the RDS files (sorted), then `lds.json`.
    public func orderedFiles(version: Int) -> [(name: String, text: String)] {
        func document(_ resources: [Value]) -> String {
            let response: Value = ["version_info": .string(String(version)), "resources": .array(resources)]
            return response.prettyJSON
        }
        var files: [(name: String, text: String)] = [(EnvoyNaming.cdsFile, document(clusters))]
        for configuration in routeConfigurations {
            let name = configuration["name"]?.stringValue ?? ""
            files.append((EnvoyNaming.rdsFile(routeConfig: name), document([configuration])))
        }
        files.append((EnvoyNaming.ldsFile, document(listeners)))
        return files
    }

    /// A resource by its `name`, from any of the three lists.
    public func resource(named name: String) -> Value? {
        (listeners + clusters + routeConfigurations).first { $0["name"]?.stringValue == name }
    }
}
