import Foundation
import Grading
import Testing

/// The share test's error rates, measured on seeded pseudo-random outcome streams (grading
/// notes, "Proving the error rates"). Deterministic: the same seeds give the same numbers.
///
/// What the assertions claim: with k wrong verdicts in n independent runs, the one-sided 95 %
/// Clopper–Pearson upper bound on the true rate must be ≤ 0.1 %. That is the sound direction —
/// it shows the rate is *below* the design bound with 95 % confidence — whereas asserting the
/// measured rate k/n ≤ 0.1 % (or ≤ 0.3 %) would let a true rate above 0.1 % pass by luck.
@Suite("Share test by simulation")
struct ShareTestSimulationTests {
    static let runs = 20_000
    static let designRate = 0.001

    @Test("50/50: correct splits pass and splits 20 points off fail, each wrong at most 0.1 % of the time")
    func fiftyFifty() {
        let expected: [Outcome: Double] = [.v1: 0.5, .v3: 0.5]
        let correct = GradingSimulation.run(expected: expected, truth: expected, runs: Self.runs, seed: 1)
        report("50/50, truth 50/50 (false fail)", correct, wrong: correct.rejected)
        #expect(Self.upperBound(correct.rejected, Self.runs) <= Self.designRate)
        #expect(correct.maxSamples <= 400)
        #expect(correct.meanSamples <= 150)

        for (seed, truth) in [(2, [Outcome.v1: 0.7, .v3: 0.3]), (3, [.v1: 0.3, .v3: 0.7])] {
            let shifted = GradingSimulation.run(expected: expected, truth: truth, runs: Self.runs, seed: UInt64(seed))
            report("50/50, truth \(Int(truth[.v1, default: 0] * 100))/\(Int(truth[.v3, default: 0] * 100)) (false pass)", shifted, wrong: shifted.accepted)
            #expect(Self.upperBound(shifted.accepted, Self.runs) <= Self.designRate)
            #expect(shifted.maxSamples <= 400)
        }
    }

    @Test("80/20: the correct split passes and 60/40 or 100/0 fail, each wrong at most 0.1 % of the time")
    func eightyTwenty() {
        let expected: [Outcome: Double] = [.v1: 0.8, .v2: 0.2]
        let correct = GradingSimulation.run(expected: expected, truth: expected, runs: Self.runs, seed: 4)
        report("80/20, truth 80/20 (false fail)", correct, wrong: correct.rejected)
        #expect(Self.upperBound(correct.rejected, Self.runs) <= Self.designRate)
        for (seed, truth) in [(5, [Outcome.v1: 0.6, .v2: 0.4]), (6, [.v1: 1.0])] {
            let shifted = GradingSimulation.run(expected: expected, truth: truth, runs: Self.runs, seed: UInt64(seed))
            report("80/20, truth \(Int(truth[.v1, default: 0] * 100))/\(Int(truth[.v2, default: 0] * 100)) (false pass)", shifted, wrong: shifted.accepted)
            #expect(Self.upperBound(shifted.accepted, Self.runs) <= Self.designRate)
        }
    }

    @Test("an outcome outside the expected set fails at once, and a 100 % share uses the all-of rule")
    func unexpectedAndAllOf() {
        var test = SequentialShareTest(expected: [.v1: 0.5, .v3: 0.5])
        #expect(test.oneSidedTests == 4)
        #expect(test.feed(.v1) == .continue)
        guard case .reject(.unexpected(.v2, afterSamples: 2)) = test.feed(.v2) else {
            Issue.record("v2 should reject at once")
            return
        }
        var all = SequentialShareTest(expected: [.v1: 1.0, .v2: 0])
        #expect(all.isAllOf)
        #expect(all.allOfSamples == 31)
        for _ in 1..<31 { #expect(all.feed(.v1) == .continue) }
        #expect(all.feed(.v1) == .accept)
        #expect(all.designFalsePassRate <= 0.001)
    }

    @Test("the test truncates at the cap with a fixed-sample decision")
    func truncation() {
        // 60/40 is inside the indifference zone of a 50/50 check: it may run long, but never past the cap.
        let result = GradingSimulation.run(expected: [.v1: 0.5, .v3: 0.5], truth: [.v1: 0.6, .v3: 0.4], runs: 2_000, seed: 7, cap: 400)
        print("[grading-sim] 50/50, truth 60/40 (indifference zone): \(result)")
        #expect(result.maxSamples <= 400)
        #expect(result.runs == 2_000)
    }

    func report(_ name: String, _ result: GradingSimulation.Result, wrong: Int) {
        let rate = Double(wrong) / Double(result.runs)
        let bound = Self.upperBound(wrong, result.runs)
        print(
            "[grading-sim] \(name): \(wrong)/\(result.runs) wrong = \(String(format: "%.4f", rate * 100)) % (95 % upper bound \(String(format: "%.4f", bound * 100)) %); requests mean \(String(format: "%.1f", result.meanSamples)), median \(result.medianSamples), p95 \(result.p95Samples), max \(result.maxSamples); \(result.truncated) reached the cap"
        )
    }

    /// One-sided Clopper–Pearson upper bound on a binomial rate at `confidence`, by bisection on
    /// the binomial CDF: the largest p with P(X ≤ k | n, p) ≥ 1 − confidence.
    static func upperBound(_ k: Int, _ n: Int, confidence: Double = 0.95) -> Double {
        guard k < n else { return 1 }
        func cdf(_ p: Double) -> Double {
            var sum = 0.0
            for i in 0...k {
                let log = lgamma(Double(n + 1)) - lgamma(Double(i + 1)) - lgamma(Double(n - i + 1)) + Double(i) * Foundation.log(p)
                    + Double(n - i) * log1p(-p)
                sum += exp(log)
            }
            return sum
        }
        var low = 0.0
        var high = 1.0
        for _ in 0..<100 {
            let middle = (low + high) / 2
            if cdf(middle) > 1 - confidence { low = middle } else { high = middle }
        }
        return high
    }
}
