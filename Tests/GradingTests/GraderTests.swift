import BookinfoKit
import Grading
import Hummingbird
import MeshModel
import Synchronization
import Testing

/// reviews as a weighted route would make it: each call goes to one of `routes`, drawn from a
/// seeded generator (so the test is reproducible).
struct WeightedReviews: BookinfoHandler {
    let routes: [(share: Double, handler: any BookinfoHandler)]
    let generator: SharedGenerator

    init(seed: UInt64, _ routes: [(share: Double, handler: any BookinfoHandler)]) {
        self.routes = routes
        generator = SharedGenerator(seed: seed)
    }

    func respond(to request: Request, context: BasicRequestContext) async throws -> Routed {
        var u = generator.nextUnit()
        for route in routes {
            if u < route.share { return try await route.handler.respond(to: request, context: context) }
            u -= route.share
        }
        return try await routes[routes.count - 1].handler.respond(to: request, context: context)
    }
}

/// A seeded generator shared by concurrent requests.
final class SharedGenerator: Sendable {
    private let generator: Mutex<SplitMix64>
    init(seed: UInt64) { generator = Mutex(SplitMix64(seed: seed)) }
    func nextUnit() -> Double { generator.withLock { $0.nextUnit() } }
}

/// reviews as round robin over several versions (no routing rules at all).
struct RoundRobin: BookinfoHandler {
    let handlers: [any BookinfoHandler]
    let counter = Counter()

    func respond(to request: Request, context: BasicRequestContext) async throws -> Routed {
        try await handlers[counter.next() % handlers.count].respond(to: request, context: context)
    }
}

/// The grader end to end against an in-process bookinfo (productpage stands in for the ingress).
@Suite("Grader end to end")
struct GraderTests {
    let grader = Grader()

    func check(_ expect: Grading.Expectation, visitor: Visitor = .anonymous, controls: [Check.Control] = []) -> Check {
        Check(id: "test", title: LocalizedText(en: "test", ja: "テスト"), visitor: visitor, expect: expect, controls: controls)
    }

    @Test("all(v1) passes against reviews v1, says how long settling took and the chance of missing a 20 % leak")
    func allPasses() async throws {
        let verdict = try await withBookinfo(reviewsVersion: "v1") { port in
            await grader.grade(check(.all(.v1, samples: 31)), probe: FakeProbe(port: port))
        }
        #expect(verdict.passed, "\(verdict.summary.en)")
        #expect(verdict.observed == ["v1": 31])
        #expect(verdict.requests == 34)  // 3 settling pages + 31 judged
        #expect(verdict.evidence.contains { $0.hasPrefix("settled in") })
        #expect((verdict.falsePassRate ?? 1) < 0.001)
        #expect(verdict.summary.ja.contains("31 回のアクセスすべてで"))
        #expect(verdict.causes.isEmpty)
    }

    @Test("all(v2) for jason fails when reviews v1 answers, and the verdict explains the header-match case")
    func allFailsWithCause() async throws {
        let diagnostics = [
            Diagnostic(
                .info, code: Analysis.Code.endUserCase,
                "matches end-user 'Jason', which has capital letters: bookinfo sends the user name exactly as typed at sign-in and header matching is case-sensitive",
                file: "reviews-test-v2.yaml", document: 1, object: "VirtualService/reviews", field: "spec.http[0].match[0].headers.end-user"),
            Diagnostic(.info, code: Analysis.Code.externalHost, "www.example.com is outside this machine", object: "ServiceEntry/x"),
        ]
        let verdict = try await withBookinfo(reviewsVersion: "v1") { port in
            await grader.grade(check(.all(.v2, samples: 31), visitor: .user("jason")), probe: FakeProbe(port: port, diagnostics: diagnostics))
        }
        #expect(!verdict.passed)
        #expect(verdict.summary.en.contains("but page 1 showed v1 (no stars)"))
        #expect(verdict.summary.ja.contains("v1（星なし）"))
        #expect(verdict.causes.count == 1)
        #expect(verdict.causes.first?.text.en.contains("Header match case") == true)
        #expect(verdict.causes.first?.text.ja.contains("'Jason' ≠ 'jason'") == true)
        print("[grader] \(verdict.summary.en) / \(verdict.summary.ja) / causes: \(verdict.causes)")
    }

    @Test("a route to an undefined subset is named as the cause of reviews-unavailable")
    func undefinedSubset() async throws {
        let refusing = try RefusingPort()
        defer { withExtendedLifetime(refusing) {} }
        let closed = refusing.port
        let diagnostics = [
            Diagnostic(
                .warning, code: Analysis.Code.referencedResourceNotFound,
                "subset 'v4' of host 'reviews' is not defined by any DestinationRule: requests will fail with 503 (no cluster).",
                object: "VirtualService/reviews", field: "spec.http[0].route[0].destination.subset")
        ]
        let verdict = try await withBookinfo(environment: ["REVIEWS_SERVICE_PORT": "\(closed)"]) { port in
            await grader.grade(check(.all(.v1, samples: 31)), probe: FakeProbe(port: port, diagnostics: diagnostics))
        }
        #expect(!verdict.passed)
        #expect(verdict.observed["reviews-unavailable"] == 1)
        #expect(verdict.causes.first?.text.en.hasPrefix("A route sends traffic to a subset that no DestinationRule defines") == true)
        #expect(verdict.causes.first?.text.en.contains("reviews unavailable, as seen") == true)
    }

    @Test("covers(v1, v2, v3) passes on round robin and fails when only v1 answers")
    func covers() async throws {
        let passing = try await withBookinfo(reviews: { ratings in
            RoundRobin(handlers: ["v1", "v2", "v3"].map { reviewsService($0, ratingsPort: ratings) })
        }) { port in
            await grader.grade(check(.covers([.v1, .v2, .v3], samples: 30)), probe: FakeProbe(port: port))
        }
        #expect(passing.passed, "\(passing.summary.en)")
        let failing = try await withBookinfo(reviewsVersion: "v1") { port in
            await grader.grade(check(.covers([.v1, .v2, .v3], samples: 12)), probe: FakeProbe(port: port))
        }
        #expect(!failing.passed)
        #expect(failing.summary.en.contains("never appeared"))
        #expect(failing.causes.isEmpty)
    }

    @Test("shares 50/50 pass on a 50/50 split and fail on 80/20 with observed against asked shares")
    func shares() async throws {
        let expect = Grading.Expectation.shares([.v1: 0.5, .v3: 0.5])
        let passing = try await withBookinfo(reviews: { ratings in
            WeightedReviews(seed: 11, [(0.5, reviewsService("v1", ratingsPort: ratings)), (0.5, reviewsService("v3", ratingsPort: ratings))])
        }) { port in
            await grader.grade(check(expect), probe: FakeProbe(port: port))
        }
        #expect(passing.passed, "\(passing.summary.en)")
        #expect(passing.falseFailRate == 0.001)
        #expect(passing.falsePassRate == 0.001)
        #expect(passing.requests <= 3 + 400 + 4)
        print("[grader] 50/50 pass: \(passing.summary.en) (\(passing.requests) requests, \(passing.seconds) s) / \(passing.summary.ja)")

        let failing = try await withBookinfo(reviews: { ratings in
            WeightedReviews(seed: 12, [(0.8, reviewsService("v1", ratingsPort: ratings)), (0.2, reviewsService("v3", ratingsPort: ratings))])
        }) { port in
            await grader.grade(check(expect), probe: FakeProbe(port: port))
        }
        #expect(!failing.passed)
        #expect(failing.summary.en.contains("asked 50/50"))
        #expect(failing.evidence.contains { $0.hasPrefix("observed ") }, "what was seen is evidence: \(failing.evidence)")
        #expect(!failing.causes.contains { $0.text.en.hasPrefix("observed ") }, "and never a cause")
        print("[grader] 80/20 against 50/50: \(failing.summary.en) / \(failing.summary.ja) / causes: \(failing.causes)")
    }

    @Test("jason gets v2 while the anonymous control keeps v1; the check fails when the control is affected")
    func controls() async throws {
        let control = Check.Control(visitor: .anonymous, expect: .all(.v1, samples: 31))
        let passing = try await withBookinfo(reviews: { ratings in
            UserRouted(user: "jason", forUser: reviewsService("v2", ratingsPort: ratings), others: reviewsService("v1", ratingsPort: ratings))
        }) { port in
            await grader.grade(check(.all(.v2, samples: 31), visitor: .user("jason"), controls: [control]), probe: FakeProbe(port: port))
        }
        #expect(passing.passed, "\(passing.summary.en)")
        #expect(passing.requests == 1 + 3 + 31 + 31)  // sign-in, settling, jason, control
        let failing = try await withBookinfo(reviews: { ratings in
            UserRouted(user: "jason", forUser: reviewsService("v2", ratingsPort: ratings), others: reviewsService("v3", ratingsPort: ratings))
        }) { port in
            await grader.grade(check(.all(.v2, samples: 31), visitor: .user("jason"), controls: [control]), probe: FakeProbe(port: port))
        }
        #expect(!failing.passed)
        #expect(failing.summary.en.contains("But the control failed — anonymous visitors must stay unaffected"))
        #expect(failing.summary.ja.contains("対照の匿名ユーザー"))
    }

    @Test("a 7 s reviews gives reviews-unavailable after productpage's 2 × 3 s, inside a 5.5–7.0 s window")
    func timingLatency() async throws {
        let slow = ClosureHandler { _ in
            try await Task.sleep(for: .seconds(7))
            return .json("{}")
        }
        let verdict = try await withBookinfo(reviews: { _ in slow }) { port in
            await grader.grade(check(.latency(.reviewsUnavailable, min: 5.5, max: 7.0, samples: 1)), probe: FakeProbe(port: port))
        }
        #expect(verdict.passed, "\(verdict.summary.en)")
        #expect(verdict.requests == 1)
        print("[grader] latency: \(verdict.summary.en) / \(verdict.summary.ja)")
    }

    @Test("a fast page fails a latency window")
    func latencyTooFast() async throws {
        let verdict = try await withBookinfo(reviewsVersion: "v1") { port in
            await grader.grade(check(.latency(.reviewsUnavailable, min: 5.5, max: 7.0, samples: 1)), probe: FakeProbe(port: port))
        }
        #expect(!verdict.passed)
        #expect(verdict.summary.en.contains("showed v1 (no stars)"))
    }

    @Test("sidecarsInjected reads the namespace label and the pods' READY column")
    func sidecars() async {
        let ready = [(name: "productpage-v1-1", ready: "2/2"), (name: "reviews-v1-1", ready: "2/2")]
        let pass = await grader.grade(check(.sidecarsInjected), probe: FakeProbe(port: nil, pods: ready))
        #expect(pass.passed)
        #expect(pass.requests == 0)
        let unlabelled = await grader.grade(check(.sidecarsInjected), probe: FakeProbe(port: nil, labels: ["istio-injection": "disabled"], pods: ready))
        #expect(!unlabelled.passed)
        #expect(unlabelled.summary.en.contains("(it is 'disabled')"))
        let stale = await grader.grade(
            check(.sidecarsInjected), probe: FakeProbe(port: nil, pods: ready + [(name: "details-v1-1", ready: "1/1")]))
        #expect(!stale.passed)
        #expect(stale.summary.en.contains("details-v1-1 (1/1)"))
    }

    @Test("an unreachable ingress gives a failed verdict with a clear message")
    func unreachable() async throws {
        let refusing = try RefusingPort()
        defer { withExtendedLifetime(refusing) {} }
        let closed = refusing.port
        let verdict = await grader.grade(check(.all(.v1, samples: 31)), probe: FakeProbe(port: closed))
        #expect(!verdict.passed)
        #expect(verdict.summary.en.contains("did not answer"))
        let signIn = await grader.grade(check(.all(.v1, samples: 31), visitor: .user("jason")), probe: FakeProbe(port: closed))
        #expect(!signIn.passed)
        #expect(signIn.summary.en.contains("could not sign in"))
        let noIngress = await grader.grade(check(.all(.v1, samples: 31)), probe: FakeProbe(port: nil))
        #expect(noIngress.summary.en.hasPrefix("Could not find the namespace's ingress gateway"))
    }

    @Test("pages that keep changing fail with 'configuration did not take effect within N s'")
    func neverSettles() async throws {
        let counter = Counter()
        let flapping = ClosureHandler { _ in
            counter.next() % 2 == 0 ? .text("<html>hello</html>", contentType: "text/html") : .json("{}", status: .serviceUnavailable)
        }
        let verdict = try await withServer(flapping) { port in
            await Grader(settleDeadline: .seconds(1)).grade(check(.all(.v1, samples: 31)), probe: FakeProbe(port: port))
        }
        #expect(!verdict.passed)
        #expect(verdict.summary.en.hasPrefix("The configuration did not take effect within 1.0 s"))
        #expect(verdict.summary.ja.contains("1.0 秒以内に反映されませんでした"))
    }
}
