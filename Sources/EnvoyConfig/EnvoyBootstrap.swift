import MeshModel

/// The bootstrap file of a namespace's Envoy.
public enum EnvoyBootstrap {
    /// Bootstrap JSON: node id/cluster, admin on `127.0.0.1:adminPort`, and LDS/CDS from the files
    /// `xds/lds.json` and `xds/cds.json` (relative to Envoy's working directory, API version V3).
    public static func render(nodeID: String, adminPort: Int) -> String {
        buildBootstrap(nodeID: nodeID, admin: EnvoyValues.socketAddress(host: "127.0.0.1", port: adminPort)).prettyJSON
    }

    /// The same with the admin interface on a Unix socket (mode 0600), which only the owner of
    /// the socket's folder can reach: no `quitquitquit` or `drain_listeners` for anyone else on
    /// the machine.
    public static func render(nodeID: String, adminSocket: String) -> String {
        buildBootstrap(nodeID: nodeID, admin: ["pipe": ["path": .string(adminSocket), "mode": 384]]).prettyJSON
    }

    static func buildBootstrap(nodeID: String, admin: Value) -> Value {
        [
            "node": ["id": .string(nodeID), "cluster": "meshdojo"],
            "admin": ["address": admin],
            "dynamic_resources": [
                "lds_config": configSource(path: EnvoyNaming.ldsPath),
                "cds_config": configSource(path: EnvoyNaming.cdsPath),
            ],
        ]
    }

    /// A file-based `ConfigSource`.
    static func configSource(path: String) -> Value {
        ["resource_api_version": "V3", "path_config_source": ["path": .string(path)]]
    }
}
