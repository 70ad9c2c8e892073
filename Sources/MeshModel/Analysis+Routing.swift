import Foundation

/// Rules about where VirtualServices send traffic and which proxies get them.
extension Analysis {
    /// Whether the sidecars get the rules: no `gateways`, or `mesh` listed.
    public static func appliesToMesh(_ service: VirtualService) -> Bool {
        service.gateways.isEmpty || service.gateways.contains("mesh")
    }

    /// Every destination of a VirtualService with its field path (routes and mirrors).
    public static func destinations(of service: VirtualService) -> [(Destination, String)] {
        service.http.enumerated().flatMap { index, route in
            route.route.enumerated().map { ($0.element.destination, "spec.http[\(index)].route[\($0.offset)].destination") }
                + (route.mirror.map { [($0, "spec.http[\(index)].mirror")] } ?? [])
        }
    }

    /// Undefined subsets (503 NC) and hosts that no Service provides.
    static func destinations(_ service: VirtualService, _ context: Context) -> [Diagnostic] {
        var found: [Diagnostic] = []
        func warn(_ message: String, ja: String, _ field: String) {
            found.append(
                diagnostic(
                    .warning, Code.referencedResourceNotFound, message, ja: ja, kind: "VirtualService", name: service.name, source: service.source,
                    field: field))
        }
        for (destination, path) in destinations(of: service) {
            let host = HostName.fullyQualified(destination.host, namespace: service.namespace)
            if !context.isKnown(host) {
                let hint = context.expansionHint(destination.host) ?? LocalizedHint(en: " Check the spelling, or apply the Service first.", ja: " 綴りを確認するか、先に Service を適用してください。")
                warn(
                    "host '\(destination.host)' matches no Service in namespace '\(service.namespace)' (nor a ServiceEntry): requests will fail with 503.\(hint.en)",
                    ja: "ホスト '\(destination.host)' は名前空間 '\(service.namespace)' のどの Service（ServiceEntry も）にも一致しません。リクエストは 503 で失敗します。\(hint.ja)",
                    "\(path).host")
                continue
            }
            guard let subset = destination.subset else { continue }
            let rules = context.rules(for: host)
            if rules.contains(where: { $0.subsets.contains { $0.name == subset } }) { continue }
            let existing: String
            let existingJa: String
            if rules.isEmpty {
                existing = "No DestinationRule exists for host '\(destination.host)': apply one that defines the subsets (for bookinfo, destination-rule-all.yaml) before this VirtualService."
                existingJa = "ホスト '\(destination.host)' の DestinationRule がありません。この VirtualService より先に、サブセットを定義する DestinationRule（bookinfo では destination-rule-all.yaml）を適用してください。"
            } else {
                let listed = rules.map { rule in
                    let names = rule.subsets.map(\.name)
                    return "DestinationRule/\(rule.name) defines \(names.isEmpty ? "no subsets" : names.joined(separator: ", "))"
                }
                let listedJa = rules.map { rule in
                    let names = rule.subsets.map(\.name)
                    return "DestinationRule/\(rule.name) が定義しているのは \(names.isEmpty ? "（サブセットなし）" : names.joined(separator: ", "))"
                }
                existing = listed.joined(separator: "; ") + ". Add subset '\(subset)' there (with the pods' version label), or route to one that exists."
                existingJa = listedJa.joined(separator: "、") + " です。そこにサブセット '\(subset)' を（Pod の version ラベルとともに）追加するか、存在するサブセットにルーティングしてください。"
            }
            warn(
                "subset '\(subset)' of host '\(destination.host)' is not defined by any DestinationRule: requests will fail with 503 (no cluster). \(existing)",
                ja: "ホスト '\(destination.host)' のサブセット '\(subset)' はどの DestinationRule にも定義されていません。リクエストは 503（no cluster）で失敗します。\(existingJa)",
                "\(path).subset")
        }
        return found
    }

    /// Gateways that do not exist, hosts a gateway does not accept, and gateway-only bindings.
    static func gatewayBindings(_ service: VirtualService, _ context: Context) -> [Diagnostic] {
        var found: [Diagnostic] = []
        let gateways = context.snapshot.gateways
        for (index, reference) in service.gateways.enumerated() where reference != "mesh" {
            let parts = reference.split(separator: "/", maxSplits: 1).map(String.init)
            let (namespace, name) = parts.count == 2 ? (parts[0], parts[1]) : (service.namespace, reference)
            guard namespace == context.snapshot.namespace || namespace == "." else { continue }  // another namespace: not visible here
            guard let gateway = gateways.first(where: { $0.name == name }) else {
                let known = gateways.map(\.name)
                let listed = known.isEmpty ? "there is no Gateway in namespace '\(namespace)'" : "the Gateways here are \(known.joined(separator: ", "))"
                let listedJa = known.isEmpty ? "名前空間 '\(namespace)' に Gateway はありません" : "ここにある Gateway は \(known.joined(separator: ", ")) です"
                found.append(
                    diagnostic(
                        .warning, Code.referencedResourceNotFound,
                        "gateway '\(reference)' does not exist (\(listed)): no proxy gets these rules. Apply the Gateway (for bookinfo, bookinfo-gateway.yaml) or fix the name",
                        ja: "ゲートウェイ '\(reference)' は存在しません（\(listedJa)）。どのプロキシもこのルールを受け取りません。Gateway（bookinfo では bookinfo-gateway.yaml）を適用するか、名前を直してください",
                        kind: "VirtualService", name: service.name, source: service.source, field: "spec.gateways[\(index)]"))
                continue
            }
            let serverHosts = gateway.servers.flatMap(\.hosts).map { host in
                host.split(separator: "/", maxSplits: 1).last.map(String.init) ?? host
            }
            let accepted = service.hosts.contains { host in
                serverHosts.contains { HostName.matches(pattern: $0, host: host) || HostName.matches(pattern: host, host: $0) }
            }
            if !accepted, !serverHosts.isEmpty {
                found.append(
                    diagnostic(
                        .warning, Code.hostNotInGateway,
                        "none of the hosts \(service.hosts.joined(separator: ", ")) is accepted by Gateway/\(gateway.name), which serves \(serverHosts.joined(separator: ", ")): the gateway ignores these rules. Add the host to the Gateway's servers or use one it serves",
                        ja: "ホスト \(service.hosts.joined(separator: ", ")) はどれも Gateway/\(gateway.name)（受け付けるのは \(serverHosts.joined(separator: ", "))）に受け付けられないため、ゲートウェイはこのルールを無視します。Gateway の servers にホストを追加するか、受け付けられるホストを使ってください",
                        kind: "VirtualService", name: service.name, source: service.source, field: "spec.hosts"))
            }
        }
        // Only for a service's own hosts: the ingress's `hosts: ["*"]` VirtualService is meant for the
        // gateway alone (and Istio refuses '*' for 'mesh').
        if !appliesToMesh(service), service.hosts.contains(where: { $0 != "*" }) {
            found.append(
                diagnostic(
                    .info, Code.gatewayOnly,
                    "bound only to \(service.gateways.joined(separator: ", ")): these rules apply only at the ingress, not between services (productpage → reviews keeps the default routing). Add 'mesh' to spec.gateways, or write a separate VirtualService without gateways, for the sidecars",
                    ja: "\(service.gateways.joined(separator: ", ")) だけにバインドされているため、このルールはイングレスでのみ使われ、サービス間（productpage → reviews）には効きません。サイドカーにも効かせるには spec.gateways に 'mesh' を加えるか、gateways のない VirtualService を別に書いてください",
                    kind: "VirtualService", name: service.name, source: service.source, field: "spec.gateways"))
        }
        return found
    }

    /// Several VirtualServices for one host, as the sidecars see it: the first one wins.
    static func duplicateHosts(_ context: Context) -> [Diagnostic] {
        var owners: [(host: String, service: VirtualService)] = []
        var found: [Diagnostic] = []
        for service in context.snapshot.virtualServices where appliesToMesh(service) {
            for host in Set(service.hosts.map { HostName.fullyQualified($0, namespace: service.namespace) }).sorted() where host != "*" {
                // The same name twice is one object applied again (it replaces the first), not a conflict.
                if let first = owners.first(where: { $0.host == host }), first.service.name != service.name {
                    found.append(
                        diagnostic(
                            .warning, Code.conflictingVirtualServiceHosts,
                            "VirtualService/\(first.service.name) and VirtualService/\(service.name) both define host '\(host)' for the sidecars: only the first one (VirtualService/\(first.service.name)) takes effect and the rules of VirtualService/\(service.name) are ignored. Merge their rules into one VirtualService and delete the other",
                            ja: "VirtualService/\(first.service.name) と VirtualService/\(service.name) が、サイドカー向けに同じホスト '\(host)' を定義しています。効くのは最初の VirtualService/\(first.service.name) だけで、VirtualService/\(service.name) のルールは無視されます。ルールを 1 つの VirtualService にまとめ、もう一方を削除してください",
                            kind: "VirtualService", name: service.name, source: service.source, field: "spec.hosts"))
                } else if !owners.contains(where: { $0.host == host }) {
                    owners.append((host, service))
                }
            }
        }
        return found
    }

    /// `end-user` matches that are not all lower case; rules hidden behind a catch-all.
    static func matches(_ service: VirtualService) -> [Diagnostic] {
        var found: [Diagnostic] = []
        for (index, route) in service.http.enumerated() {
            for (matchIndex, match) in route.match.enumerated() {
                for (name, matcher) in match.headers where name.lowercased() == "end-user" {
                    let value: String
                    switch matcher {
                    case .exact(let text), .prefix(let text), .regex(let text): value = text
                    case .present: continue
                    }
                    guard value != value.lowercased() else { continue }
                    found.append(
                        diagnostic(
                            .info, Code.endUserCase,
                            "matches end-user '\(value)', which has capital letters: bookinfo sends the user name exactly as typed at sign-in and header matching is case-sensitive, so only someone who signs in as '\(value)' matches ('\(value.lowercased())' does not). The samples use '\(value.lowercased())'",
                            ja: "end-user '\(value)' に一致させようとしていますが、大文字が含まれています。bookinfo はサインインで入力されたとおりのユーザー名を送り、ヘッダーの一致は大文字と小文字を区別するため、'\(value)' でサインインした人にしか一致しません（'\(value.lowercased())' は一致しません）。サンプルは '\(value.lowercased())' を使っています",
                            kind: "VirtualService", name: service.name, source: service.source,
                            field: "spec.http[\(index)].match[\(matchIndex)].headers.\(name)"))
                }
            }
            if route.match.isEmpty, index < service.http.count - 1 {
                found.append(
                    diagnostic(
                        .warning, Code.unreachableRule,
                        "this rule has no 'match', so it takes every request: the \(service.http.count - index - 1) rule(s) after it are never used. Move it to the end (the catch-all goes last)",
                        ja: "このルールには 'match' がないため、すべてのリクエストを受け取ります。後ろにある \(service.http.count - index - 1) 個のルールは使われません。このルールを最後に移してください（すべてを受け取るルールは最後に置きます）",
                        kind: "VirtualService", name: service.name, source: service.source, field: "spec.http[\(index)]"))
            }
        }
        return found
    }

    /// Splits whose weights do not add up to 100: the shares current Istio computes.
    static func weights(_ service: VirtualService) -> [Diagnostic] {
        var found: [Diagnostic] = []
        for (index, route) in service.http.enumerated() where route.route.count > 1 {
            let weights = route.route.map { max($0.weight ?? 0, 0) }
            let total = weights.reduce(0, +)
            guard total > 0, total != 100 else { continue }
            let shares = zip(route.route, weights).map { item, weight in
                let name = item.destination.subset.map { "\(item.destination.host) \($0)" } ?? item.destination.host
                return "\(name) \(Validation.format(Double(weight) * 100 / Double(total))) %"
            }
            found.append(
                diagnostic(
                    .info, Code.weightsNormalised,
                    "weights add up to \(total), not 100: current Istio splits the traffic as \(shares.joined(separator: ", ")) (Istio 1.0.6 refused this)",
                    ja: "重みの合計が 100 ではなく \(total) です。現在の Istio はトラフィックを \(shares.joined(separator: "、")) に分けます（Istio 1.0.6 はこれを拒否しました）",
                    kind: "VirtualService", name: service.name, source: service.source, field: "spec.http[\(index)].route"))
        }
        return found
    }

    /// DestinationRules for hosts without a Service, and subsets that select no pod.
    static func destinationRule(_ rule: DestinationRule, _ context: Context) -> [Diagnostic] {
        let host = HostName.fullyQualified(rule.host, namespace: rule.namespace)
        guard let service = context.services[host] else {
            if context.isKnown(host) { return [] }
            let hint =
                context.expansionHint(rule.host)
                ?? LocalizedHint(
                    en: " Check the spelling of spec.host (for bookinfo: productpage, reviews, ratings or details).",
                    ja: " spec.host の綴りを確認してください（bookinfo では productpage、reviews、ratings、details）。")
            return [
                diagnostic(
                    .warning, Code.destinationRuleHostNotFound,
                    "host '\(rule.host)' matches no Service in namespace '\(rule.namespace)': Istio ignores this DestinationRule and its subsets.\(hint.en)",
                    ja: "ホスト '\(rule.host)' は名前空間 '\(rule.namespace)' のどの Service にも一致しないため、Istio はこの DestinationRule とそのサブセットを無視します。\(hint.ja)",
                    kind: "DestinationRule", name: rule.name, source: rule.source, field: "spec.host")
            ]
        }
        let pods = context.snapshot.deployments.filter { deployment in
            !service.selector.isEmpty && service.selector.allSatisfy { deployment.podLabels[$0.key] == $0.value }
        }
        var found: [Diagnostic] = []
        for (index, subset) in rule.subsets.enumerated() {
            let selected = pods.filter { pod in subset.labels.allSatisfy { pod.podLabels[$0.key] == $0.value } }
            guard selected.isEmpty else { continue }
            let labels = subset.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
            let versions = Set(pods.compactMap { $0.podLabels["version"] }).sorted()
            let existing = pods.isEmpty ? "the Service has no pods" : "its pods have version \(versions.joined(separator: ", "))"
            let existingJa = pods.isEmpty ? "Service に Pod がありません" : "Pod の version は \(versions.joined(separator: ", ")) です"
            found.append(
                diagnostic(
                    .warning, Code.subsetSelectsNothing,
                    "subset '\(subset.name)' (\(labels)) selects none of the pods of Service \(service.name) (\(existing)): requests routed to it will fail with 503 (no healthy upstream). Deploy that version or route elsewhere",
                    ja: "サブセット '\(subset.name)'（\(labels)）は Service \(service.name) のどの Pod も選択しません（\(existingJa)）。そこへルーティングされたリクエストは 503（no healthy upstream）で失敗します。そのバージョンをデプロイするか、別の宛先にルーティングしてください",
                    kind: "DestinationRule", name: rule.name, source: rule.source, field: "spec.subsets[\(index)].labels"))
        }
        return found
    }
}
