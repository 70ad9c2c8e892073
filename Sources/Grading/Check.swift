import MeshModel

/// Text in the workshop's two languages.
public struct LocalizedText: Sendable, Equatable, Codable {
    public var en: String
    public var ja: String

    public init(en: String, ja: String) {
        self.en = en
        self.ja = ja
    }
}

/// How one productpage view is classified (grading notes, "Observations").
public enum Outcome: String, Sendable, Equatable, Hashable, CaseIterable, Codable {
    case v1, v2, v3
    case ratingsUnavailable = "ratings-unavailable"
    case reviewsUnavailable = "reviews-unavailable"
    case detailsUnavailable = "details-unavailable"
    case httpError = "http-error"
    case other
}

/// Who sends the traffic: an anonymous visitor or a user signed in through the login form.
public enum Visitor: Sendable, Equatable, Hashable, Codable {
    case anonymous
    case user(String)
}

/// What a check expects of the traffic (or of the namespace's state).
public indirect enum Expectation: Sendable, Equatable, Codable {
    /// Every sample has this outcome (after settling); one mismatch fails.
    case all(Outcome, samples: Int)
    /// Only these outcomes, each seen at least once, within at most `samples` (e.g. v1/v2/v3 round robin).
    case covers(Set<Outcome>, samples: Int)
    /// Shares per outcome summing to 1 (e.g. v1 0.5, v3 0.5), judged by a sequential test.
    case shares([Outcome: Double])
    /// Each of `samples` pages has this outcome and arrives within [min, max] seconds.
    case latency(Outcome, min: Double, max: Double, samples: Int)
    /// The namespace is labelled for injection and every pod runs with a sidecar (2/2).
    case sidecarsInjected
}

/// One auto-graded check of a lab: who browses, what is expected, and the controls that must
/// stay unaffected (other users).
public struct Check: Sendable, Equatable, Codable {
    public var id: String
    public var title: LocalizedText
    public var visitor: Visitor
    public var path: String
    public var expect: Expectation
    /// Other visitors and what they must still see (e.g. anonymous users keep v1 while jason gets v2).
    public var controls: [Control]

    public struct Control: Sendable, Equatable, Codable {
        public var visitor: Visitor
        public var expect: Expectation

        public init(visitor: Visitor, expect: Expectation) {
            self.visitor = visitor
            self.expect = expect
        }
    }

    public init(id: String, title: LocalizedText, visitor: Visitor = .anonymous, path: String = "/productpage", expect: Expectation, controls: [Control] = []) {
        self.id = id
        self.title = title
        self.visitor = visitor
        self.path = path
        self.expect = expect
        self.controls = controls
    }
}

/// What the grader may ask about the namespace it grades (the engine answers on the local
/// backend; a Kubernetes backend would answer from the cluster).
public protocol NamespaceProbe: Sendable {
    /// `http://host:port` of the namespace's ingress gateway.
    func ingressURL() async throws -> String
    func namespaceLabels() async throws -> [String: String]
    /// Each pod's name and READY column (`1/1`, `2/2`).
    func pods() async throws -> [(name: String, ready: String)]
    /// `istioctl analyze`-like findings, used to explain a failed check.
    func diagnostics() async throws -> [Diagnostic]
    /// The namespace's configuration, typed, so the grader can follow a failed request through
    /// its routing; nil where the probe cannot give it (then only the findings explain).
    func snapshot() async throws -> MeshSnapshot?
}

extension NamespaceProbe {
    public func snapshot() async throws -> MeshSnapshot? { nil }
}

/// The grader's answer for one check: pass or fail, in plain words, with the evidence.
public struct Verdict: Sendable, Equatable, Codable {
    public var checkID: String
    public var passed: Bool
    /// One sentence: what was seen against what was expected.
    public var summary: LocalizedText
    /// Evidence lines: counts, an example response, timings.
    public var evidence: [String]
    /// Likely causes, most decisive first (only for failures).
    public var causes: [Cause]
    /// Requests sent, controls included.
    public var requests: Int
    /// The test's bounds on wrong verdicts for this kind of check (nil where not statistical).
    public var falseFailRate: Double?
    public var falsePassRate: Double?
    /// Outcome counts of the main visitor.
    public var observed: [String: Int]
    public var seconds: Double

    public init(
        checkID: String, passed: Bool, summary: LocalizedText, evidence: [String] = [], causes: [Cause] = [], requests: Int = 0,
        falseFailRate: Double? = nil, falsePassRate: Double? = nil, observed: [String: Int] = [:], seconds: Double = 0
    ) {
        self.checkID = checkID
        self.passed = passed
        self.summary = summary
        self.evidence = evidence
        self.causes = causes
        self.requests = requests
        self.falseFailRate = falseFailRate
        self.falsePassRate = falsePassRate
        self.observed = observed
        self.seconds = seconds
    }
}
