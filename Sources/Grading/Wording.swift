/// The words the grader uses for outcomes, visitors, shares and numbers, in English and Japanese.
enum Wording {
    static func outcome(_ outcome: Outcome) -> LocalizedText {
        switch outcome {
        case .v1: LocalizedText(en: "v1 (no stars)", ja: "v1（星なし）")
        case .v2: LocalizedText(en: "v2 (black stars)", ja: "v2（黒い星）")
        case .v3: LocalizedText(en: "v3 (red stars)", ja: "v3（赤い星）")
        case .ratingsUnavailable: LocalizedText(en: "ratings unavailable", ja: "評価（ratings）を取得できないページ")
        case .reviewsUnavailable: LocalizedText(en: "reviews unavailable", ja: "レビュー（reviews）を取得できないページ")
        case .detailsUnavailable: LocalizedText(en: "details unavailable", ja: "書籍の詳細（details）を取得できないページ")
        case .httpError: LocalizedText(en: "an HTTP error", ja: "HTTP エラー")
        case .other: LocalizedText(en: "an unrecognised page", ja: "判別できないページ")
        }
    }

    /// Several outcomes in a stable order, e.g. "v1 (no stars), v3 (red stars)".
    static func outcomes(_ outcomes: some Collection<Outcome>) -> LocalizedText {
        let sorted = outcomes.sorted { order($0) < order($1) }
        return LocalizedText(
            en: sorted.map { outcome($0).en }.joined(separator: ", "),
            ja: sorted.map { outcome($0).ja }.joined(separator: "、"))
    }

    static func visitor(_ visitor: Visitor) -> LocalizedText {
        switch visitor {
        case .anonymous: LocalizedText(en: "anonymous visitors", ja: "匿名ユーザー")
        case .user(let name): LocalizedText(en: "user '\(name)'", ja: "ユーザー「\(name)」")
        }
    }

    /// Outcomes in the order of the grading notes.
    static func order(_ outcome: Outcome) -> Int {
        Outcome.allCases.firstIndex(of: outcome) ?? Outcome.allCases.count
    }

    static func percent(_ value: Double) -> String { "\(Int((value * 100).rounded())) %" }

    /// `observed 79 % v1 / 21 % v3 over 180 requests`.
    static func observedShares(_ counts: [Outcome: Int]) -> String {
        let total = counts.values.reduce(0, +)
        guard total > 0 else { return "nothing observed" }
        let parts = counts.filter { $0.value > 0 }.sorted { order($0.key) < order($1.key) }
            .map { "\(percent(Double($0.value) / Double(total))) \($0.key.rawValue)" }
        return "observed \(parts.joined(separator: " / ")) over \(total) requests"
    }

    /// `50/50` for v1 0.5 / v3 0.5 (in outcome order, shares of 0 left out), with the names
    /// when they are not obvious: `50 % v1 / 50 % v3`.
    static func askedShares(_ shares: [Outcome: Double]) -> String {
        let parts = shares.filter { $0.value > 0 }.sorted { order($0.key) < order($1.key) }
        return parts.map { "\(percent($0.value)) \($0.key.rawValue)" }.joined(separator: " / ")
    }

    static func askedSharesShort(_ shares: [Outcome: Double]) -> String {
        let parts = shares.filter { $0.value > 0 }.sorted { order($0.key) < order($1.key) }
        return parts.map { "\(Int(($0.value * 100).rounded()))" }.joined(separator: "/")
    }

    /// Counts as `v1 ×15, v2 ×15`.
    static func counts(_ counts: [Outcome: Int]) -> String {
        counts.filter { $0.value > 0 }.sorted { order($0.key) < order($1.key) }.map { "\($0.key.rawValue) ×\($0.value)" }
            .joined(separator: ", ")
    }

    /// A probability in a readable form: `0.001`, `0.0012`, `3.0e-05`.
    static func probability(_ value: Double) -> String {
        if value == 0 { return "0" }
        if value >= 0.001 {
            let scaled = (value * 10000).rounded() / 10000
            return "\(scaled)"
        }
        var exponent = 0
        var mantissa = value
        while mantissa < 1 {
            mantissa *= 10
            exponent -= 1
        }
        return "\((mantissa * 10).rounded() / 10)e\(exponent)"
    }

    /// Seconds with one or two decimals.
    static func seconds(_ value: Double) -> String {
        value >= 10 ? "\((value * 10).rounded() / 10)" : "\((value * 100).rounded() / 100)"
    }
}
