import Foundation

/// The process environment as the bookinfo services read it.
///
/// Variable names are exactly those of Istio's bookinfo (spec §2.1, §4): `SERVICES_DOMAIN`,
/// `DETAILS_HOSTNAME`, `DETAILS_SERVICE_PORT`, `REVIEWS_HOSTNAME`, … An empty string counts as set.
/// Tests pass their own dictionary instead of the process environment.
public struct BookinfoEnvironment: Sendable {
    public var values: [String: String]

    /// - Parameter values: the variables; the process environment when omitted.
    public init(_ values: [String: String] = ProcessInfo.processInfo.environment) {
        self.values = values
    }

    public subscript(_ key: String) -> String? { values[key] }

    /// `http://<host><domain>:<port>` for one upstream service, as spec §1 builds it.
    ///
    /// - Parameter service: the service name, `details`, `reviews` or `ratings`; it is also the
    ///   default host name, and its upper-cased form prefixes `_HOSTNAME` and `_SERVICE_PORT`.
    /// - Returns: the base URL without a trailing slash.
    public func upstreamBase(for service: String) -> String {
        let prefix = service.uppercased()
        let host = values["\(prefix)_HOSTNAME"] ?? service
        let port = values["\(prefix)_SERVICE_PORT"] ?? "9080"
        let domain = values["SERVICES_DOMAIN"].map { ".\($0)" } ?? ""
        return "http://\(host)\(domain):\(port)"
    }

    /// A boolean the way the Java reviews service reads one: true only for `true`, any case.
    public func flag(_ key: String) -> Bool? {
        values[key].map { $0.lowercased() == "true" }
    }
}
