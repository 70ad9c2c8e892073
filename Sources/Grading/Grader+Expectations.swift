import Foundation

/// How the grader applies each kind of ``Expectation`` to freshly sampled pages.
extension Grader {
    /// The result of applying one expectation to one visitor's pages.
    struct Judgement: Sendable {
        var passed: Bool
        var summary: LocalizedText
        var evidence: [String] = []
        var samples: [Sample] = []
        var falseFailRate: Double?
        var falsePassRate: Double?

        var counts: [Outcome: Int] {
            samples.reduce(into: [:]) { $0[$1.outcome, default: 0] += 1 }
        }
    }

    func judge(_ expectation: Expectation, visitor: Visitor, driver: TrafficDriver) async throws -> Judgement {
        switch expectation {
        case .all(let outcome, let samples):
            return try await allOf(outcome, samples: samples, visitor: visitor, driver: driver)
        case .covers(let set, let samples):
            return try await covers(set, samples: samples, visitor: visitor, driver: driver)
        case .shares(let shares):
            return try await judgeShares(shares, visitor: visitor, driver: driver)
        case .latency(let outcome, let low, let high, let samples):
            return try await latency(outcome, low: low, high: high, samples: samples, visitor: visitor, driver: driver)
        case .sidecarsInjected:
            return Judgement(passed: false, summary: LocalizedText(en: "A sidecar check cannot be a traffic control.", ja: "サイドカーのチェックは対照には使えません。"))
        }
    }

    /// Every page must be `outcome`; one mismatch fails.
    func allOf(_ outcome: Outcome, samples: Int, visitor: Visitor, driver: TrafficDriver) async throws -> Judgement {
        var taken: [Sample] = []
        while taken.count < samples {
            let batch = try await driver.samples(min(concurrency, samples - taken.count), as: visitor)
            for sample in batch {
                taken.append(sample)
                if sample.outcome != outcome {
                    return mismatch(expected: outcome, sample: sample, index: taken.count, taken: taken)
                }
            }
        }
        let expected = Wording.outcome(outcome)
        let miss = pow(1 - delta, Double(samples))
        return Judgement(
            passed: true,
            summary: LocalizedText(
                en: "All \(samples) pages showed \(expected.en), as expected.",
                ja: "\(samples) 回のアクセスすべてで\(expected.ja)が表示されました（期待どおり）。"),
            evidence: [
                "\(samples) of \(samples) pages were \(outcome.rawValue)",
                "a leak of \(Wording.percent(delta)) of the traffic elsewhere would go unseen in \(samples) pages with probability \(Wording.probability(miss))",
            ],
            samples: taken, falseFailRate: 0, falsePassRate: miss)
    }

    func mismatch(expected outcome: Outcome, sample: Sample, index: Int, taken: [Sample]) -> Judgement {
        let expected = Wording.outcome(outcome)
        let seen = Wording.outcome(sample.outcome)
        return Judgement(
            passed: false,
            summary: LocalizedText(
                en: "Expected every page to show \(expected.en), but page \(index) showed \(seen.en).",
                ja: "すべてのページで\(expected.ja)が表示されるはずでしたが、\(index) 回目のページは\(seen.ja)でした。"),
            evidence: ["page \(index): \(sample.line)", "seen so far: \(Wording.counts(taken.reduce(into: [:]) { $0[$1.outcome, default: 0] += 1 }))"],
            samples: taken, falseFailRate: 0, falsePassRate: nil)
    }

    /// Only outcomes of `set`, each at least once, within `samples` pages.
    func covers(_ set: Set<Outcome>, samples: Int, visitor: Visitor, driver: TrafficDriver) async throws -> Judgement {
        var taken: [Sample] = []
        var missing = set
        let names = Wording.outcomes(set)
        while taken.count < samples, !missing.isEmpty {
            let batch = try await driver.samples(min(concurrency, samples - taken.count), as: visitor)
            for sample in batch {
                taken.append(sample)
                if !set.contains(sample.outcome) {
                    let seen = Wording.outcome(sample.outcome)
                    return Judgement(
                        passed: false,
                        summary: LocalizedText(
                            en: "Expected only \(names.en), but page \(taken.count) showed \(seen.en).",
                            ja: "\(names.ja)だけが表示されるはずでしたが、\(taken.count) 回目のページは\(seen.ja)でした。"),
                        evidence: ["page \(taken.count): \(sample.line)"], samples: taken)
                }
                missing.remove(sample.outcome)
            }
        }
        let counts = taken.reduce(into: [Outcome: Int]()) { $0[$1.outcome, default: 0] += 1 }
        let m = Double(set.count)
        // If the allowed outcomes are equally likely, all are seen within `samples` pages except with at most this probability.
        let unseen = min(1, m * pow(1 - 1 / m, Double(samples)))
        let leakMissed = pow(1 - delta, Double(taken.count))
        if missing.isEmpty {
            return Judgement(
                passed: true,
                summary: LocalizedText(
                    en: "Saw each of \(names.en) within \(taken.count) pages, and nothing else.",
                    ja: "\(taken.count) 回のアクセスで\(names.ja)がすべて表示され、それ以外のページはありませんでした。"),
                evidence: [
                    "seen: \(Wording.counts(counts))",
                    "a \(Wording.percent(delta)) leak to another outcome would go unseen in \(taken.count) pages with probability \(Wording.probability(leakMissed))",
                ],
                samples: taken, falseFailRate: unseen, falsePassRate: leakMissed)
        }
        let absent = Wording.outcomes(missing)
        return Judgement(
            passed: false,
            summary: LocalizedText(
                en: "Expected to see \(names.en) within \(samples) pages, but \(absent.en) never appeared.",
                ja: "\(samples) 回のアクセスで\(names.ja)がすべて表示されるはずでしたが、\(absent.ja)は一度も表示されませんでした。"),
            evidence: ["seen: \(Wording.counts(counts))"], samples: taken, falseFailRate: unseen, falsePassRate: nil)
    }

    /// The traffic splits as `shares`, judged by ``SequentialShareTest``; pages are fed in the
    /// order the requests were issued.
    func judgeShares(_ shares: [Outcome: Double], visitor: Visitor, driver: TrafficDriver) async throws -> Judgement {
        var test = SequentialShareTest(expected: shares, alpha: alpha, beta: beta, delta: delta, cap: cap)
        var taken: [Sample] = []
        var decision = SequentialShareTest.Decision.continue
        while decision == .continue {
            let batch = try await driver.samples(concurrency, as: visitor)
            for sample in batch where decision == .continue {
                taken.append(sample)
                decision = test.feed(sample.outcome)
            }
        }
        let observed = Wording.observedShares(test.counts)
        let asked = Wording.askedShares(shares)
        let short = Wording.askedSharesShort(shares)
        let jaObserved = Self.japaneseShares(test.counts)
        let method =
            test.isAllOf
            ? "all-of rule: \(test.allOfSamples) pages must all match"
            : "sequential test: \(test.oneSidedTests) one-sided SPRTs, α = \(Wording.probability(alpha)) split over them, β = \(Wording.probability(beta)) split over \(test.destinations) destinations, δ = \(Wording.percent(delta)), cap \(cap)"
        let rates = "design error rates: false fail ≤ \(Wording.probability(test.designFalseFailRate)), false pass ≤ \(Wording.probability(test.designFalsePassRate))"
        var evidence = ["\(observed); asked \(asked)", "\(test.samples) pages judged (\(method))", rates]
        switch decision {
        case .accept, .continue:
            return Judgement(
                passed: true,
                summary: LocalizedText(
                    en: "The traffic splits as asked: \(observed); asked \(short).",
                    ja: "トラフィックは指定どおりに分かれています：\(test.samples) 回中 \(jaObserved)（指定 \(short)）。"),
                evidence: evidence, samples: taken, falseFailRate: test.designFalseFailRate, falsePassRate: test.designFalsePassRate)
        case .reject(let rejection):
            evidence.insert("rejected: \(rejection)", at: 1)
            let summary: LocalizedText
            switch rejection {
            case .unexpected(let outcome, let index):
                let seen = Wording.outcome(outcome)
                let allowed = Wording.outcomes(shares.filter { $0.value > 0 }.keys)
                if let sample = taken.last { evidence.insert("page \(index): \(sample.line)", at: 1) }
                summary = LocalizedText(
                    en: "Expected only \(allowed.en) (\(short)), but page \(index) showed \(seen.en).",
                    ja: "\(allowed.ja)だけ（\(short)）が表示されるはずでしたが、\(index) 回目のページは\(seen.ja)でした。")
            case .share:
                summary = LocalizedText(
                    en: "The traffic does not split as asked: \(observed); asked \(short).",
                    ja: "トラフィックの比率が指定と違います：\(test.samples) 回中 \(jaObserved)（指定 \(short)）。")
            }
            return Judgement(
                passed: false, summary: summary, evidence: evidence, samples: taken, falseFailRate: test.designFalseFailRate,
                falsePassRate: test.designFalsePassRate)
        }
    }

    /// `v1 79 %、v3 21 %`.
    static func japaneseShares(_ counts: [Outcome: Int]) -> String {
        let total = counts.values.reduce(0, +)
        guard total > 0 else { return "記録なし" }
        return counts.filter { $0.value > 0 }.sorted { Wording.order($0.key) < Wording.order($1.key) }
            .map { "\($0.key.rawValue) \(Wording.percent(Double($0.value) / Double(total)))" }.joined(separator: "、")
    }

    /// Each page must be `outcome` and arrive within [low, high] seconds.
    ///
    /// A loaded machine only ever adds to a page's time, never takes from it: a page of the right
    /// outcome that arrives too late is fetched again (twice at most) and its fastest try counts,
    /// while one that arrives too early fails at once.
    func latency(_ outcome: Outcome, low: Double, high: Double, samples: Int, visitor: Visitor, driver: TrafficDriver) async throws -> Judgement {
        var taken = try await driver.samples(samples, as: visitor)
        let expected = Wording.outcome(outcome)
        let window = "\(Wording.seconds(low))–\(Wording.seconds(high)) s"
        var lines = taken.enumerated().map { "page \($0.offset + 1): \($0.element.line)" }
        for index in taken.indices where taken[index].outcome == outcome && taken[index].latency > high {
            for _ in 0..<2 where taken[index].latency > high {
                guard let again = try await driver.samples(1, as: visitor).first else { break }
                lines.append("page \(index + 1) again (it came late; the fastest try counts): \(again.line)")
                if again.outcome != outcome || again.latency < taken[index].latency { taken[index] = again }
            }
        }
        for (index, sample) in taken.enumerated() where sample.outcome != outcome || sample.latency < low || sample.latency > high {
            let seen = Wording.outcome(sample.outcome)
            let after = Wording.seconds(sample.latency)
            return Judgement(
                passed: false,
                summary: LocalizedText(
                    en: "Expected \(expected.en) after \(window), but page \(index + 1) showed \(seen.en) after \(after) s.",
                    ja: "\(window.replacingOccurrences(of: " s", with: " 秒"))後に\(expected.ja)が表示されるはずでしたが、\(index + 1) 回目のページは \(after) 秒後に\(seen.ja)でした。"),
                evidence: lines, samples: taken)
        }
        let times = taken.map { Wording.seconds($0.latency) + " s" }.joined(separator: ", ")
        return Judgement(
            passed: true,
            summary: LocalizedText(
                en: "Every page (\(taken.count)) showed \(expected.en) within \(window) (\(times)).",
                ja: "\(taken.count) 回のアクセスすべてで、\(window.replacingOccurrences(of: " s", with: " 秒"))の範囲内に\(expected.ja)が表示されました（\(times.replacingOccurrences(of: " s", with: " 秒"))）。"),
            evidence: lines, samples: taken)
    }

    /// The namespace is labelled for injection and every pod runs its sidecar (READY `n/n`, n ≥ 2).
    func sidecars(_ check: Check, probe: some NamespaceProbe) async -> Verdict {
        let labels: [String: String]
        let pods: [(name: String, ready: String)]
        do {
            labels = try await probe.namespaceLabels()
            pods = try await probe.pods()
        } catch {
            return Verdict(
                checkID: check.id, passed: false,
                summary: LocalizedText(en: "Could not read the namespace: \(error).", ja: "名前空間の状態を読み取れませんでした：\(error)。"))
        }
        let injected = labels["istio-injection"] == "enabled" || (labels["istio.io/rev"].map { !$0.isEmpty } ?? false)
        let evidence = ["labels: " + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")]
            + pods.map { "pod \($0.name): \($0.ready)" }
        guard injected else {
            let current = labels["istio-injection"].map { " (it is '\($0)')" } ?? ""
            return Verdict(
                checkID: check.id, passed: false,
                summary: LocalizedText(
                    en: "The namespace is not labelled istio-injection=enabled\(current), so new pods get no sidecar.",
                    ja: "名前空間に istio-injection=enabled のラベルが付いていない\(labels["istio-injection"].map { "（現在は「\($0)」）" } ?? "")ため、新しい Pod にサイドカーが注入されません。"),
                evidence: evidence)
        }
        let without = pods.filter { !Self.hasSidecar(ready: $0.ready) }
        guard !pods.isEmpty else {
            return Verdict(
                checkID: check.id, passed: false,
                summary: LocalizedText(en: "The namespace is labelled for injection but has no pods yet.", ja: "名前空間には注入用のラベルがありますが、Pod がまだありません。"),
                evidence: evidence)
        }
        guard without.isEmpty else {
            let names = without.map { "\($0.name) (\($0.ready))" }.joined(separator: ", ")
            return Verdict(
                checkID: check.id, passed: false,
                summary: LocalizedText(
                    en: "The namespace is labelled, but these pods run without a ready sidecar: \(names). Restart them so they are created with one.",
                    ja: "ラベルは付いていますが、次の Pod にはサイドカーがありません（または準備ができていません）：\(names)。Pod を再起動して作り直してください。"),
                evidence: evidence)
        }
        return Verdict(
            checkID: check.id, passed: true,
            summary: LocalizedText(
                en: "The namespace is labelled istio-injection=enabled and all \(pods.count) pods run with a sidecar.",
                ja: "名前空間に istio-injection=enabled が付き、\(pods.count) 個の Pod すべてがサイドカー付きで動いています。"),
            evidence: evidence)
    }

    /// `2/2` and more: every container ready, and more than the application's own.
    static func hasSidecar(ready: String) -> Bool {
        let parts = ready.split(separator: "/")
        guard parts.count == 2, let up = Int(parts[0]), let total = Int(parts[1]) else { return false }
        return total >= 2 && up == total
    }
}
