import MeshModel

/// Turns the namespace's diagnostics into likely causes of a failed check, in plain words first,
/// then the finding itself (location and message, which ends with a hint) — grading notes,
/// "Explaining failures". When no finding fits, it says what the observation usually means.
enum FailureExplainer {
    /// Causes for a failed `verdict` of `check`; empty for a pass.
    static func causes(for check: Check, verdict: Verdict, probe: some NamespaceProbe) async -> [String] {
        guard !verdict.passed else { return [] }
        let observed = Set(verdict.observed.compactMap { Outcome(rawValue: $0.key) }.filter { verdict.observed[$0.rawValue, default: 0] > 0 })
        // What was observed is evidence (the verdict has it), never a cause.
        var causes: [String] = []
        let diagnostics: [Diagnostic]
        do {
            diagnostics = try await probe.diagnostics()
        } catch {
            return causes + ["(the namespace could not be analysed: \(error))"]
        }
        let explained = explain(diagnostics, observed: observed, visitor: check.visitor)
        causes += explained
        if explained.isEmpty, let fallback = fallback(observed: observed, expectation: check.expect) {
            causes.append(fallback)
        }
        return causes
    }

    /// One cause per relevant diagnostic, most relevant first.
    static func explain(_ diagnostics: [Diagnostic], observed: Set<Outcome>, visitor: Visitor) -> [String] {
        let versions = observed.intersection([.v1, .v2, .v3])
        var ranked: [(rank: Int, lead: String, diagnostic: Diagnostic)] = []
        for diagnostic in diagnostics {
            let subset = diagnostic.field?.hasSuffix(".subset") == true || diagnostic.message.contains("subset '")
            let lead: String?
            var rank = 5
            switch diagnostic.code {
            case Analysis.Code.referencedResourceNotFound where subset:
                let page = observed.contains(.reviewsUnavailable) ? "reviews unavailable, as seen" : "'… unavailable' for that service"
                lead = "A route sends traffic to a subset that no DestinationRule defines, so Envoy answers 503 and the page shows \(page)"
                rank = observed.isDisjoint(with: [.reviewsUnavailable, .ratingsUnavailable, .detailsUnavailable, .httpError]) ? 3 : 0
            case Analysis.Code.referencedResourceNotFound where diagnostic.field?.contains("gateways") == true:
                lead = "The VirtualService is bound to a Gateway that does not exist, so no proxy uses its rules"
                rank = 1
            case Analysis.Code.referencedResourceNotFound:
                lead = "A route points to a host that does not exist, so those requests fail with 503"
                rank = 1
            case Analysis.Code.namespaceNotInjected:
                let seen = versions.count > 1 ? " (seen here: \(versions.map(\.rawValue).sorted().joined(separator: ", ")))" : ""
                lead = "The namespace is not injected: the pods have no sidecar, so routing rules are ignored and every version keeps answering\(seen)"
                rank = versions.count > 1 ? 0 : 2
            case Analysis.Code.hostNotInGateway:
                lead = "The VirtualService is not bound to the gateway for its hosts, so the ingress ignores its rules"
                rank = 1
            case Analysis.Code.gatewayOnly:
                lead = "The VirtualService is bound only to a gateway, not to 'mesh', so calls between services (productpage → reviews) ignore it"
                rank = 1
            case Analysis.Code.endUserCase:
                let value = quoted(diagnostic.message) ?? "the header value"
                let user = if case .user(let name) = visitor { "'\(name)'" } else { "the user name as typed" }
                lead = "Header match case: the rule matches end-user '\(value)', but bookinfo sends \(user) and header matching is case-sensitive ('\(value)' ≠ '\(value.lowercased())')"
                rank = 0
            case Analysis.Code.weightsNormalised:
                lead = "The route weights do not add up to 100, so Istio rescales them and the split differs from what was written"
                rank = 1
            case Analysis.Code.subsetSelectsNothing:
                // A cause only when requests failed: an unused subset (Istio's sample defines
                // several) changes nothing the learner saw.
                let failed = !observed.isDisjoint(with: [.reviewsUnavailable, .ratingsUnavailable, .detailsUnavailable, .httpError])
                lead = failed ? "A subset selects no pod, so traffic routed to it fails with 503" : nil
                rank = 0
            case Analysis.Code.conflictingVirtualServiceHosts:
                lead = "Two VirtualServices claim the same host; only one of them takes effect"
                rank = 1
            case Analysis.Code.unreachableRule:
                lead = "A rule comes after a rule that matches everything, so it is never reached"
                rank = 1
            default:
                lead = diagnostic.severity == .info ? nil : "Istio reports a problem with the configuration"
            }
            if let lead { ranked.append((rank, lead, diagnostic)) }
        }
        // The same finding on several objects is one cause naming them all.
        var causes: [(rank: Int, order: Int, lead: String, findings: [Diagnostic])] = []
        for (rank, lead, diagnostic) in ranked {
            if let index = causes.firstIndex(where: { $0.lead == lead && $0.findings[0].code == diagnostic.code }) {
                causes[index].rank = min(causes[index].rank, rank)
                if !causes[index].findings.contains(where: { $0.object == diagnostic.object }) { causes[index].findings.append(diagnostic) }
            } else {
                causes.append((rank, causes.count, lead, [diagnostic]))
            }
        }
        return causes.sorted { ($0.rank, $0.order) < ($1.rank, $1.order) }.map { cause in
            guard cause.findings.count > 1 else { return "\(cause.lead). \(cause.findings[0].description)" }
            let objects = cause.findings.compactMap(\.object).joined(separator: ", ")
            return "\(cause.lead) (\(objects)). For example: \(cause.findings[0].description)"
        }
    }

    /// What the observation usually means when the analysis found nothing.
    static func fallback(observed: Set<Outcome>, expectation: Expectation) -> String? {
        let versions = observed.intersection([.v1, .v2, .v3])
        if versions.count == 3 {
            return "Every version answered, as if no routing rule applied: check that the reviews VirtualService is applied in this namespace, bound to 'mesh' (or to no gateway), and that the namespace is injected."
        }
        if observed.contains(.reviewsUnavailable) {
            return "reviews answered with an error: a route to a subset without pods or without a DestinationRule, an abort fault, or a timeout shorter than reviews' answer would do this."
        }
        if observed.contains(.ratingsUnavailable) {
            return "ratings answered with an error or too late: an abort or delay fault on ratings, or a route to a missing ratings subset, would do this."
        }
        if observed.contains(.detailsUnavailable) {
            return "details answered with an error: an abort fault or a route to a missing details subset would do this."
        }
        if observed.contains(.httpError) {
            return "productpage itself answered with an HTTP error: check the gateway's VirtualService for /productpage."
        }
        return nil
    }

    /// The first single-quoted word of `text`.
    static func quoted(_ text: String) -> String? {
        let parts = text.split(separator: "'", omittingEmptySubsequences: false)
        return parts.count >= 3 ? String(parts[1]) : nil
    }
}
