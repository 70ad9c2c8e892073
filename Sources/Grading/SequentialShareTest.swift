import Foundation

/// The sequential test of grading-notes "Weighted shares": does the traffic split as asked?
///
/// Each expected outcome with a share p0 strictly between 0 and 1 is a Bernoulli trial
/// ("this page is that outcome"), tested by two one-sided Wald SPRTs, H0: p = p0 against
/// H1: p = p0 + δ and against H1: p = p0 − δ (alternatives outside (0, 1) are clamped to
/// [0.001, 0.999]; a direction with no room at all, p0 ± δ beyond [0, 1] by more than that, is
/// dropped because no deviation of δ can happen there). Per sample a test adds
/// x·ln(p1/p0) + (1−x)·ln((1−p1)/(1−p0)); it rejects H0 at A = ln((1−β′)/α′) and accepts H0 at
/// B = ln(β′/(1−α′)), with α′ and β′ the split rates below.
///
/// Error budget (Bonferroni): the check fails wrongly if *any* test rejects a true H0, so α is
/// split across the m one-sided tests (α′ = α/m). β is split across the d destinations
/// (β′ = β/d): a deviation of one share shows in the tests of the destinations it moves, and the
/// split keeps a margin under β — without it, Wald's boundaries put the false-pass rate at
/// exactly p0 ± δ right at β (simulated: 0.10 % for 50/50 against 70/30).
///
/// The check passes when every test accepted H0, but not before `minimumSamples` pages: the
/// smallest n with (1 − p_min)^n ≤ β for the smallest expected share p_min, so that an outcome
/// outside the expected set that replaces the smallest destination (a canary sent to v2 instead
/// of v3) is seen with probability ≥ 1 − β. It fails as soon as one test rejects. An outcome
/// outside the expected set (or expected with share 0) fails at once. If the expectation is a
/// single outcome with share 1, the all-of rule applies instead: every sample must match, and
/// `allOfSamples` matches pass (a leak of rate δ is missed with probability (1−δ)^n ≤ β).
/// At `cap` samples an undecided test is settled by a fixed-sample rule: it rejects when the
/// observed share is at least δ/2 away from p0 in its direction (at n = 400 and p0 = 0.5 that
/// is four standard errors, so both error rates there are about 3·10⁻⁵).
public struct SequentialShareTest: Sendable {
    /// What to do after a sample.
    public enum Decision: Sendable, Equatable {
        case `continue`
        case accept
        case reject(Rejection)
    }

    /// Why the test failed.
    public enum Rejection: Sendable, Equatable, CustomStringConvertible {
        /// An outcome that the expectation does not allow was seen.
        case unexpected(Outcome, afterSamples: Int)
        /// A share is off by at least δ (sequential decision) or by δ/2 at the cap.
        case share(Outcome, observed: Double, expected: Double, samples: Int, truncated: Bool)

        public var description: String {
            switch self {
            case .unexpected(let outcome, let n):
                return "\(outcome.rawValue) is not among the expected outcomes (seen at sample \(n))"
            case .share(let outcome, let observed, let expected, let n, let truncated):
                let how = truncated ? "at the cap of \(n) samples" : "after \(n) samples"
                return "\(outcome.rawValue) share is \(Self.percent(observed)) \(how); expected \(Self.percent(expected))"
            }
        }

        static func percent(_ value: Double) -> String { "\(Int((value * 100).rounded())) %" }
    }

    /// One one-sided SPRT.
    struct OneSided: Sendable {
        let outcome: Outcome
        let index: Int
        let p0: Double
        let p1: Double
        let step1: Double
        let step0: Double
        var llr = 0.0
        var acceptedNull = false

        init(outcome: Outcome, p0: Double, p1: Double) {
            self.outcome = outcome
            index = SequentialShareTest.index(outcome)
            self.p0 = p0
            self.p1 = p1
            step1 = log(p1 / p0)
            step0 = log((1 - p1) / (1 - p0))
        }

        var upward: Bool { p1 > p0 }
    }

    public let expected: [Outcome: Double]
    public let alpha: Double
    public let beta: Double
    public let delta: Double
    public let cap: Int
    /// Samples needed by the all-of rule: the smallest n with (1 − δ)^n ≤ β (31 for δ = 0.2, β = 0.001).
    public let allOfSamples: Int
    /// Fewest samples before a pass: (1 − p_min)^n ≤ β (66 for a 10 % canary, 10 for 50/50).
    public let minimumSamples: Int
    /// Rejection boundary A and acceptance boundary B of each one-sided test.
    public let upperBoundary: Double
    public let lowerBoundary: Double
    /// Per-test error rates after the Bonferroni split, and the number of destinations tested.
    public let perTestAlpha: Double
    public let perTestBeta: Double
    public let destinations: Int

    /// The outcome that must be seen every time, when the expectation is all-of.
    let allOf: Outcome?
    var tests: [OneSided]
    /// Whether each outcome (by ``index(_:)``) has a positive expected share.
    let allowed: [Bool]
    /// Samples per outcome, by ``index(_:)``.
    var tally: [Int]
    public private(set) var samples = 0
    public private(set) var decision: Decision = .continue

    /// - Parameters:
    ///   - expected: outcome → share; shares should add up to 1.
    ///   - alpha: design false-fail rate of the whole check.
    ///   - beta: design false-pass rate against a deviation of `delta`.
    ///   - delta: the smallest deviation of a share that must be detected.
    ///   - cap: the most samples before the fixed-sample decision.
    public init(expected: [Outcome: Double], alpha: Double = 0.001, beta: Double = 0.001, delta: Double = 0.20, cap: Int = 400) {
        self.expected = expected
        self.alpha = alpha
        self.beta = beta
        self.delta = delta
        self.cap = max(1, cap)
        allOfSamples = Int((log(beta) / log(1 - delta)).rounded(.up))
        let positive = expected.filter { $0.value > 0 }
        minimumSamples = positive.values.filter { $0 < 1 }.min().map { Int((log(beta) / log(1 - $0)).rounded(.up)) } ?? 0
        allOf = positive.count == 1 && (positive.first?.value ?? 0) >= 1 - 1e-9 ? positive.first?.key : nil
        var tests: [OneSided] = []
        if allOf == nil {
            let epsilon = 0.001
            for (outcome, p0) in positive.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where p0 < 1 {
                if p0 + delta < 1 + epsilon { tests.append(OneSided(outcome: outcome, p0: p0, p1: min(p0 + delta, 1 - epsilon))) }
                if p0 - delta > -epsilon { tests.append(OneSided(outcome: outcome, p0: p0, p1: max(p0 - delta, epsilon))) }
            }
        }
        self.tests = tests
        destinations = Set(tests.map(\.outcome)).count
        perTestAlpha = alpha / Double(max(1, tests.count))
        perTestBeta = beta / Double(max(1, destinations))
        upperBoundary = log((1 - perTestBeta) / perTestAlpha)
        lowerBoundary = log(perTestBeta / (1 - perTestAlpha))
        var allowed = Array(repeating: false, count: Outcome.allCases.count)
        for (outcome, share) in expected where share > 0 { allowed[Self.index(outcome)] = true }
        self.allowed = allowed
        tally = Array(repeating: 0, count: Outcome.allCases.count)
    }

    /// Position of `outcome` in `Outcome.allCases`, for the tallies.
    static func index(_ outcome: Outcome) -> Int {
        switch outcome {
        case .v1: 0
        case .v2: 1
        case .v3: 2
        case .ratingsUnavailable: 3
        case .reviewsUnavailable: 4
        case .detailsUnavailable: 5
        case .httpError: 6
        case .other: 7
        }
    }

    /// Design bound on failing a correct configuration.
    public var designFalseFailRate: Double { allOf == nil ? alpha : 0 }
    /// Design bound on passing a configuration whose shares are off by `delta`.
    public var designFalsePassRate: Double { allOf == nil ? beta : pow(1 - delta, Double(allOfSamples)) }
    /// Number of one-sided tests (the Bonferroni divisor).
    public var oneSidedTests: Int { tests.count }
    /// Whether the all-of rule applies.
    public var isAllOf: Bool { allOf != nil }

    /// Samples per outcome so far.
    public var counts: [Outcome: Int] {
        var counts: [Outcome: Int] = [:]
        for outcome in Outcome.allCases where tally[Self.index(outcome)] > 0 { counts[outcome] = tally[Self.index(outcome)] }
        return counts
    }

    /// Observed share of `outcome` so far.
    public func share(_ outcome: Outcome) -> Double {
        samples == 0 ? 0 : Double(tally[Self.index(outcome)]) / Double(samples)
    }

    /// Feeds one outcome; once decided, further samples are ignored and the decision repeats.
    @discardableResult
    public mutating func feed(_ outcome: Outcome) -> Decision {
        guard decision == .continue else { return decision }
        samples += 1
        let index = Self.index(outcome)
        tally[index] += 1
        guard allowed[index] else {
            decision = .reject(.unexpected(outcome, afterSamples: samples))
            return decision
        }
        if allOf != nil {
            if samples >= allOfSamples { decision = .accept }
            return decision
        }
        var undecided = false
        for position in tests.indices where !tests[position].acceptedNull {
            let hit = tests[position].index == index
            tests[position].llr += hit ? tests[position].step1 : tests[position].step0
            if tests[position].llr >= upperBoundary {
                let test = tests[position]
                decision = .reject(.share(test.outcome, observed: share(test.outcome), expected: test.p0, samples: samples, truncated: false))
                return decision
            }
            if tests[position].llr <= lowerBoundary {
                tests[position].acceptedNull = true
            } else {
                undecided = true
            }
        }
        if !undecided {
            if samples >= minimumSamples { decision = .accept }
        } else if samples >= cap {
            decision = truncated()
        }
        return decision
    }

    /// The fixed-sample decision at the cap for the tests still open.
    func truncated() -> Decision {
        for test in tests where !test.acceptedNull {
            let observed = share(test.outcome)
            let off = test.upward ? observed - test.p0 : test.p0 - observed
            if off >= delta / 2 {
                return .reject(.share(test.outcome, observed: observed, expected: test.p0, samples: samples, truncated: true))
            }
        }
        return .accept
    }
}
