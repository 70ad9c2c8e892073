/// Reads Istio networking objects into typed values, reporting every structural mistake
/// (wrong type, unknown or misspelt field, bad duration) with its field path.
public enum NetworkingParser {
    /// The Istio API versions accepted for the networking kinds.
    public static let versions: Set<String> = ["v1alpha3", "v1beta1", "v1"]

    static func diagnostics(_ reader: SpecReader, _ object: KubeObject) -> [Diagnostic] {
        reader.problems.map { Diagnostic(.error, code: "MD0001", $0.message, about: object, field: $0.field) }
    }

    static func specMembers(_ reader: SpecReader, _ object: KubeObject, known: Set<String>) -> [(String, Value)] {
        if object.body["spec"] == nil {
            reader.problem("spec", "missing")
            return []
        }
        return reader.map(object.body["spec"], "spec", known: known) ?? []
    }

    // MARK: VirtualService

    public static func virtualService(_ object: KubeObject, namespace: String) -> (VirtualService?, [Diagnostic]) {
        let reader = SpecReader()
        let spec = object.spec
        _ = specMembers(reader, object, known: ["hosts", "gateways", "http", "tcp", "tls", "exportTo"])
        let hosts = reader.strings(spec["hosts"], "spec.hosts")
        let gateways = reader.strings(spec["gateways"], "spec.gateways")
        var routes: [HTTPRoute] = []
        for (index, item) in reader.list(spec["http"], "spec.http").enumerated() {
            routes.append(httpRoute(item, "spec.http[\(index)]", reader))
        }
        let service = VirtualService(
            name: object.metadata.name, namespace: namespace, hosts: hosts, gateways: gateways, http: routes,
            hasTCPOrTLSRoutes: spec["tcp"] != nil || spec["tls"] != nil, source: object.source)
        let problems = diagnostics(reader, object)
        return (problems.isEmpty ? service : nil, problems)
    }

    static func httpRoute(_ value: Value, _ path: String, _ reader: SpecReader) -> HTTPRoute {
        var route = HTTPRoute()
        _ = reader.map(
            value, path,
            known: [
                "name", "match", "route", "redirect", "directResponse", "delegate", "rewrite", "timeout", "retries",
                "fault", "mirror", "mirrors", "mirrorPercent", "mirrorPercentage", "mirror_percent", "corsPolicy",
                "headers", "appendHeaders", "removeResponseHeaders", "appendResponseHeaders", "appendRequestHeaders",
                "removeRequestHeaders",
            ])
        route.name = reader.string(value["name"], "\(path).name")
        for (index, item) in reader.list(value["match"], "\(path).match").enumerated() {
            route.match.append(httpMatch(item, "\(path).match[\(index)]", reader))
        }
        for (index, item) in reader.list(value["route"], "\(path).route").enumerated() {
            let itemPath = "\(path).route[\(index)]"
            _ = reader.map(item, itemPath, known: ["destination", "weight", "headers"])
            guard let destination = destination(item["destination"], "\(itemPath).destination", reader) else {
                if item["destination"] == nil { reader.problem("\(itemPath).destination", "missing: each route entry needs a destination with a host") }
                continue
            }
            route.route.append(
                RouteDestination(
                    destination: destination, weight: reader.int(item["weight"], "\(itemPath).weight"),
                    headers: headers(item["headers"], "\(itemPath).headers", reader)))
        }
        if let redirect = value["redirect"] {
            let redirectPath = "\(path).redirect"
            _ = reader.map(redirect, redirectPath, known: ["uri", "authority", "redirectCode", "scheme", "port", "derivePort"])
            route.redirect = HTTPRedirect(
                uri: reader.string(redirect["uri"], "\(redirectPath).uri"),
                authority: reader.string(redirect["authority"], "\(redirectPath).authority"),
                redirectCode: reader.int(redirect["redirectCode"], "\(redirectPath).redirectCode"),
                scheme: reader.string(redirect["scheme"], "\(redirectPath).scheme"),
                port: reader.int(redirect["port"], "\(redirectPath).port"))
        }
        if let direct = value["directResponse"] {
            let directPath = "\(path).directResponse"
            _ = reader.map(direct, directPath, known: ["status", "body"])
            let body = direct["body"]
            route.directResponse = HTTPDirectResponse(
                status: reader.int(direct["status"], "\(directPath).status") ?? 0,
                body: reader.string(body?["string"], "\(directPath).body.string"))
        }
        if let rewrite = value["rewrite"] {
            _ = reader.map(rewrite, "\(path).rewrite", known: ["uri", "authority", "uriRegexRewrite"])
            route.rewrite = HTTPRewrite(
                uri: reader.string(rewrite["uri"], "\(path).rewrite.uri"),
                authority: reader.string(rewrite["authority"], "\(path).rewrite.authority"))
        }
        route.timeout = reader.duration(value["timeout"], "\(path).timeout")
        if let retries = value["retries"] {
            let retriesPath = "\(path).retries"
            _ = reader.map(
                retries, retriesPath,
                known: ["attempts", "perTryTimeout", "retryOn", "retryRemoteLocalities", "retryIgnorePreviousHosts", "backoff"])
            route.retries = HTTPRetry(
                attempts: reader.int(retries["attempts"], "\(retriesPath).attempts") ?? 0,
                perTryTimeout: reader.duration(retries["perTryTimeout"], "\(retriesPath).perTryTimeout"),
                retryOn: reader.string(retries["retryOn"], "\(retriesPath).retryOn"))
        }
        if let fault = value["fault"] {
            route.fault = httpFault(fault, "\(path).fault", reader)
        }
        route.mirror = destination(value["mirror"], "\(path).mirror", reader)
        if let percentage = value["mirrorPercentage"] {
            _ = reader.map(percentage, "\(path).mirrorPercentage", known: ["value"])
            route.mirrorPercentage = reader.double(percentage["value"], "\(path).mirrorPercentage.value")
        } else if let percent = value["mirrorPercent"] ?? value["mirror_percent"] {
            route.mirrorPercentage = reader.double(percent, "\(path).mirrorPercent")
        }
        if let cors = value["corsPolicy"] {
            route.corsPolicy = corsPolicy(cors, "\(path).corsPolicy", reader)
        }
        route.headers = headers(value["headers"], "\(path).headers", reader)
        if let legacy = value["appendHeaders"] ?? value["appendRequestHeaders"] {
            var operations = route.headers ?? HeaderOperations()
            for (key, item) in reader.map(legacy, "\(path).appendHeaders") ?? [] {
                if let text = reader.string(item, "\(path).appendHeaders.\(key)") { operations.request.add.append((key, text)) }
            }
            route.headers = operations
        }
        return route
    }

    static let matchKeys: Set<String> = [
        "name", "uri", "scheme", "method", "authority", "headers", "withoutHeaders", "queryParams", "ignoreUriCase",
        "sourceLabels", "sourceNamespace", "gateways", "port", "statPrefix",
    ]

    static func httpMatch(_ value: Value, _ path: String, _ reader: SpecReader) -> HTTPMatch {
        var match = HTTPMatch()
        _ = reader.map(value, path, known: matchKeys)
        match.name = reader.string(value["name"], "\(path).name")
        match.uri = stringMatch(value["uri"], "\(path).uri", reader, header: false)
        match.scheme = stringMatch(value["scheme"], "\(path).scheme", reader, header: false)
        match.method = stringMatch(value["method"], "\(path).method", reader, header: false)
        match.authority = stringMatch(value["authority"], "\(path).authority", reader, header: false)
        for (key, target) in [("headers", 0), ("withoutHeaders", 1), ("queryParams", 2)] {
            for (name, item) in reader.map(value[key], "\(path).\(key)") ?? [] {
                guard let matcher = stringMatch(item, "\(path).\(key).\(name)", reader, header: target != 2) else { continue }
                switch target {
                case 0: match.headers.append((name, matcher))
                case 1: match.withoutHeaders.append((name, matcher))
                default: match.queryParams.append((name, matcher))
                }
            }
        }
        match.ignoreUriCase = reader.bool(value["ignoreUriCase"], "\(path).ignoreUriCase") ?? false
        match.sourceLabels = reader.stringMap(value["sourceLabels"], "\(path).sourceLabels")
        match.sourceNamespace = reader.string(value["sourceNamespace"], "\(path).sourceNamespace")
        match.gateways = reader.strings(value["gateways"], "\(path).gateways")
        match.port = reader.int(value["port"], "\(path).port")
        return match
    }

    static func stringMatch(_ value: Value?, _ path: String, _ reader: SpecReader, header: Bool) -> StringMatch? {
        guard let value, value != .null else { return nil }
        if value.stringValue != nil {
            reader.problem(path, "must be a map such as {exact: \"...\"}, {prefix: \"...\"} or {regex: \"...\"}, found a string")
            return nil
        }
        guard let members = reader.map(value, path, known: ["exact", "prefix", "regex"]) else { return nil }
        if members.isEmpty {
            if header { return .present }
            reader.problem(path, "needs one of exact, prefix or regex")
            return nil
        }
        if members.count > 1 {
            reader.problem(path, "give only one of exact, prefix or regex")
        }
        let (kind, item) = members[0]
        guard let text = reader.string(item, "\(path).\(kind)") else { return nil }
        switch kind {
        case "exact": return .exact(text)
        case "prefix": return .prefix(text)
        default: return header && text == "*" ? .present : .regex(text)
        }
    }

    static func destination(_ value: Value?, _ path: String, _ reader: SpecReader) -> Destination? {
        guard let value, value != .null else { return nil }
        guard reader.map(value, path, known: ["host", "subset", "port"]) != nil else { return nil }
        guard let host = reader.string(value["host"], "\(path).host"), !host.isEmpty else {
            reader.problem("\(path).host", "missing: a destination needs the host of a service, such as reviews")
            return nil
        }
        var port: Int?
        if let portValue = value["port"] {
            _ = reader.map(portValue, "\(path).port", known: ["number"])
            port = reader.int(portValue["number"], "\(path).port.number")
        }
        return Destination(host: host, subset: reader.string(value["subset"], "\(path).subset"), port: port)
    }

    static func headers(_ value: Value?, _ path: String, _ reader: SpecReader) -> HeaderOperations? {
        guard let value, value != .null else { return nil }
        _ = reader.map(value, path, known: ["request", "response"])
        var operations = HeaderOperations()
        for (key, isRequest) in [("request", true), ("response", false)] {
            guard let part = value[key] else { continue }
            let partPath = "\(path).\(key)"
            _ = reader.map(part, partPath, known: ["set", "add", "remove"])
            var ops = HeaderOperations.Operations()
            for (name, item) in reader.map(part["set"], "\(partPath).set") ?? [] {
                if let text = reader.string(item, "\(partPath).set.\(name)") { ops.set.append((name, text)) }
            }
            for (name, item) in reader.map(part["add"], "\(partPath).add") ?? [] {
                if let text = reader.string(item, "\(partPath).add.\(name)") { ops.add.append((name, text)) }
            }
            ops.remove = reader.strings(part["remove"], "\(partPath).remove")
            if isRequest { operations.request = ops } else { operations.response = ops }
        }
        return operations
    }

    /// Both the current form (`percentage: {value: 100}`) and Istio 1.0.6's integer `percent: 100`.
    static func httpFault(_ value: Value, _ path: String, _ reader: SpecReader) -> HTTPFault {
        _ = reader.map(value, path, known: ["delay", "abort"])
        var fault = HTTPFault()
        func percentage(_ part: Value, _ partPath: String) -> Double? {
            if let percentage = part["percentage"] {
                _ = reader.map(percentage, "\(partPath).percentage", known: ["value"])
                return reader.double(percentage["value"], "\(partPath).percentage.value")
            }
            return reader.int(part["percent"], "\(partPath).percent").map(Double.init)
        }
        if let delay = value["delay"] {
            let delayPath = "\(path).delay"
            _ = reader.map(delay, delayPath, known: ["fixedDelay", "exponentialDelay", "percentage", "percent"])
            if let fixed = reader.duration(delay["fixedDelay"], "\(delayPath).fixedDelay") {
                fault.delay = HTTPFault.Delay(fixedDelay: fixed, percentage: percentage(delay, delayPath))
            } else if delay["fixedDelay"] == nil {
                reader.problem("\(delayPath).fixedDelay", "missing: a delay needs fixedDelay, such as 7s")
            }
        }
        if let abort = value["abort"] {
            let abortPath = "\(path).abort"
            _ = reader.map(abort, abortPath, known: ["httpStatus", "grpcStatus", "http2Error", "percentage", "percent"])
            if let status = reader.int(abort["httpStatus"], "\(abortPath).httpStatus") {
                fault.abort = HTTPFault.Abort(httpStatus: status, percentage: percentage(abort, abortPath))
            } else if abort["httpStatus"] == nil {
                reader.problem("\(abortPath).httpStatus", "missing: an abort needs httpStatus, such as 500")
            }
        }
        return fault
    }

    static func corsPolicy(_ value: Value, _ path: String, _ reader: SpecReader) -> CorsPolicy {
        _ = reader.map(
            value, path,
            known: ["allowOrigin", "allowOrigins", "allowMethods", "allowHeaders", "exposeHeaders", "maxAge", "allowCredentials", "unmatchedPreflights"])
        var cors = CorsPolicy()
        for (index, item) in reader.list(value["allowOrigins"], "\(path).allowOrigins").enumerated() {
            if let match = stringMatch(item, "\(path).allowOrigins[\(index)]", reader, header: false) { cors.allowOrigins.append(match) }
        }
        cors.allowOrigins += reader.strings(value["allowOrigin"], "\(path).allowOrigin").map { .exact($0) }
        cors.allowMethods = reader.strings(value["allowMethods"], "\(path).allowMethods")
        cors.allowHeaders = reader.strings(value["allowHeaders"], "\(path).allowHeaders")
        cors.exposeHeaders = reader.strings(value["exposeHeaders"], "\(path).exposeHeaders")
        cors.maxAge = reader.duration(value["maxAge"], "\(path).maxAge")
        cors.allowCredentials = reader.bool(value["allowCredentials"], "\(path).allowCredentials")
        return cors
    }

    // MARK: DestinationRule

    public static func destinationRule(_ object: KubeObject, namespace: String) -> (DestinationRule?, [Diagnostic]) {
        let reader = SpecReader()
        let spec = object.spec
        _ = specMembers(reader, object, known: ["host", "trafficPolicy", "subsets", "exportTo", "workloadSelector"])
        let host = reader.string(spec["host"], "spec.host") ?? ""
        if host.isEmpty, spec["host"] == nil {
            reader.problem("spec.host", "missing: a DestinationRule needs the host of a service, such as reviews")
        }
        var subsets: [Subset] = []
        for (index, item) in reader.list(spec["subsets"], "spec.subsets").enumerated() {
            let path = "spec.subsets[\(index)]"
            _ = reader.map(item, path, known: ["name", "labels", "trafficPolicy"])
            guard let name = reader.string(item["name"], "\(path).name") else {
                reader.problem("\(path).name", "missing: every subset needs a name")
                continue
            }
            subsets.append(
                Subset(
                    name: name, labels: reader.stringMap(item["labels"], "\(path).labels"),
                    trafficPolicy: item["trafficPolicy"].map { trafficPolicy($0, "\(path).trafficPolicy", reader) }))
        }
        let rule = DestinationRule(
            name: object.metadata.name, namespace: namespace, host: host,
            trafficPolicy: spec["trafficPolicy"].map { trafficPolicy($0, "spec.trafficPolicy", reader) }, subsets: subsets,
            source: object.source)
        let problems = diagnostics(reader, object)
        return (problems.isEmpty ? rule : nil, problems)
    }

    static func trafficPolicy(_ value: Value, _ path: String, _ reader: SpecReader) -> TrafficPolicy {
        _ = reader.map(value, path, known: ["loadBalancer", "connectionPool", "outlierDetection", "tls", "portLevelSettings", "tunnel", "proxyProtocol"])
        var policy = TrafficPolicy()
        if let balancer = value["loadBalancer"] {
            _ = reader.map(balancer, "\(path).loadBalancer", known: ["simple", "consistentHash", "localityLbSetting", "warmupDurationSecs", "warmup"])
            policy.loadBalancer = reader.string(balancer["simple"], "\(path).loadBalancer.simple")
            if let hash = balancer["consistentHash"] {
                policy.consistentHashHeader = reader.string(hash["httpHeaderName"], "\(path).loadBalancer.consistentHash.httpHeaderName")
            }
        }
        if let pool = value["connectionPool"] {
            _ = reader.map(pool, "\(path).connectionPool", known: ["tcp", "http"])
            if let tcp = pool["tcp"] {
                let tcpPath = "\(path).connectionPool.tcp"
                _ = reader.map(tcp, tcpPath, known: ["maxConnections", "connectTimeout", "tcpKeepalive", "maxConnectionDuration", "idleTimeout"])
                policy.maxConnections = reader.int(tcp["maxConnections"], "\(tcpPath).maxConnections")
                policy.connectTimeout = reader.duration(tcp["connectTimeout"], "\(tcpPath).connectTimeout")
            }
            if let http = pool["http"] {
                let httpPath = "\(path).connectionPool.http"
                _ = reader.map(
                    http, httpPath,
                    known: ["http1MaxPendingRequests", "http2MaxRequests", "maxRequestsPerConnection", "maxRetries", "idleTimeout", "h2UpgradePolicy", "useClientProtocol", "maxConcurrentStreams"])
                policy.http1MaxPendingRequests = reader.int(http["http1MaxPendingRequests"], "\(httpPath).http1MaxPendingRequests")
                policy.http2MaxRequests = reader.int(http["http2MaxRequests"], "\(httpPath).http2MaxRequests")
                policy.maxRequestsPerConnection = reader.int(http["maxRequestsPerConnection"], "\(httpPath).maxRequestsPerConnection")
                policy.maxRetries = reader.int(http["maxRetries"], "\(httpPath).maxRetries")
                policy.idleTimeout = reader.duration(http["idleTimeout"], "\(httpPath).idleTimeout")
            }
        }
        if let outlier = value["outlierDetection"] {
            let outlierPath = "\(path).outlierDetection"
            _ = reader.map(
                outlier, outlierPath,
                known: ["consecutiveErrors", "consecutive5xxErrors", "consecutiveGatewayErrors", "consecutiveLocalOriginFailures", "splitExternalLocalOriginErrors", "interval", "baseEjectionTime", "maxEjectionPercent", "minHealthPercent"])
            policy.outlierDetection = TrafficPolicy.OutlierDetection(
                consecutive5xxErrors: reader.int(outlier["consecutive5xxErrors"] ?? outlier["consecutiveErrors"], "\(outlierPath).consecutive5xxErrors"),
                consecutiveGatewayErrors: reader.int(outlier["consecutiveGatewayErrors"], "\(outlierPath).consecutiveGatewayErrors"),
                interval: reader.duration(outlier["interval"], "\(outlierPath).interval"),
                baseEjectionTime: reader.duration(outlier["baseEjectionTime"], "\(outlierPath).baseEjectionTime"),
                maxEjectionPercent: reader.int(outlier["maxEjectionPercent"], "\(outlierPath).maxEjectionPercent"),
                minHealthPercent: reader.int(outlier["minHealthPercent"], "\(outlierPath).minHealthPercent"))
        }
        if let tls = value["tls"] {
            policy.tlsMode = reader.string(tls["mode"], "\(path).tls.mode")
        }
        return policy
    }

    // MARK: Gateway, ServiceEntry

    public static func gateway(_ object: KubeObject, namespace: String) -> (Gateway?, [Diagnostic]) {
        let reader = SpecReader()
        let spec = object.spec
        _ = specMembers(reader, object, known: ["selector", "servers"])
        var servers: [Gateway.Server] = []
        for (index, item) in reader.list(spec["servers"], "spec.servers").enumerated() {
            let path = "spec.servers[\(index)]"
            _ = reader.map(item, path, known: ["port", "hosts", "tls", "name", "bind", "defaultEndpoint"])
            guard let port = item["port"] else {
                reader.problem("\(path).port", "missing: a server needs a port with number, name and protocol")
                continue
            }
            _ = reader.map(port, "\(path).port", known: ["number", "name", "protocol", "targetPort"])
            guard let number = reader.int(port["number"], "\(path).port.number") else {
                if port["number"] == nil { reader.problem("\(path).port.number", "missing") }
                continue
            }
            servers.append(
                Gateway.Server(
                    portNumber: number, portName: reader.string(port["name"], "\(path).port.name"),
                    proto: reader.string(port["protocol"], "\(path).port.protocol") ?? "HTTP",
                    hosts: reader.strings(item["hosts"], "\(path).hosts")))
        }
        let gateway = Gateway(
            name: object.metadata.name, namespace: namespace, selector: reader.stringMap(spec["selector"], "spec.selector"),
            servers: servers, source: object.source)
        let problems = diagnostics(reader, object)
        return (problems.isEmpty ? gateway : nil, problems)
    }

    public static func serviceEntry(_ object: KubeObject, namespace: String) -> (ServiceEntry?, [Diagnostic]) {
        let reader = SpecReader()
        let spec = object.spec
        _ = specMembers(
            reader, object,
            known: ["hosts", "addresses", "ports", "location", "resolution", "endpoints", "workloadSelector", "exportTo", "subjectAltNames"])
        let entry = ServiceEntry(
            name: object.metadata.name, namespace: namespace, hosts: reader.strings(spec["hosts"], "spec.hosts"),
            location: reader.string(spec["location"], "spec.location"), source: object.source)
        let problems = diagnostics(reader, object)
        return (problems.isEmpty ? entry : nil, problems)
    }
}
