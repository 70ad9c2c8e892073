import MeshModel

/// Per-route filter configuration (fault, CORS), retry policies and header operations.
enum RoutePolicyBuilder {
    static let defaultRetryOn = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes"

    /// `typed_per_filter_config` for a rule, nil when it has neither fault nor CORS policy.
    static func buildFilterConfig(fault: HTTPFault?, cors: CorsPolicy?) -> Value? {
        var config: Value = [:]
        if let fault, fault.delay != nil || fault.abort != nil {
            config[EnvoyNaming.faultFilter] = buildFault(fault)
        }
        if let cors { config[EnvoyNaming.corsFilter] = buildCors(cors) }
        return config == [:] ? nil : config
    }

    /// Istio `fault` → `HTTPFault`; an unset percentage is 0 %.
    static func buildFault(_ fault: HTTPFault) -> Value {
        var value: Value = ["@type": .string(EnvoyNaming.faultType)]
        if let delay = fault.delay {
            value["delay"] = [
                "fixed_delay": EnvoyValues.duration(delay.fixedDelay),
                "percentage": EnvoyValues.fractionalPercent(delay.percentage),
            ]
        }
        if let abort = fault.abort {
            value["abort"] = [
                "http_status": .int(abort.httpStatus),
                "percentage": EnvoyValues.fractionalPercent(abort.percentage),
            ]
        }
        return value
    }

    /// Istio `corsPolicy` → per-route `CorsPolicy` (enabled for every request, unmatched preflights forwarded).
    static func buildCors(_ cors: CorsPolicy) -> Value {
        var value: Value = ["@type": .string(EnvoyNaming.corsPolicyType)]
        if !cors.allowOrigins.isEmpty {
            value["allow_origin_string_match"] = .array(cors.allowOrigins.map(EnvoyValues.stringMatcher))
        }
        if !cors.allowMethods.isEmpty { value["allow_methods"] = .string(cors.allowMethods.joined(separator: ",")) }
        if !cors.allowHeaders.isEmpty { value["allow_headers"] = .string(cors.allowHeaders.joined(separator: ",")) }
        if !cors.exposeHeaders.isEmpty { value["expose_headers"] = .string(cors.exposeHeaders.joined(separator: ",")) }
        if let maxAge = cors.maxAge { value["max_age"] = .string(String(Int(maxAge.rounded()))) }
        if let credentials = cors.allowCredentials { value["allow_credentials"] = .bool(credentials) }
        value["filter_enabled"] = ["default_value": ["numerator": 100, "denominator": "HUNDRED"]]
        value["forward_not_matching_preflights"] = true
        return value
    }

    /// Istio's default retry policy (≥ 1.24) when `retries` is unset; none when `attempts` is 0.
    static func buildRetryPolicy(_ retries: HTTPRetry?) -> Value? {
        guard let retries else { return buildRetry(retryOn: defaultRetryOn, attempts: 2, perTryTimeout: nil, codes: []) }
        guard retries.attempts > 0 else { return nil }
        var conditions: [String] = []
        var codes: [Int] = []
        for part in (retries.retryOn ?? defaultRetryOn).split(separator: ",") {
            let condition = String(part.filter { !$0.isWhitespace })
            guard !condition.isEmpty else { continue }
            if let code = Int(condition) { codes.append(code) } else { conditions.append(condition) }
        }
        if !codes.isEmpty, !conditions.contains("retriable-status-codes") { conditions.append("retriable-status-codes") }
        return buildRetry(
            retryOn: conditions.joined(separator: ","), attempts: retries.attempts, perTryTimeout: retries.perTryTimeout,
            codes: codes)
    }

    private static func buildRetry(retryOn: String, attempts: Int, perTryTimeout: Double?, codes: [Int]) -> Value {
        var value: Value = ["retry_on": .string(retryOn), "num_retries": .int(attempts)]
        value["per_try_timeout"] = perTryTimeout.map(EnvoyValues.duration)
        value["retry_host_predicate"] = [
            ["name": .string(EnvoyNaming.previousHostsPredicate), "typed_config": ["@type": .string(EnvoyNaming.previousHostsPredicateType)]]
        ]
        value["host_selection_retry_max_attempts"] = 5
        if !codes.isEmpty { value["retriable_status_codes"] = .array(codes.map { .int($0) }) }
        return value
    }

    /// Adds `request_headers_to_add`/`_remove` and `response_headers_to_add`/`_remove` to a route
    /// or weighted cluster. `Host`/`:authority` in `request.set` is left to ``hostRewrite(_:)``.
    static func applyHeaders(_ headers: HeaderOperations?, to value: inout Value) {
        guard let headers else { return }
        let requestSet = headers.request.set.filter { !isAuthority($0.0) }
        let requestAdd = buildHeaderValues(set: requestSet, add: headers.request.add)
        let responseAdd = buildHeaderValues(set: headers.response.set, add: headers.response.add)
        if !requestAdd.isEmpty { value["request_headers_to_add"] = .array(requestAdd) }
        if !headers.request.remove.isEmpty { value["request_headers_to_remove"] = .array(headers.request.remove.map { .string($0) }) }
        if !responseAdd.isEmpty { value["response_headers_to_add"] = .array(responseAdd) }
        if !headers.response.remove.isEmpty { value["response_headers_to_remove"] = .array(headers.response.remove.map { .string($0) }) }
    }

    /// The `Host` a `request.set` of `host`/`:authority` rewrites to.
    static func hostRewrite(_ headers: HeaderOperations?) -> String? {
        headers?.request.set.last { isAuthority($0.0) }?.1
    }

    private static func isAuthority(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower == "host" || lower == ":authority"
    }

    private static func buildHeaderValues(set: [(String, String)], add: [(String, String)]) -> [Value] {
        set.map { buildHeaderValue($0.0, $0.1, action: "OVERWRITE_IF_EXISTS_OR_ADD") }
            + add.map { buildHeaderValue($0.0, $0.1, action: "APPEND_IF_EXISTS_OR_ADD") }
    }

    private static func buildHeaderValue(_ name: String, _ text: String, action: String) -> Value {
        ["header": ["key": .string(name), "value": .string(text)], "append_action": .string(action)]
    }
}
