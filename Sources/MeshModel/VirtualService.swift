/// How a string is matched (Istio `StringMatch`); headers also allow a presence check.
public enum StringMatch: Sendable, Equatable {
    case exact(String)
    case prefix(String)
    case regex(String)
    /// `{}` or `regex: "*"` on a header: the header is present, whatever its value.
    case present
}

/// A destination service, optionally a subset and port.
public struct Destination: Sendable, Equatable {
    public var host: String
    public var subset: String?
    public var port: Int?
}

/// Header changes of a route or destination.
public struct HeaderOperations: Sendable, Equatable {
    public struct Operations: Sendable, Equatable {
        public var set: [(String, String)] = []
        public var add: [(String, String)] = []
        public var remove: [String] = []

        public static func == (lhs: Operations, rhs: Operations) -> Bool {
            lhs.set.elementsEqual(rhs.set, by: ==) && lhs.add.elementsEqual(rhs.add, by: ==) && lhs.remove == rhs.remove
        }
    }

    public var request = Operations()
    public var response = Operations()
}

/// One weighted destination of a route.
public struct RouteDestination: Sendable, Equatable {
    public var destination: Destination
    /// The weight as written; nil when omitted.
    public var weight: Int?
    public var headers: HeaderOperations?
}

extension [RouteDestination] {
    /// The weights as a proxy applies them: a lone destination takes everything, whatever is
    /// written; otherwise a missing (or negative) weight is 0. Istio rescales them to their sum.
    public var effectiveWeights: [Int] {
        count == 1 ? [100] : map { Swift.max($0.weight ?? 0, 0) }
    }
}

/// One `match` block: its conditions are AND-ed; blocks of a route are OR-ed.
public struct HTTPMatch: Sendable, Equatable {
    public var name: String?
    public var uri: StringMatch?
    public var scheme: StringMatch?
    public var method: StringMatch?
    public var authority: StringMatch?
    public var headers: [(String, StringMatch)] = []
    public var withoutHeaders: [(String, StringMatch)] = []
    public var queryParams: [(String, StringMatch)] = []
    public var ignoreUriCase = false
    public var sourceLabels: [String: String] = [:]
    public var sourceNamespace: String?
    public var gateways: [String] = []
    public var port: Int?

    public static func == (lhs: HTTPMatch, rhs: HTTPMatch) -> Bool {
        lhs.name == rhs.name && lhs.uri == rhs.uri && lhs.scheme == rhs.scheme && lhs.method == rhs.method
            && lhs.authority == rhs.authority && lhs.headers.elementsEqual(rhs.headers, by: ==)
            && lhs.withoutHeaders.elementsEqual(rhs.withoutHeaders, by: ==)
            && lhs.queryParams.elementsEqual(rhs.queryParams, by: ==) && lhs.ignoreUriCase == rhs.ignoreUriCase
            && lhs.sourceLabels == rhs.sourceLabels && lhs.sourceNamespace == rhs.sourceNamespace
            && lhs.gateways == rhs.gateways && lhs.port == rhs.port
    }
}

/// Fault injection of a route. Percentages are 0–100; nil means "not set", which Istio treats as 0 %.
public struct HTTPFault: Sendable, Equatable {
    public struct Delay: Sendable, Equatable {
        public var fixedDelay: Double
        public var percentage: Double?
    }

    public struct Abort: Sendable, Equatable {
        public var httpStatus: Int
        public var percentage: Double?
    }

    public var delay: Delay?
    public var abort: Abort?
}

public struct HTTPRetry: Sendable, Equatable {
    public var attempts: Int
    public var perTryTimeout: Double?
    public var retryOn: String?
}

public struct HTTPRewrite: Sendable, Equatable {
    public var uri: String?
    public var authority: String?
}

public struct HTTPRedirect: Sendable, Equatable {
    public var uri: String?
    public var authority: String?
    public var redirectCode: Int?
    public var scheme: String?
    public var port: Int?
}

public struct HTTPDirectResponse: Sendable, Equatable {
    public var status: Int
    public var body: String?
}

public struct CorsPolicy: Sendable, Equatable {
    public var allowOrigins: [StringMatch] = []
    public var allowMethods: [String] = []
    public var allowHeaders: [String] = []
    public var exposeHeaders: [String] = []
    public var maxAge: Double?
    public var allowCredentials: Bool?
}

/// One entry of `spec.http`.
public struct HTTPRoute: Sendable, Equatable {
    public var name: String?
    public var match: [HTTPMatch] = []
    public var route: [RouteDestination] = []
    public var redirect: HTTPRedirect?
    public var directResponse: HTTPDirectResponse?
    public var rewrite: HTTPRewrite?
    public var timeout: Double?
    public var retries: HTTPRetry?
    public var fault: HTTPFault?
    public var mirror: Destination?
    public var mirrorPercentage: Double?
    public var corsPolicy: CorsPolicy?
    public var headers: HeaderOperations?
}

/// networking.istio.io VirtualService (v1alpha3, v1beta1, v1).
public struct VirtualService: Sendable, Equatable {
    public var name: String
    public var namespace: String
    public var hosts: [String]
    /// As written; empty means `mesh`.
    public var gateways: [String]
    public var http: [HTTPRoute]
    public var hasTCPOrTLSRoutes: Bool
    public var source: SourceLocation
}
