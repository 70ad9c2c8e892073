/// VirtualService rules: what Istio's validation webhook and CRD schema refuse.
extension Validation {
    /// - Parameters:
    ///   - service: the parsed VirtualService.
    ///   - raw: its `spec` as written (for fields the typed value does not keep, and for the path the user wrote).
    static func check(_ service: VirtualService, raw: Value, _ object: KubeObject) -> [Diagnostic] {
        var findings = Findings(object: object)
        if service.hosts.isEmpty {
            findings.error(
                "spec.hosts",
                "a VirtualService needs at least one host: add 'hosts:' with the service it routes, for example '- reviews'")
        }
        for (index, host) in service.hosts.enumerated() where host.trimmingCharacters(in: .whitespaces).isEmpty {
            findings.error("spec.hosts[\(index)]", "a host must not be empty: write the service name, for example reviews")
        }
        let rawRoutes = raw["http"]?.arrayValue ?? []
        for (index, route) in service.http.enumerated() {
            check(route, raw: index < rawRoutes.count ? rawRoutes[index] : .object([]), "spec.http[\(index)]", &findings)
        }
        return findings.list
    }

    static func check(_ route: HTTPRoute, raw: Value, _ path: String, _ findings: inout Findings) {
        let hasDelegate = raw["delegate"] != nil
        if !route.route.isEmpty, route.redirect != nil {
            findings.error(path, "has both 'route' and 'redirect': a rule either forwards the request or redirects it; remove one of them")
        }
        if !route.route.isEmpty, route.directResponse != nil {
            findings.error(path, "has both 'route' and 'directResponse': a rule either forwards the request or answers it directly; remove one of them")
        }
        if route.redirect != nil, route.directResponse != nil {
            findings.error(path, "has both 'redirect' and 'directResponse': keep only one of them")
        }
        if route.rewrite != nil, route.redirect != nil {
            findings.error("\(path).rewrite", "'rewrite' cannot be used together with 'redirect': a redirect already tells the client where to go; remove 'rewrite'")
        }
        if route.route.isEmpty, route.redirect == nil, route.directResponse == nil, !hasDelegate {
            findings.error(
                path,
                "says nothing about where requests go: add a 'route:' with at least one destination (for example '- destination: {host: reviews, subset: v1}'), or a 'redirect' or 'directResponse'")
        }
        checkWeights(route, path, &findings)
        for (index, item) in route.route.enumerated() {
            checkDestination(item.destination, "\(path).route[\(index)].destination", &findings)
        }
        if let mirror = route.mirror { checkDestination(mirror, "\(path).mirror", &findings) }
        if let percentage = route.mirrorPercentage {
            let field = raw["mirrorPercentage"] != nil ? "\(path).mirrorPercentage.value" : "\(path).mirrorPercent"
            checkPercentage(percentage, field, &findings)
        }
        for (index, match) in route.match.enumerated() {
            checkMatch(match, "\(path).match[\(index)]", &findings)
        }
        checkFault(route.fault, raw: raw["fault"], "\(path).fault", &findings)
        if let timeout = route.timeout, timeout < 0.001 {
            findings.error("\(path).timeout", "must be at least 1ms, such as 10s or 500ms; leave 'timeout' out to have no timeout")
        }
        if let retries = route.retries {
            if retries.attempts < 0 {
                findings.error("\(path).retries.attempts", "is \(retries.attempts): the number of retries cannot be negative; write 0 to turn retries off, or a number such as 3")
            }
            if let perTry = retries.perTryTimeout, perTry < 0.001 {
                findings.error("\(path).retries.perTryTimeout", "must be at least 1ms, such as 2s; leave it out to use the whole request timeout")
            }
        }
        if let direct = route.directResponse {
            if raw["directResponse"]?["status"] == nil {
                findings.error("\(path).directResponse.status", "missing: a direct response needs a status, such as 503")
            } else if !(200...599).contains(direct.status) {
                findings.error("\(path).directResponse.status", "is \(direct.status): an HTTP status must be between 200 and 599")
            }
        }
        if let port = route.redirect?.port, !validPorts.contains(port) {
            findings.error("\(path).redirect.port", "is \(port): a port number must be between 1 and 65535")
        }
    }

    /// The largest weight, and the largest sum of weights, Istio and Envoy accept (uint32).
    static let maxWeight = 4_294_967_295

    static func checkWeights(_ route: HTTPRoute, _ path: String, _ findings: inout Findings) {
        for (index, item) in route.route.enumerated() {
            if let weight = item.weight, weight < 0 {
                findings.error("\(path).route[\(index)].weight", "is \(weight): a weight cannot be negative; use 0 to send this destination nothing")
            } else if let weight = item.weight, weight > maxWeight {
                findings.error("\(path).route[\(index)].weight", "is \(weight): a weight must fit in 32 bits (at most 4294967295); write percentages that add up to 100")
            }
        }
        guard route.route.count > 1, route.route.allSatisfy({ (0...maxWeight).contains($0.weight ?? 0) }) else { return }
        // Each weight fits in 32 bits, so the sum of a route's weights cannot overflow Int.
        let total = route.route.reduce(0) { $0 + ($1.weight ?? 0) }
        if total > maxWeight {
            findings.error("\(path).route", "weights add up to \(total), more than 4294967295 (32 bits), which Istio refuses: make them add up to 100")
        } else if total == 0 {
            let even = route.route.count == 2 ? "" : " (here, for example, weight: \(100 / route.route.count) on each)"
            findings.error(
                "\(path).route",
                "has \(route.route.count) destinations but their weights add up to 0, so Istio cannot split the traffic: weights must add up to more than 0; for a 50/50 split write weight: 50 on each\(even)")
        } else if total != 100 {
            let written = route.route.map { String($0.weight ?? 0) }.joined(separator: " + ")
            findings.warning(
                "\(path).route", code: Code.weightsNot100,
                "weights add up to \(total) (\(written)), not 100: Istio 1.0.6 and up to 1.14, which this workshop follows, refuse this VirtualService; current Istio takes each weight as a share of \(total). Make them add up to 100")
        }
    }

    static func checkDestination(_ destination: Destination, _ path: String, _ findings: inout Findings) {
        if destination.host.trimmingCharacters(in: .whitespaces).isEmpty {
            findings.error("\(path).host", "must not be empty: write the service name, for example reviews")
        }
        if let port = destination.port, !validPorts.contains(port) {
            findings.error("\(path).port.number", "is \(port): a port number must be between 1 and 65535 (bookinfo's services listen on 9080)")
        }
        if let subset = destination.subset, subset.isEmpty {
            findings.error("\(path).subset", "must not be empty: write a subset name defined in a DestinationRule, such as v1, or leave 'subset' out")
        }
    }

    static func checkMatch(_ match: HTTPMatch, _ path: String, _ findings: inout Findings) {
        let single: [(String, StringMatch?)] = [
            ("uri", match.uri), ("scheme", match.scheme), ("method", match.method), ("authority", match.authority),
        ]
        for case let (name, .regex(pattern)?) in single {
            if let problem = regexProblem(pattern) { findings.error("\(path).\(name).regex", problem) }
        }
        for (key, entries) in [("headers", match.headers), ("withoutHeaders", match.withoutHeaders), ("queryParams", match.queryParams)] {
            for (name, matcher) in entries {
                if key != "queryParams", name != name.lowercased() {
                    findings.error(
                        "\(path).\(key).\(name)",
                        "header names must be lower case: write '\(name.lowercased())' (HTTP/2 and Envoy lower-case every header name, so '\(name)' would never match)")
                }
                if case .regex(let pattern) = matcher, let problem = regexProblem(pattern) {
                    findings.error("\(path).\(key).\(name).regex", problem)
                }
            }
        }
        if let port = match.port, !validPorts.contains(port) {
            findings.error("\(path).port", "is \(port): a port number must be between 1 and 65535")
        }
    }

    static func checkFault(_ fault: HTTPFault?, raw: Value?, _ path: String, _ findings: inout Findings) {
        guard let fault else { return }
        func percentageField(_ part: String) -> String {
            raw?[part]?["percentage"] != nil ? "\(path).\(part).percentage.value" : "\(path).\(part).percent"
        }
        if let delay = fault.delay {
            if delay.fixedDelay < 0.001 {
                findings.error("\(path).delay.fixedDelay", "must be at least 1ms, such as 7s")
            }
            if let percentage = delay.percentage { checkPercentage(percentage, percentageField("delay"), &findings) }
        }
        if let abort = fault.abort {
            if !(200...599).contains(abort.httpStatus) {
                findings.error(
                    "\(path).abort.httpStatus",
                    "is \(abort.httpStatus): an HTTP status must be between 200 and 599, for example 500 or 503")
            }
            if let percentage = abort.percentage { checkPercentage(percentage, percentageField("abort"), &findings) }
        }
    }

    static func checkPercentage(_ value: Double, _ field: String, _ findings: inout Findings) {
        if !(0...100).contains(value) {
            findings.error(field, "is \(format(value)): a percentage must be between 0 and 100 (100 means every request)")
        }
    }
}
