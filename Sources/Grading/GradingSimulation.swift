/// Runs ``SequentialShareTest`` on seeded pseudo-random outcome streams to measure its real error
/// rates and sample counts (grading notes, "Proving the error rates"). Pure: no I/O, no clock.
public enum GradingSimulation {
    /// What many simulated checks did.
    public struct Result: Sendable, Equatable, CustomStringConvertible {
        public var runs: Int
        public var accepted: Int
        public var rejected: Int
        /// Samples used per run: mean, median, 95th percentile and maximum.
        public var meanSamples: Double
        public var medianSamples: Int
        public var p95Samples: Int
        public var maxSamples: Int
        /// Runs that reached the cap and were decided by the fixed-sample rule.
        public var truncated: Int

        public var acceptRate: Double { runs == 0 ? 0 : Double(accepted) / Double(runs) }
        public var rejectRate: Double { runs == 0 ? 0 : Double(rejected) / Double(runs) }

        public var description: String {
            "\(runs) runs: \(accepted) passed, \(rejected) failed; samples mean \((meanSamples * 10).rounded() / 10), median \(medianSamples), p95 \(p95Samples), max \(maxSamples); \(truncated) reached the cap"
        }
    }

    /// Simulates `runs` checks of `expected` against traffic that truly splits as `truth`.
    ///
    /// - Parameters:
    ///   - expected: the check's shares.
    ///   - truth: the real split (shares adding up to 1; any remainder goes to the last outcome).
    ///   - runs: number of independent checks.
    ///   - seed: seed of the stream; run `i` uses its own generator seeded from this one.
    ///   - cap: the test's truncation point.
    public static func run(
        expected: [Outcome: Double], truth: [Outcome: Double], runs: Int, seed: UInt64, cap: Int = 400,
        alpha: Double = 0.001, beta: Double = 0.001, delta: Double = 0.20
    ) -> Result {
        let template = SequentialShareTest(expected: expected, alpha: alpha, beta: beta, delta: delta, cap: cap)
        let table = truth.filter { $0.value > 0 }.sorted { $0.key.rawValue < $1.key.rawValue }
        var seeds = SplitMix64(seed: seed)
        var accepted = 0
        var rejected = 0
        var truncated = 0
        var used: [Int] = []
        used.reserveCapacity(max(0, runs))
        for _ in 0..<max(0, runs) {
            var generator = SplitMix64(seed: seeds.next())
            var test = template
            var decision = SequentialShareTest.Decision.continue
            while decision == .continue {
                decision = test.feed(draw(table, &generator))
            }
            if decision == .accept { accepted += 1 } else { rejected += 1 }
            if test.samples >= cap { truncated += 1 }
            used.append(test.samples)
        }
        used.sort()
        let total = used.reduce(0, +)
        return Result(
            runs: used.count, accepted: accepted, rejected: rejected,
            meanSamples: used.isEmpty ? 0 : Double(total) / Double(used.count),
            medianSamples: used.isEmpty ? 0 : used[used.count / 2],
            p95Samples: used.isEmpty ? 0 : used[min(used.count - 1, used.count * 95 / 100)],
            maxSamples: used.last ?? 0, truncated: truncated)
    }

    /// One outcome drawn from a categorical distribution.
    static func draw(_ table: [(key: Outcome, value: Double)], _ generator: inout SplitMix64) -> Outcome {
        var u = generator.nextUnit()
        for (outcome, share) in table {
            if u < share { return outcome }
            u -= share
        }
        return table.last?.key ?? .other
    }
}
