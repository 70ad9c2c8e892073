import Logging

/// Grades one ``Check`` from observed traffic (grading notes): it sends real requests through the
/// namespace's ingress as the check's visitor, waits for the configuration to settle, applies the
/// expectation (all-of, covers, shares by ``SequentialShareTest``, latency window, sidecars),
/// samples the controls, and on failure explains the observation with the namespace's
/// diagnostics. It never throws: every problem, the ingress being unreachable included, is a
/// failed ``Verdict`` with a message.
public struct Grader: Sendable {
    /// Requests in flight at most.
    public var concurrency: Int
    /// Deadline of one request.
    public var timeout: Duration
    /// Consecutive stable samples that mark the configuration as settled (k).
    public var settleSamples: Int
    /// How long settling may take before the check fails.
    public var settleDeadline: Duration
    /// Error rates and effect size of the share test.
    public var alpha: Double
    public var beta: Double
    public var delta: Double
    /// Most samples of a share test.
    public var cap: Int
    let logger: Logger

    public init(
        concurrency: Int = 4, timeout: Duration = .seconds(15), settleSamples: Int = 3, settleDeadline: Duration = .seconds(20),
        alpha: Double = 0.001, beta: Double = 0.001, delta: Double = 0.20, cap: Int = 400,
        logger: Logger = Logger(label: "meshdojo.grading")
    ) {
        self.concurrency = max(1, concurrency)
        self.timeout = timeout
        self.settleSamples = max(1, settleSamples)
        self.settleDeadline = settleDeadline
        self.alpha = alpha
        self.beta = beta
        self.delta = delta
        self.cap = cap
        self.logger = logger
    }

    /// Grades `check` against the namespace that `probe` describes.
    public func grade(_ check: Check, probe: some NamespaceProbe) async -> Verdict {
        let clock = ContinuousClock()
        let start = clock.now
        var (verdict, failure) = await run(check, probe: probe)
        verdict.seconds = TrafficDriver.seconds(clock.now - start)
        if !verdict.passed {
            let failure = failure ?? Failure(visitor: check.visitor, expectation: check.expect, observed: [:])
            verdict.causes += await FailureExplainer.causes(for: failure, probe: probe)
        }
        logger.debug("graded \(check.id): \(verdict.passed ? "pass" : "fail") — \(verdict.summary.en)")
        return verdict
    }

    /// The verdict before causes are attached, and for a failure whose pages failed (the main
    /// visitor's or a control's), so the causes follow that visitor's request.
    func run(_ check: Check, probe: some NamespaceProbe) async -> (Verdict, Failure?) {
        if case .sidecarsInjected = check.expect {
            return (await sidecars(check, probe: probe), nil)
        }
        let verdict = await traffic(check, probe: probe)
        return (verdict.verdict, verdict.failure)
    }

    func traffic(_ check: Check, probe: some NamespaceProbe) async -> (verdict: Verdict, failure: Failure?) {
        if let problem = Self.malformed(check.expect) {
            return (
                Verdict(
                    checkID: check.id, passed: false,
                    summary: LocalizedText(en: "The check itself is malformed: \(problem).", ja: "チェックの定義に誤りがあります：\(problem)。")), nil
            )
        }
        let url: String
        do {
            url = try await probe.ingressURL()
        } catch {
            return (
                Verdict(
                    checkID: check.id, passed: false,
                    summary: LocalizedText(
                        en: "Could not find the namespace's ingress gateway: \(error).",
                        ja: "名前空間のイングレスゲートウェイが見つかりませんでした：\(error)。")), nil
            )
        }
        let driver = TrafficDriver(ingressURL: url, path: check.path, concurrency: concurrency, timeout: timeout, logger: logger)
        do {
            var evidence: [String] = []
            if Self.needsSettling(check.expect) {
                switch try await settle(check.expect, visitor: check.visitor, driver: driver) {
                case .settled(let line):
                    evidence.append(line)
                case .unreachable(let sample):
                    return (Self.unreachable(check, url: url, sample: sample, requests: await driver.requestsSent), nil)
                case .timedOut(let seen):
                    let seconds = Wording.seconds(TrafficDriver.seconds(settleDeadline))
                    let verdict = Verdict(
                        checkID: check.id, passed: false,
                        summary: LocalizedText(
                            en: "The configuration did not take effect within \(seconds) s: the pages kept changing (\(Wording.counts(seen))).",
                            ja: "設定が \(seconds) 秒以内に反映されませんでした。ページの内容が変わり続けています（\(Wording.counts(seen))）。"),
                        evidence: ["settling needs \(settleSamples) consecutive stable pages; seen \(Wording.counts(seen))"],
                        requests: await driver.requestsSent, observed: Self.strings(seen))
                    return (verdict, Failure(visitor: check.visitor, expectation: check.expect, observed: seen))
                }
            }
            let main = try await judge(check.expect, visitor: check.visitor, driver: driver)
            if main.samples.allSatisfy({ !$0.answered }), let first = main.samples.first {
                return (Self.unreachable(check, url: url, sample: first, requests: await driver.requestsSent), nil)
            }
            evidence += main.evidence
            var summary = main.summary
            var passed = main.passed
            var failure = passed ? nil : Failure(visitor: check.visitor, expectation: check.expect, observed: main.counts)
            for control in check.controls where passed {
                let result = try await judge(control.expect, visitor: control.visitor, driver: driver)
                let who = Wording.visitor(control.visitor)
                evidence += result.evidence.map { "control (\(who.en)): \($0)" }
                if !result.passed {
                    passed = false
                    failure = Failure(visitor: control.visitor, expectation: control.expect, observed: result.counts)
                    summary = LocalizedText(
                        en: "\(main.summary.en) But the control failed — \(who.en) must stay unaffected: \(result.summary.en)",
                        ja: "\(main.summary.ja) しかし対照の\(who.ja)が影響を受けています：\(result.summary.ja)")
                }
            }
            let verdict = Verdict(
                checkID: check.id, passed: passed, summary: summary, evidence: evidence, requests: await driver.requestsSent,
                falseFailRate: main.falseFailRate, falsePassRate: main.falsePassRate, observed: Self.strings(main.counts))
            return (verdict, failure)
        } catch {
            let verdict = Verdict(
                checkID: check.id, passed: false,
                summary: LocalizedText(
                    en: "Could not send traffic through the ingress at \(url): \(error).",
                    ja: "イングレス（\(url)）経由でリクエストを送れませんでした：\(error)。"),
                requests: await driver.requestsSent)
            return (verdict, nil)
        }
    }

    // MARK: Settling

    /// How settling ended.
    enum Settling {
        /// Settled; the evidence line says after how many pages and how long.
        case settled(String)
        /// The very first request got no response.
        case unreachable(Sample)
        /// No stable run within the deadline; the outcomes seen.
        case timedOut([Outcome: Int])
    }

    /// Latency checks are slow and judged page by page; the namespace check sends no traffic.
    static func needsSettling(_ expectation: Expectation) -> Bool {
        switch expectation {
        case .all, .covers, .shares: true
        case .latency, .sidecarsInjected: false
        }
    }

    /// Sends pages one at a time until `settleSamples` consecutive ones are stable: the same
    /// outcome for an all-of check; for covers and shares, outcomes inside the allowed set (or
    /// the same outside outcome every time, a stable wrong configuration the judgement will
    /// report). Settling pages are never judged, so the statistics stay those of fresh samples;
    /// they cost k requests when nothing changes.
    func settle(_ expectation: Expectation, visitor: Visitor, driver: TrafficDriver) async throws -> Settling {
        let clock = ContinuousClock()
        let start = clock.now
        let allowed: Set<Outcome>? =
            switch expectation {
            case .covers(let set, _): set
            case .shares(let shares): Set(shares.filter { $0.value > 0 }.keys)
            default: nil
            }
        func key(_ outcome: Outcome) -> String {
            if let allowed, allowed.contains(outcome) { return "allowed" }
            return outcome.rawValue
        }
        var seen: [Outcome: Int] = [:]
        var sent = 0
        var run = 0
        var changes = 0
        var last: String?
        while clock.now - start < settleDeadline {
            guard let sample = try await driver.samples(1, as: visitor).first else { break }
            sent += 1
            if sent == 1, !sample.answered { return .unreachable(sample) }
            seen[sample.outcome, default: 0] += 1
            let current = key(sample.outcome)
            if current == last {
                run += 1
            } else {
                if last != nil { changes += 1 }
                run = 1
                last = current
            }
            if run >= settleSamples {
                let took = TrafficDriver.seconds(clock.now - start)
                let how = changes == 0 ? "stable from the first page" : "after \(changes) change\(changes == 1 ? "" : "s") of outcome"
                return .settled(
                    "settled in \(Wording.seconds(took)) s over \(sent) pages (\(how); \(settleSamples) consecutive stable pages required; settling pages are not judged)")
            }
        }
        return .timedOut(seen)
    }

    // MARK: Helpers

    /// A reason the expectation cannot be graded, or nil.
    static func malformed(_ expectation: Expectation) -> String? {
        switch expectation {
        case .shares(let shares):
            let total = shares.values.reduce(0, +)
            if shares.values.contains(where: { $0 < 0 || $0 > 1 }) { return "a share is outside 0…1" }
            if abs(total - 1) > 1e-6 { return "the shares add up to \(total), not 1" }
        case .all(_, let samples), .covers(_, let samples), .latency(_, _, _, let samples):
            if samples < 1 { return "it asks for \(samples) samples" }
            if case .latency(_, let low, let high, _) = expectation, low > high { return "the latency window is empty" }
            if case .covers(let set, _) = expectation, set.isEmpty { return "it covers no outcome" }
        case .sidecarsInjected:
            break
        }
        return nil
    }

    static func unreachable(_ check: Check, url: String, sample: Sample, requests: Int) -> Verdict {
        let reason = sample.error ?? "no response"
        return Verdict(
            checkID: check.id, passed: false,
            summary: LocalizedText(
                en: "The ingress at \(url) did not answer (\(reason)); is the namespace's bookinfo running?",
                ja: "イングレス（\(url)）から応答がありません（\(reason)）。名前空間の bookinfo は起動していますか？"),
            evidence: ["GET \(url)\(check.path): \(sample.line)"], requests: requests)
    }

    static func strings(_ counts: [Outcome: Int]) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) })
    }
}
