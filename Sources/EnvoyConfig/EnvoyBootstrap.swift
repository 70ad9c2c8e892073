import MeshModel

/// The bootstrap file of a namespace's Envoy.
public enum EnvoyBootstrap {
    /// Bootstrap JSON: node id/cluster, admin on `127.0.0.1:adminPort`, and LDS/CDS from the files
    /// `xds/lds.json` and `xds/cds.json` (relative to Envoy's working directory, API version V3).
    public static func render(nodeID: String, adminPort: Int) -> String {
        buildBootstrap(nodeID: nodeID, adminPort: adminPort).prettyJSON
    }

    static func buildBootstrap(nodeID: String, adminPort: Int) -> Value {
        [
            "node": ["id": .string(nodeID), "cluster": "meshdojo"],
            "admin": ["address": EnvoyValues.socketAddress(host: "127.0.0.1", port: adminPort)],
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
