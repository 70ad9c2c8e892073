/// Load balancing, connection limits and outlier detection (Istio `TrafficPolicy`).
public struct TrafficPolicy: Sendable, Equatable {
    /// `simple` load balancer: ROUND_ROBIN, LEAST_REQUEST, LEAST_CONN, RANDOM, PASSTHROUGH.
    public var loadBalancer: String?
    public var consistentHashHeader: String?
    public var maxConnections: Int?
    public var connectTimeout: Double?
    public var http1MaxPendingRequests: Int?
    public var http2MaxRequests: Int?
    public var maxRequestsPerConnection: Int?
    public var maxRetries: Int?
    public var idleTimeout: Double?
    public var outlierDetection: OutlierDetection?
    /// `tls.mode` as written; a loopback mesh does not encrypt.
    public var tlsMode: String?

    public struct OutlierDetection: Sendable, Equatable {
        public var consecutive5xxErrors: Int?
        public var consecutiveGatewayErrors: Int?
        public var interval: Double?
        public var baseEjectionTime: Double?
        public var maxEjectionPercent: Int?
        public var minHealthPercent: Int?
    }

    /// `other`'s settings where set, this policy's elsewhere (a subset's policy over the top level).
    public func overlaid(by other: TrafficPolicy?) -> TrafficPolicy {
        guard let other else { return self }
        var merged = self
        merged.loadBalancer = other.loadBalancer ?? loadBalancer
        merged.consistentHashHeader = other.consistentHashHeader ?? consistentHashHeader
        merged.maxConnections = other.maxConnections ?? maxConnections
        merged.connectTimeout = other.connectTimeout ?? connectTimeout
        merged.http1MaxPendingRequests = other.http1MaxPendingRequests ?? http1MaxPendingRequests
        merged.http2MaxRequests = other.http2MaxRequests ?? http2MaxRequests
        merged.maxRequestsPerConnection = other.maxRequestsPerConnection ?? maxRequestsPerConnection
        merged.maxRetries = other.maxRetries ?? maxRetries
        merged.idleTimeout = other.idleTimeout ?? idleTimeout
        merged.outlierDetection = other.outlierDetection ?? outlierDetection
        merged.tlsMode = other.tlsMode ?? tlsMode
        return merged
    }
}

public struct Subset: Sendable, Equatable {
    public var name: String
    public var labels: [String: String]
    public var trafficPolicy: TrafficPolicy?
}

/// networking.istio.io DestinationRule.
public struct DestinationRule: Sendable, Equatable {
    public var name: String
    public var namespace: String
    public var host: String
    public var trafficPolicy: TrafficPolicy?
    public var subsets: [Subset]
    public var source: SourceLocation
}

/// networking.istio.io Gateway.
public struct Gateway: Sendable, Equatable {
    public struct Server: Sendable, Equatable {
        public var portNumber: Int
        public var portName: String?
        public var proto: String
        public var hosts: [String]
    }

    public var name: String
    public var namespace: String
    public var selector: [String: String]
    public var servers: [Server]
    public var source: SourceLocation
}

/// networking.istio.io ServiceEntry: accepted and listed; hosts outside this machine are not reachable.
public struct ServiceEntry: Sendable, Equatable {
    public var name: String
    public var namespace: String
    public var hosts: [String]
    public var location: String?
    public var source: SourceLocation
}
