import MeshModel

/// Istio `HTTPMatchRequest` → Envoy `RouteMatch`.
enum RouteMatchBuilder {
    /// A match block (nil: the rule has none) as an Envoy `RouteMatch`.
    static func buildMatch(_ match: HTTPMatch?) -> Value {
        var value: Value = [:]
        switch match?.uri {
        case .exact(let path)?: value["path"] = .string(path)
        case .prefix(let prefix)?: value["prefix"] = .string(prefix)
        case .regex(let regex)?: value["safe_regex"] = ["regex": .string(regex)]
        case .present?, nil: value["prefix"] = "/"
        }
        value["case_sensitive"] = .bool(!(match?.ignoreUriCase ?? false))
        guard let match else { return value }
        var headers: [(name: String, inverted: Bool, matcher: Value)] = []
        for (name, condition) in match.headers {
            headers.append((name, false, buildHeaderMatcher(name: name, condition, inverted: false)))
        }
        for (name, condition) in match.withoutHeaders {
            headers.append((name, true, buildHeaderMatcher(name: name, condition, inverted: true)))
        }
        for (name, condition) in [(":method", match.method), (":authority", match.authority), (":scheme", match.scheme)] {
            if let condition { headers.append((name, false, buildHeaderMatcher(name: name, condition, inverted: false))) }
        }
        headers.sort { ($0.name, $0.inverted ? 1 : 0) < ($1.name, $1.inverted ? 1 : 0) }
        if !headers.isEmpty { value["headers"] = .array(headers.map(\.matcher)) }
        let queries: [Value] = match.queryParams.sorted { $0.0 < $1.0 }.map { name, condition in
            if condition == .present { return ["name": .string(name), "present_match": true] }
            return ["name": .string(name), "string_match": EnvoyValues.stringMatcher(condition)]
        }
        if !queries.isEmpty { value["query_parameters"] = .array(queries) }
        return value
    }

    /// A `HeaderMatcher`; negated value matchers treat a missing header as empty so that requests
    /// without the header match, as Istio's `withoutHeaders` means (a negated presence check needs no help).
    static func buildHeaderMatcher(name: String, _ condition: StringMatch, inverted: Bool) -> Value {
        var value: Value = ["name": .string(name)]
        if condition == .present {
            value["present_match"] = true
        } else {
            value["string_match"] = EnvoyValues.stringMatcher(condition)
        }
        if inverted {
            value["invert_match"] = true
            if condition != .present { value["treat_missing_header_as_empty"] = true }
        }
        return value
    }

    /// A block that matches every request (`prefix: /` and nothing else).
    static func isCatchAll(_ match: HTTPMatch) -> Bool {
        let uriCatchesAll = match.uri == nil || match.uri == .prefix("/")
        return uriCatchesAll && match.headers.isEmpty && match.withoutHeaders.isEmpty && match.queryParams.isEmpty
            && match.method == nil && match.authority == nil && match.scheme == nil
    }
}
