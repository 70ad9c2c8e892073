import MeshModel

/// A likely cause of a failed check: one sentence in both languages, and the objects it is about.
public struct Cause: Sendable, Equatable, Codable {
    public var text: LocalizedText
    /// `Kind/name` of each object the cause names.
    public var objects: [String]

    public init(_ text: LocalizedText, objects: [String] = []) {
        self.text = text
        self.objects = objects
    }

    public init(en: String, ja: String, objects: [String] = []) {
        self.init(LocalizedText(en: en, ja: ja), objects: objects)
    }
}

/// What failed: whose pages, against which expectation, and what they showed.
struct Failure: Sendable {
    var visitor: Visitor
    var expectation: Expectation
    var observed: [Outcome: Int]

    var seen: Set<Outcome> { Set(observed.filter { $0.value > 0 }.keys) }

    /// The outcomes the expectation asks for.
    var expected: Set<Outcome> {
        switch expectation {
        case .all(let outcome, _), .latency(let outcome, _, _, _): [outcome]
        case .covers(let set, _): set
        case .shares(let shares): Set(shares.filter { $0.value > 0 }.keys)
        case .sidecarsInjected: []
        }
    }
}

/// Follows the failed visitor's request along bookinfo's path (ingress → productpage → reviews →
/// ratings, productpage → details) through the namespace's routing, and names the object that
/// sent it where it went (grading notes, "Explaining failures"). Each hop is simulated with
/// ``RouteSimulation``; a hop that does what the check needs is not a cause.
struct PathTrace {
    let failure: Failure
    let snapshot: MeshSnapshot
    let diagnostics: [Diagnostic]

    /// A cause found on the path, with the analyzer findings it stands for (so they are not said twice).
    struct Found {
        var cause: Cause
        var covers: [Diagnostic] = []
    }

    var headers: [String: String] {
        if case .user(let name) = failure.visitor { return ["end-user": name] }
        return [:]
    }

    var who: LocalizedText { Wording.visitor(failure.visitor) }

    /// The visitor as a possessive: "anonymous visitors'", "jason's".
    var whose: String {
        if case .user(let name) = failure.visitor { return "\(name)'s" }
        return "\(who.en)'"
    }

    // MARK: The path

    /// The services whose routing decides what the failed pages showed.
    var hops: [String] {
        let involved = failure.expected.union(failure.seen)
        var hops: [String] = []
        if !involved.isDisjoint(with: [.v1, .v2, .v3, .reviewsUnavailable, .ratingsUnavailable]) { hops.append("reviews") }
        if needsRatings || involved.contains(.ratingsUnavailable) { hops.append("ratings") }
        if case .latency = failure.expectation { hops.append("details") } else if involved.contains(.detailsUnavailable) { hops.append("details") }
        return hops
    }

    /// Whether the ingress (Gateway and its VirtualServices) is on the path of what went wrong.
    var ingressInvolved: Bool {
        !failure.seen.isDisjoint(with: [.httpError, .other]) || failure.seen.isEmpty
    }

    /// The check needs ratings to misbehave for the visitor (an abort or a delay).
    var needsRatings: Bool {
        switch failure.expectation {
        case .all(.ratingsUnavailable, _): true
        case .latency(.reviewsUnavailable, _, _, _), .latency(.ratingsUnavailable, _, _, _): true
        default: false
        }
    }

    /// Every object on the failed request's path: the namespace, the routing of each hop, and
    /// the ingress's objects when the ingress is involved.
    var objectsOnPath: Set<String> {
        var objects: Set<String> = ["Namespace/\(snapshot.namespace)"]
        for host in hops {
            let fqdn = HostName.fullyQualified(host, namespace: snapshot.namespace)
            for service in snapshot.virtualServices where service.name == host || service.hosts.contains(where: { hostMeans($0, host, fqdn: fqdn) })
                || Analysis.destinations(of: service).contains(where: { HostName.fullyQualified($0.0.host, namespace: service.namespace) == fqdn }) && Analysis.appliesToMesh(service)
            {
                objects.insert("VirtualService/\(service.name)")
            }
            for rule in snapshot.destinationRules where rule.name == host || hostMeans(rule.host, host, fqdn: fqdn) {
                objects.insert("DestinationRule/\(rule.name)")
            }
        }
        if ingressInvolved {
            for gateway in snapshot.gateways { objects.insert("Gateway/\(gateway.name)") }
            for service in snapshot.virtualServices where !service.gateways.filter({ $0 != "mesh" }).isEmpty {
                objects.insert("VirtualService/\(service.name)")
            }
        }
        return objects
    }

    /// `reviews`, its full name, or `reviews.<anything>` written for it.
    func hostMeans(_ written: String, _ host: String, fqdn: String) -> Bool {
        let full = HostName.fullyQualified(written, namespace: snapshot.namespace)
        return full == fqdn || HostName.matches(pattern: full, host: fqdn) && written != "*" || written.split(separator: ".").first.map(String.init) == host
    }

    // MARK: Causes

    /// The causes on the path, most decisive first.
    func causes() -> [Found] {
        guard snapshot.injectionEnabled || hops.isEmpty else {
            return finding(Analysis.Code.namespaceNotInjected, object: "Namespace/\(snapshot.namespace)").map {
                [
                    Found(
                        cause: Cause(
                            en: "The namespace is not injected: the pods have no sidecar, so no routing rule applies between services and every version keeps answering. \($0.description)",
                            ja: "名前空間にサイドカーが注入されていません。Pod にサイドカーがないため、サービス間ではルーティングのルールが効かず、すべてのバージョンが応答し続けます。\($0.descriptionJa)",
                            objects: [$0.object ?? ""]),
                        covers: [$0])
                ]
            } ?? []
        }
        var found: [Found] = []
        if hops.contains("reviews") { found += reviewsHop() }
        if needsRatings, found.isEmpty { found += ratingsHop() }
        if failure.seen.contains(.detailsUnavailable), !failure.expected.contains(.detailsUnavailable) {
            // The ratings hop may already have named the details rule (a delay put on the wrong service).
            let named = Set(found.flatMap(\.cause.objects))
            found += detailsHop().filter { !Set($0.cause.objects).isSubset(of: named) || $0.cause.objects.isEmpty }
        }
        return found
    }

    /// What productpage → reviews does for the visitor, against the versions the check needs.
    func reviewsHop() -> [Found] {
        let route = RouteSimulation.route(RouteSimulation.Request(host: "reviews", headers: headers), in: snapshot)
        var found = visitorRule(route, host: "reviews") + targetProblems(route)
        if route.virtualService == nil { found += passedOver(route, host: "reviews", shadowedOnly: false) }
        guard found.isEmpty, let wanted = wantedReviews else { return found }
        let shares = route.versionShares
        guard Set(wanted.keys).union(shares.keys).contains(where: { abs(wanted[$0, default: 0] - shares[$0, default: 0]) > 0.005 }) else { return [] }
        let asked = Self.describe(wanted)
        guard let service = route.virtualService else {
            let versions = route.targets.flatMap(\.versions)
            let spread = versions.isEmpty ? "" : " (\(versions.joined(separator: ", ")))"
            return [
                Found(
                    cause: Cause(
                        en: "No VirtualService for the sidecars has host reviews, so nothing routes productpage's calls to reviews: they are balanced over every version\(spread), but the check needs \(asked.en).",
                        ja: "サイドカー向けにホスト reviews を持つ VirtualService がないため、productpage から reviews への呼び出しはどこにもルーティングされず、すべてのバージョン\(spread)に振り分けられます。チェックが求めているのは \(asked.ja) です。"))
            ]
        }
        // Another VirtualService for reviews that the sidecars pass over is the likely mistake.
        found += passedOver(route, host: "reviews", shadowedOnly: true)
        let object = "VirtualService/\(service.name)"
        guard let index = route.ruleIndex else {
            return found + [
                Found(
                    cause: Cause(
                        en: "No rule of \(object) matches \(who.en), so their calls to reviews get 404 (no route) and the page shows reviews unavailable.",
                        ja: "\(object) のどのルールも\(who.ja)に一致しないため、reviews への呼び出しは 404（ルートなし）になり、レビューを取得できないページになります。",
                        objects: [object]))
            ]
        }
        let sends = Self.describe(route.targets)
        var cause = Found(
            cause: Cause(
                en: "\(object) spec.http[\(index)] sends \(who.en) \(sends.en), but the check needs \(asked.en).",
                ja: "\(object) の spec.http[\(index)] は\(who.ja)のリクエストを次のように送っています：\(sends.ja)。チェックが求めているのは \(asked.ja) です。",
                objects: [object]))
        if let weights = finding(Analysis.Code.weightsNormalised, object: object, field: "spec.http[\(index)].route") {
            cause.cause.text.en += " \(weights.description)"
            cause.cause.text.ja += " \(weights.descriptionJa)"
            cause.covers.append(weights)
        }
        return found + [cause]
    }

    /// The reviews versions (with shares) the failed expectation needs; nil when any will do.
    var wantedReviews: [String: Double]? {
        switch failure.expectation {
        case .all(let outcome, _), .latency(let outcome, _, _, _):
            return [Outcome.v1, .v2, .v3].contains(outcome) ? [outcome.rawValue: 1] : nil
        case .shares(let shares):
            let versions = shares.filter { [Outcome.v1, .v2, .v3].contains($0.key) && $0.value > 0 }
            return versions.count == shares.filter({ $0.value > 0 }).count ? Dictionary(uniqueKeysWithValues: versions.map { ($0.key.rawValue, $0.value) }) : nil
        case .covers, .sidecarsInjected:
            return nil
        }
    }

    /// reviews → ratings for the visitor, when the check needs ratings to fail or be late.
    func ratingsHop() -> [Found] {
        let route = RouteSimulation.route(RouteSimulation.Request(host: "ratings", headers: headers), in: snapshot)
        var found = visitorRule(route, host: "ratings")
        found += targetProblems(route)
        found += passedOver(route, host: "ratings", shadowedOnly: route.virtualService != nil)
        guard found.isEmpty else { return found }
        let wantsDelay: Bool = if case .latency = failure.expectation { true } else { false }
        let fault = route.fault
        let name = route.virtualService.map { "VirtualService/\($0.name)" }
        let rule = route.ruleIndex.map { "spec.http[\($0)]" } ?? ""
        if wantsDelay {
            if let delay = fault?.delay, (delay.percentage ?? 0) > 0 { return [] }
            if let delay = fault?.delay {
                return [percentMissing("delay", name: name ?? "", rule: rule, delay.percentage)]
            }
            // A delay for the visitor elsewhere on the path explains what was seen instead.
            for host in ["details", "reviews", "productpage"] {
                let other = RouteSimulation.route(RouteSimulation.Request(host: host, headers: headers), in: snapshot)
                if let delay = other.fault?.delay, (delay.percentage ?? 0) > 0, let service = other.virtualService {
                    let seconds = Wording.seconds(delay.fixedDelay)
                    return [
                        Found(
                            cause: Cause(
                                en: "VirtualService/\(service.name) delays \(who.en) by \(seconds) s on \(host), not on ratings: productpage gives up on \(host) and the page shows \(host) unavailable, while reviews → ratings stays fast.",
                                ja: "VirtualService/\(service.name) は\(who.ja)を ratings ではなく \(host) で \(seconds) 秒遅らせています。productpage は \(host) を待ちきれずに「\(host) を取得できない」ページを返し、reviews → ratings は速いままです。",
                                objects: ["VirtualService/\(service.name)"]))
                    ]
                }
            }
            return [noFault("delay", en: "delays \(who.en) on", ja: "遅らせる", name: name, rule: rule)]
        }
        if let abort = fault?.abort, (abort.percentage ?? 0) > 0 { return [] }
        if let abort = fault?.abort {
            return [percentMissing("abort", name: name ?? "", rule: rule, abort.percentage)]
        }
        return [noFault("abort", en: "aborts \(whose) calls to", ja: "中断（abort）する", name: name, rule: rule)]
    }

    /// No rule for the visitor's ratings calls has the fault the check needs.
    func noFault(_ kind: String, en verb: String, ja verbJa: String, name: String?, rule: String) -> Found {
        Found(
            cause: Cause(
                en: "No rule \(verb) ratings\(name.map { ": \($0) \(rule) has no fault.\(kind)" } ?? " (there is no VirtualService for ratings)").",
                ja: "\(who.ja)の ratings への呼び出しを\(verbJa)ルールがありません\(name.map { "（\($0) の \(rule) に fault.\(kind) がありません）" } ?? "（ratings の VirtualService がありません）")。",
                objects: name.map { [$0] } ?? []))
    }

    func percentMissing(_ kind: String, name: String, rule: String, _ percentage: Double?) -> Found {
        let given = percentage.map { "is \(Validation.format($0)) %" } ?? "is not set"
        let givenJa = percentage.map { "\(Validation.format($0)) %" } ?? "指定されていない"
        return Found(
            cause: Cause(
                en: "\(name) \(rule).fault.\(kind) has no percentage that applies (it \(given)), and Istio injects a fault only into the percentage given: no request gets it. Add percentage: {value: 100}.",
                ja: "\(name) の \(rule).fault.\(kind) の percentage が\(givenJa)ため、どのリクエストにもフォールトが注入されません（Istio は指定された割合にだけ注入します）。percentage: {value: 100} を加えてください。",
                objects: [name]))
    }

    /// productpage → details, when the page showed details unavailable.
    func detailsHop() -> [Found] {
        let route = RouteSimulation.route(RouteSimulation.Request(host: "details", headers: headers), in: snapshot)
        var found = targetProblems(route)
        if let service = route.virtualService, let index = route.ruleIndex, let fault = route.fault {
            if let delay = fault.delay, (delay.percentage ?? 0) > 0 {
                let seconds = Wording.seconds(delay.fixedDelay)
                found.append(
                    Found(
                        cause: Cause(
                            en: "VirtualService/\(service.name) spec.http[\(index)] delays \(whose) calls to details by \(seconds) s: productpage gives up on details and the page shows details unavailable.",
                            ja: "VirtualService/\(service.name) の spec.http[\(index)] が\(who.ja)の details への呼び出しを \(seconds) 秒遅らせているため、productpage が details を待ちきれず「details を取得できない」ページになります。",
                            objects: ["VirtualService/\(service.name)"])))
            } else if let abort = fault.abort, (abort.percentage ?? 0) > 0 {
                found.append(
                    Found(
                        cause: Cause(
                            en: "VirtualService/\(service.name) spec.http[\(index)] aborts \(whose) calls to details with HTTP \(abort.httpStatus).",
                            ja: "VirtualService/\(service.name) の spec.http[\(index)] が\(who.ja)の details への呼び出しを HTTP \(abort.httpStatus) で中断しています。",
                            objects: ["VirtualService/\(service.name)"])))
            }
        }
        return found
    }

    // MARK: Pieces of a hop

    /// For a signed-in visitor: the rule meant for them that the proxy does not reach, or the
    /// header match that misses them.
    func visitorRule(_ route: RouteSimulation.Route, host: String) -> [Found] {
        guard case .user(let name) = failure.visitor, let service = route.virtualService else { return [] }
        let taken = route.ruleIndex
        let request = RouteSimulation.Request(host: host, headers: headers)
        let object = "VirtualService/\(service.name)"
        func userRule(_ rule: HTTPRoute) -> Bool {
            rule.match.contains { $0.headers.contains { $0.0.lowercased() == "end-user" } }
        }
        if let taken, userRule(service.http[taken]) { return [] }
        // A rule for the visitor after the one that took the request: never reached.
        if let taken, let later = service.http.indices.first(where: { $0 > taken && userRule(service.http[$0]) && RouteSimulation.matches(service.http[$0], request) }) {
            let hidden = finding(Analysis.Code.unreachableRule, object: object, field: "spec.http[\(taken)]")
            let detail = hidden.map { (" \($0.description)", " \($0.descriptionJa)") } ?? ("", "")
            return [
                Found(
                    cause: Cause(
                        en: "spec.http[\(later)] of \(object) matches end-user: \(name), but spec.http[\(taken)] comes first and matches everyone, so the rule for \(name) is never used.\(detail.0)",
                        ja: "\(object) の spec.http[\(later)] は end-user: \(name) に一致しますが、その前の spec.http[\(taken)] がすべてのリクエストに一致するため、\(name) 用のルールは使われません。\(detail.1)",
                        objects: [object]),
                    covers: hidden.map { [$0] } ?? [])
            ]
        }
        // Rules written for a user that miss this one.
        let misses = service.http.enumerated().filter { userRule($0.element) && !RouteSimulation.matches($0.element, request) }
        guard let (index, _) = misses.first else { return [] }
        let takenBy = taken.map { "spec.http[\($0)], which matches everyone, takes \(name)'s requests" } ?? "no rule takes \(name)'s requests (404)"
        let takenByJa = taken.map { "すべてに一致する spec.http[\($0)] が \(name) のリクエストを受け取ります" } ?? "\(name) のリクエストを受け取るルールがありません（404）"
        let caseFinding = diagnostics.first { $0.code == Analysis.Code.endUserCase && $0.object == object && $0.field?.hasPrefix("spec.http[\(index)]") == true }
        let detail = caseFinding.map { (" \($0.description)", " \($0.descriptionJa)") } ?? ("", "")
        return [
            Found(
                cause: Cause(
                    en: "No route of \(object) matches end-user: \(name) (spec.http[\(index)] matches another user); \(takenBy).\(detail.0)",
                    ja: "\(object) のどのルートも end-user: \(name) に一致しません（spec.http[\(index)] は別のユーザーに一致します）。\(takenByJa)。\(detail.1)",
                    objects: [object]),
                covers: caseFinding.map { [$0] } ?? [])
        ]
    }

    /// Destinations that fail: an unknown host, an undefined subset, a subset without pods.
    func targetProblems(_ route: RouteSimulation.Route) -> [Found] {
        var found: [Found] = []
        for target in route.targets {
            guard let problem = target.problem else { continue }
            let service = route.virtualService.map { "VirtualService/\($0.name)" }
            let finding: Diagnostic?
            switch problem {
            case .unknownHost:
                finding = diagnostics.first { $0.code == Analysis.Code.referencedResourceNotFound && $0.object == service && $0.message.contains("host '\(target.destination.host)'") }
            case .subsetUndefined:
                finding = diagnostics.first { $0.code == Analysis.Code.referencedResourceNotFound && $0.object == service && $0.message.contains("subset '\(target.destination.subset ?? "")'") }
            case .selectsNothing:
                finding = diagnostics.first { $0.code == Analysis.Code.subsetSelectsNothing && $0.object == target.destinationRule.map { "DestinationRule/\($0)" } && $0.message.contains("subset '\(target.destination.subset ?? "")'") }
            }
            let share = Wording.percent(target.share)
            let place = target.destination.subset.map { "subset \($0) of \(target.destination.host)" } ?? target.destination.host
            let placeJa = target.destination.subset.map { "\(target.destination.host) のサブセット \($0)" } ?? target.destination.host
            let detail = finding.map { (" \($0.description)", " \($0.descriptionJa)") } ?? ("", "")
            found.append(
                Found(
                    cause: Cause(
                        en: "\(service ?? "The default route") sends \(share) of \(whose) requests to \(place), which cannot answer: Envoy returns 503.\(detail.0)",
                        ja: "\(service ?? "既定のルート") は\(who.ja)のリクエストの \(share) を \(placeJa) に送っていますが、そこは応答できないため Envoy が 503 を返します。\(detail.1)",
                        objects: [service, finding?.object].compactMap { $0 }.reduce(into: []) { if !$0.contains($1) { $0.append($1) } }),
                    covers: finding.map { [$0] } ?? []))
        }
        return found
    }

    /// VirtualServices that look meant for the host but that the sidecars do not use.
    func passedOver(_ route: RouteSimulation.Route, host: String, shadowedOnly: Bool) -> [Found] {
        var found: [Found] = []
        for (name, why) in route.passedOver {
            let object = "VirtualService/\(name)"
            switch why {
            case .gatewayOnly where !shadowedOnly:
                let finding = finding(Analysis.Code.gatewayOnly, object: object)
                let detail = finding.map { (" \($0.description)", " \($0.descriptionJa)") } ?? ("", "")
                found.append(
                    Found(
                        cause: Cause(
                            en: "\(object) is bound only to a gateway, so the sidecars ignore it: calls to \(host) between services are not routed by it.\(detail.0)",
                            ja: "\(object) はゲートウェイにだけバインドされているため、サイドカーはこれを無視します。サービス間の \(host) への呼び出しはこのルールでルーティングされません。\(detail.1)",
                            objects: [object]),
                        covers: finding.map { [$0] } ?? []))
            case .hostNotExpanded(let written) where !shadowedOnly:
                let short = written.split(separator: ".").first.map(String.init) ?? host
                let full = HostName.fullyQualified(short, namespace: snapshot.namespace)
                let related = diagnostics.filter { $0.object == object && $0.code == Analysis.Code.referencedResourceNotFound && $0.message.contains("'\(written)'") }
                found.append(
                    Found(
                        cause: Cause(
                            en: "\(object) is written for host '\(written)', and Istio does not expand names that contain a dot: '\(written)' is taken as written, so nothing routes \(host) for the sidecars. Write '\(short)' or '\(full)'.",
                            ja: "\(object) はホスト '\(written)' 向けに書かれていますが、Istio はドットを含む名前を補完しません。'\(written)' は書かれたとおりに扱われるため、サイドカーでは \(host) がどこにもルーティングされません。'\(short)' または '\(full)' と書いてください。",
                            objects: [object]),
                        covers: related))
            case .otherHosts(let hosts) where !shadowedOnly:
                found.append(
                    Found(
                        cause: Cause(
                            en: "\(object) routes host \(hosts.joined(separator: ", ")), not \(host), so nothing routes \(host) and it is balanced over every version.",
                            ja: "\(object) がルーティングしているのはホスト \(hosts.joined(separator: ", ")) で、\(host) ではありません。そのため \(host) はどこにもルーティングされず、すべてのバージョンに振り分けられます。",
                            objects: [object])))
            case .shadowed(let first):
                let finding = finding(Analysis.Code.conflictingVirtualServiceHosts, object: object)
                let detail = finding.map { (" \($0.description)", " \($0.descriptionJa)") } ?? ("", "")
                found.append(
                    Found(
                        cause: Cause(
                            en: "\(object) is ignored for \(host): VirtualService/\(first) defines the same host and came first, so only the first one is used.\(detail.0)",
                            ja: "\(host) について \(object) は無視されています。VirtualService/\(first) が同じホストを先に定義しているため、使われるのは最初のものだけです。\(detail.1)",
                            objects: [object, "VirtualService/\(first)"]),
                        covers: finding.map { [$0] } ?? []))
            default:
                break
            }
        }
        return found
    }

    func finding(_ code: String, object: String, field: String? = nil) -> Diagnostic? {
        diagnostics.first { $0.code == code && $0.object == object && (field == nil || $0.field == field) }
    }

    // MARK: Words

    /// `to subset v1 (version v1)`, or `50 % to subset v1 (version v1), 50 % to subset v3 (version v3)`.
    static func describe(_ targets: [RouteSimulation.Target]) -> LocalizedText {
        let parts = targets.map { target -> (String, String) in
            let place = target.destination.subset.map { "subset \($0)" } ?? target.destination.host
            let reached = target.versions.isEmpty ? "no pod" : "version \(target.versions.joined(separator: ", "))"
            let reachedJa = target.versions.isEmpty ? "Pod なし" : "version \(target.versions.joined(separator: ", "))"
            let share = targets.count > 1 ? "\(Wording.percent(target.share)) " : ""
            let shareJa = targets.count > 1 ? " に \(Wording.percent(target.share))" : ""
            return ("\(share)to \(place) (\(reached))", "\(place)（\(reachedJa)）\(shareJa)")
        }
        return LocalizedText(en: parts.map(\.0).joined(separator: ", "), ja: parts.map(\.1).joined(separator: "、"))
    }

    /// `v2` or `50 % v1 / 50 % v3`.
    static func describe(_ shares: [String: Double]) -> LocalizedText {
        if shares.count == 1, let version = shares.keys.first { return LocalizedText(en: "every request on \(version)", ja: "すべて \(version)") }
        let text = shares.sorted { $0.key < $1.key }.map { "\(Wording.percent($0.value)) \($0.key)" }.joined(separator: " / ")
        return LocalizedText(en: text, ja: text)
    }
}
