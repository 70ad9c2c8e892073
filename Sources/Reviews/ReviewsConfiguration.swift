import BookinfoKit
import NIOCore

/// How one reviews process behaves, from its environment (spec §4).
public struct ReviewsConfiguration: Sendable, Equatable {
    /// Whether reviews call ratings and show stars (v2, v3).
    public var enableRatings: Bool
    /// The star colour: `black` (v2) or `red` (v3).
    public var starColor: String
    /// `http://<RATINGS_HOSTNAME><domain>:<RATINGS_SERVICE_PORT>`.
    public var ratingsBase: String
    /// `HOSTNAME` (the pod name in Kubernetes), or the string `null`.
    public var podName: String
    /// `CLUSTER_NAME`, or the string `null`.
    public var clusterName: String

    /// Reads `ENABLE_RATINGS` and `STAR_COLOR`, deriving them from `SERVICE_VERSION` when unset
    /// (v1 → off/black, v2 → on/black, v3 → on/red; explicit values win), plus `SERVICES_DOMAIN`,
    /// `RATINGS_HOSTNAME`, `RATINGS_SERVICE_PORT`, `HOSTNAME` and `CLUSTER_NAME`.
    public init(_ environment: BookinfoEnvironment) {
        let version = environment["SERVICE_VERSION"] ?? "v1"
        enableRatings = environment.flag("ENABLE_RATINGS") ?? (version == "v2" || version == "v3")
        starColor = environment["STAR_COLOR"] ?? (version == "v3" ? "red" : "black")
        ratingsBase = environment.upstreamBase(for: "ratings")
        podName = environment["HOSTNAME"] ?? "null"
        clusterName = environment["CLUSTER_NAME"] ?? "null"
    }

    /// The ratings call's timeout: 10 s when the colour is exactly `black`, otherwise 2.5 s,
    /// as the Java original hard-codes it.
    public var ratingsTimeout: TimeAmount {
        starColor == "black" ? .milliseconds(10_000) : .milliseconds(2_500)
    }
}
