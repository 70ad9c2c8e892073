import Foundation
import MeshModel

/// Picks the route Envoy would pick in a generated `RouteConfiguration`: the virtual host by
/// domain (exact, then longest suffix wildcard, then longest prefix wildcard, then `*`), then the
/// first route whose match accepts the request.
struct RouteSimulator {
    /// What a request ends up with.
    struct Outcome {
        var virtualHost: String
        var route: Value
        var routeName: String? { route["name"]?.stringValue }
        var cluster: String? { route["route"]?["cluster"]?.stringValue }
        /// `weighted_clusters` as name → weight.
        var weights: [String: Int] {
            var result: [String: Int] = [:]
            for entry in route["route"]?["weighted_clusters"]?["clusters"]?.arrayValue ?? [] {
                if let name = entry["name"]?.stringValue, case .int(let weight)? = entry["weight"] { result[name] = weight }
            }
            return result
        }
        var fault: Value? { route["typed_per_filter_config"]?["envoy.filters.http.fault"] }
        var directStatus: Int? {
            if case .int(let status)? = route["direct_response"]?["status"] { return status }
            return nil
        }
    }

    let configuration: Value

    /// nil when no virtual host or no route matches (Envoy: 404 NR).
    func route(host: String, path: String, headers: [String: String] = [:], method: String = "GET") -> Outcome? {
        guard let virtualHost = selectVirtualHost(host.lowercased()) else { return nil }
        var all = headers.reduce(into: [String: String]()) { $0[$1.key.lowercased()] = $1.value }
        all[":authority"] = host
        all[":method"] = method
        all[":path"] = path
        all[":scheme"] = "http"
        for route in virtualHost["routes"]?.arrayValue ?? [] where matches(route["match"] ?? [:], path: path, headers: all) {
            return Outcome(virtualHost: virtualHost["name"]?.stringValue ?? "", route: route)
        }
        return nil
    }

    private func selectVirtualHost(_ host: String) -> Value? {
        let hosts = configuration["virtual_hosts"]?.arrayValue ?? []
        func domains(_ vhost: Value) -> [String] { (vhost["domains"]?.arrayValue ?? []).compactMap(\.stringValue) }
        if let exact = hosts.first(where: { domains($0).contains(host) }) { return exact }
        var best: (length: Int, host: Value)?
        for vhost in hosts {
            for domain in domains(vhost) where domain.hasPrefix("*") && domain != "*" && host.hasSuffix(domain.dropFirst()) {
                if domain.count > (best?.length ?? 0) { best = (domain.count, vhost) }
            }
        }
        if let best { return best.host }
        for vhost in hosts {
            for domain in domains(vhost) where domain.hasSuffix("*") && domain != "*" && host.hasPrefix(domain.dropLast()) {
                if domain.count > (best?.length ?? 0) { best = (domain.count, vhost) }
            }
        }
        if let best { return best.host }
        return hosts.first { domains($0).contains("*") }
    }

    private func matches(_ match: Value, path fullPath: String, headers: [String: String]) -> Bool {
        let parts = fullPath.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = String(parts.first ?? "")
        let query = parts.count > 1 ? String(parts[1]) : ""
        let caseSensitive = match["case_sensitive"] != .bool(false)
        let fold = { (text: String) in caseSensitive ? text : text.lowercased() }
        if let prefix = match["prefix"]?.stringValue, !fold(path).hasPrefix(fold(prefix)) { return false }
        if let exact = match["path"]?.stringValue, fold(path) != fold(exact) { return false }
        if let regex = match["safe_regex"]?["regex"]?.stringValue, !Self.fullMatch(regex, path) { return false }
        for matcher in match["headers"]?.arrayValue ?? [] {
            guard let name = matcher["name"]?.stringValue else { return false }
            var value = headers[name]
            if value == nil, matcher["treat_missing_header_as_empty"] == .bool(true) { value = "" }
            var result: Bool
            if matcher["present_match"] == .bool(true) {
                result = value != nil
            } else if let value, let stringMatch = matcher["string_match"] {
                result = Self.matches(stringMatch, value)
            } else {
                result = false
            }
            if matcher["invert_match"] == .bool(true) { result.toggle() }
            if !result { return false }
        }
        let parameters = query.split(separator: "&").reduce(into: [String: String]()) { result, pair in
            let keyValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            result[String(keyValue[0])] = keyValue.count > 1 ? String(keyValue[1]) : ""
        }
        for matcher in match["query_parameters"]?.arrayValue ?? [] {
            guard let name = matcher["name"]?.stringValue, let value = parameters[name] else { return false }
            if let stringMatch = matcher["string_match"], !Self.matches(stringMatch, value) { return false }
        }
        return true
    }

    static func matches(_ stringMatch: Value, _ value: String) -> Bool {
        if let exact = stringMatch["exact"]?.stringValue { return value == exact }
        if let prefix = stringMatch["prefix"]?.stringValue { return value.hasPrefix(prefix) }
        if let regex = stringMatch["safe_regex"]?["regex"]?.stringValue { return fullMatch(regex, value) }
        return false
    }

    static func fullMatch(_ pattern: String, _ text: String) -> Bool {
        guard let regex = try? NSRegularExpression(pattern: "^(?:\(pattern))$") else { return false }
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}
