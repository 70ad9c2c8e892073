import MeshModel

/// Turns a failed check into its likely causes (grading notes, "Explaining failures"): first what
/// ``PathTrace`` finds by following the failed visitor's request through the namespace's routing,
/// then the analyzer's findings about the objects on that path, in plain words first, then the
/// finding itself (location and message, which ends with a hint). Findings about objects off the
/// path are left to `labctl analyze`; one finding on several objects is one cause. When nothing
/// fits, it says what the observation usually means.
enum FailureExplainer {
    /// Causes for `failure`, most decisive first.
    static func causes(for failure: Failure, probe: some NamespaceProbe) async -> [Cause] {
        let diagnostics: [Diagnostic]
        let snapshot: MeshSnapshot?
        do {
            // One read of the namespace: the findings come from the same snapshot the trace follows.
            snapshot = try await probe.snapshot()
            diagnostics = if let snapshot { Analysis.analyze(snapshot) } else { try await probe.diagnostics() }
        } catch {
            return [Cause(en: "(the namespace could not be analysed: \(error))", ja: "（名前空間を解析できませんでした：\(error)）")]
        }
        var causes: [Cause] = []
        var remaining = diagnostics
        if let snapshot {
            let trace = PathTrace(failure: failure, snapshot: snapshot, diagnostics: diagnostics)
            let found = trace.causes()
            causes = found.map(\.cause)
            let covered = found.flatMap(\.covers)
            let onPath = trace.objectsOnPath
            remaining = diagnostics.filter { finding in !covered.contains(finding) && finding.object.map(onPath.contains) != false }
        }
        for cause in explain(remaining, observed: failure.seen, visitor: failure.visitor) where !causes.contains(where: { $0.text == cause.text }) {
            causes.append(cause)
        }
        if causes.isEmpty, let fallback = fallback(observed: failure.seen, expectation: failure.expectation) {
            causes.append(fallback)
        }
        return causes
    }

    /// One cause per relevant diagnostic, most relevant first.
    static func explain(_ diagnostics: [Diagnostic], observed: Set<Outcome>, visitor: Visitor) -> [Cause] {
        let versions = observed.intersection([.v1, .v2, .v3])
        let failed = !observed.isDisjoint(with: [.reviewsUnavailable, .ratingsUnavailable, .detailsUnavailable, .httpError])
        var ranked: [(rank: Int, lead: LocalizedText, diagnostic: Diagnostic)] = []
        for diagnostic in diagnostics {
            let subset = diagnostic.field?.hasSuffix(".subset") == true || diagnostic.message.contains("subset '")
            let lead: LocalizedText?
            var rank = 5
            switch diagnostic.code {
            case Analysis.Code.referencedResourceNotFound where subset:
                let page = observed.contains(.reviewsUnavailable) ? ("reviews unavailable, as seen", "「レビューを取得できない」ページ（今回のとおり）") : ("'… unavailable' for that service", "そのサービスを「取得できない」ページ")
                lead = LocalizedText(
                    en: "A route sends traffic to a subset that no DestinationRule defines, so Envoy answers 503 and the page shows \(page.0)",
                    ja: "ルートがどの DestinationRule にも定義されていないサブセットにトラフィックを送っているため、Envoy が 503 を返し、\(page.1)になります")
                rank = failed ? 0 : 3
            case Analysis.Code.referencedResourceNotFound where diagnostic.field?.contains("gateways") == true:
                lead = LocalizedText(
                    en: "The VirtualService is bound to a Gateway that does not exist, so no proxy uses its rules",
                    ja: "VirtualService が存在しない Gateway にバインドされているため、どのプロキシもそのルールを使いません")
                rank = 1
            case Analysis.Code.referencedResourceNotFound:
                lead = LocalizedText(
                    en: "A route points to a host that does not exist, so those requests fail with 503",
                    ja: "ルートが存在しないホストを指しているため、そのリクエストは 503 で失敗します")
                rank = 1
            case Analysis.Code.namespaceNotInjected:
                let seen = versions.count > 1 ? versions.map(\.rawValue).sorted().joined(separator: ", ") : nil
                lead = LocalizedText(
                    en: "The namespace is not injected: the pods have no sidecar, so routing rules are ignored and every version keeps answering\(seen.map { " (seen here: \($0))" } ?? "")",
                    ja: "名前空間にサイドカーが注入されていません。Pod にサイドカーがないためルーティングのルールは無視され、すべてのバージョンが応答し続けます\(seen.map { "（今回見えたもの：\($0)）" } ?? "")")
                rank = versions.count > 1 ? 0 : 2
            case Analysis.Code.hostNotInGateway:
                lead = LocalizedText(
                    en: "The VirtualService is not bound to the gateway for its hosts, so the ingress ignores its rules",
                    ja: "VirtualService のホストがゲートウェイに受け付けられないため、イングレスはそのルールを無視します")
                rank = 1
            case Analysis.Code.gatewayOnly:
                lead = LocalizedText(
                    en: "The VirtualService is bound only to a gateway, not to 'mesh', so calls between services (productpage → reviews) ignore it",
                    ja: "VirtualService が 'mesh' ではなくゲートウェイにだけバインドされているため、サービス間の呼び出し（productpage → reviews）はこれを無視します")
                rank = 1
            case Analysis.Code.endUserCase:
                let value = quoted(diagnostic.message) ?? "the header value"
                let user = if case .user(let name) = visitor { "'\(name)'" } else { "the user name as typed" }
                let userJa = if case .user(let name) = visitor { "'\(name)'" } else { "入力されたとおりのユーザー名" }
                lead = LocalizedText(
                    en: "Header match case: the rule matches end-user '\(value)', but bookinfo sends \(user) and header matching is case-sensitive ('\(value)' ≠ '\(value.lowercased())')",
                    ja: "ヘッダー一致の大文字・小文字：ルールは end-user '\(value)' に一致させますが、bookinfo が送るのは \(userJa) で、ヘッダーの一致は大文字と小文字を区別します（'\(value)' ≠ '\(value.lowercased())'）")
                rank = 0
            case Analysis.Code.weightsNormalised:
                lead = LocalizedText(
                    en: "The route weights do not add up to 100, so Istio rescales them and the split differs from what was written",
                    ja: "ルートの重みの合計が 100 ではないため、Istio が比率を計算し直し、書かれたとおりには分かれません")
                rank = 1
            case Analysis.Code.subsetSelectsNothing:
                // A cause only when requests failed: an unused subset (Istio's sample defines
                // several) changes nothing the learner saw.
                lead = failed ? LocalizedText(en: "A subset selects no pod, so traffic routed to it fails with 503", ja: "サブセットがどの Pod も選択しないため、そこへ送られたトラフィックは 503 で失敗します") : nil
                rank = 0
            case Analysis.Code.conflictingVirtualServiceHosts:
                lead = LocalizedText(
                    en: "Two VirtualServices claim the same host; only one of them takes effect",
                    ja: "2 つの VirtualService が同じホストを定義しています。効くのはそのうち 1 つだけです")
                rank = 1
            case Analysis.Code.unreachableRule:
                lead = LocalizedText(
                    en: "A rule comes after a rule that matches everything, so it is never reached",
                    ja: "すべてに一致するルールの後ろにあるルールは、決して使われません")
                rank = 1
            default:
                lead = diagnostic.severity == .info ? nil : LocalizedText(en: "Istio reports a problem with the configuration", ja: "Istio が設定の問題を報告しています")
            }
            if let lead { ranked.append((rank, lead, diagnostic)) }
        }
        // The same finding on several objects is one cause naming them all.
        var causes: [(rank: Int, order: Int, lead: LocalizedText, findings: [Diagnostic])] = []
        for (rank, lead, diagnostic) in ranked {
            if let index = causes.firstIndex(where: { $0.lead == lead && $0.findings[0].code == diagnostic.code }) {
                causes[index].rank = min(causes[index].rank, rank)
                if !causes[index].findings.contains(where: { $0.object == diagnostic.object }) { causes[index].findings.append(diagnostic) }
            } else {
                causes.append((rank, causes.count, lead, [diagnostic]))
            }
        }
        return causes.sorted { ($0.rank, $0.order) < ($1.rank, $1.order) }.map { cause in
            let first = cause.findings[0]
            let objects = cause.findings.compactMap(\.object)
            guard cause.findings.count > 1 else {
                return Cause(en: "\(cause.lead.en). \(first.description)", ja: "\(cause.lead.ja)。\(first.descriptionJa)", objects: objects)
            }
            let names = objects.joined(separator: ", ")
            return Cause(
                en: "\(cause.lead.en) (\(names)). For example: \(first.description)", ja: "\(cause.lead.ja)（\(names)）。例：\(first.descriptionJa)",
                objects: objects)
        }
    }

    /// What the observation usually means when the analysis found nothing.
    static func fallback(observed: Set<Outcome>, expectation: Expectation) -> Cause? {
        let versions = observed.intersection([.v1, .v2, .v3])
        if versions.count == 3 {
            return Cause(
                en: "Every version answered, as if no routing rule applied: check that the reviews VirtualService is applied in this namespace, bound to 'mesh' (or to no gateway), and that the namespace is injected.",
                ja: "ルーティングのルールがないかのように、すべてのバージョンが応答しました。reviews の VirtualService がこの名前空間に適用され、'mesh' に（またはゲートウェイなしで）バインドされていること、名前空間に注入が有効なことを確認してください。")
        }
        if observed.contains(.reviewsUnavailable) {
            return Cause(
                en: "reviews answered with an error: a route to a subset without pods or without a DestinationRule, an abort fault, or a timeout shorter than reviews' answer would do this.",
                ja: "reviews がエラーを返しました。Pod のないサブセットや DestinationRule のないサブセットへのルート、abort フォールト、reviews の応答より短いタイムアウトなどが考えられます。")
        }
        if observed.contains(.ratingsUnavailable) {
            return Cause(
                en: "ratings answered with an error or too late: an abort or delay fault on ratings, or a route to a missing ratings subset, would do this.",
                ja: "ratings がエラーを返したか、応答が遅すぎました。ratings への abort や delay のフォールト、存在しない ratings のサブセットへのルートなどが考えられます。")
        }
        if observed.contains(.detailsUnavailable) {
            return Cause(
                en: "details answered with an error: an abort fault or a route to a missing details subset would do this.",
                ja: "details がエラーを返しました。abort フォールトや、存在しない details のサブセットへのルートなどが考えられます。")
        }
        if observed.contains(.httpError) {
            return Cause(
                en: "productpage itself answered with an HTTP error: check the gateway's VirtualService for /productpage.",
                ja: "productpage 自体が HTTP エラーを返しました。/productpage 用のゲートウェイの VirtualService を確認してください。")
        }
        return nil
    }

    /// The first single-quoted word of `text`.
    static func quoted(_ text: String) -> String? {
        let parts = text.split(separator: "'", omittingEmptySubsequences: false)
        return parts.count >= 3 ? String(parts[1]) : nil
    }
}
