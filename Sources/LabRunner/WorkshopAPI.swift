import BookinfoKit
import Foundation
import NIOFoundationCompat
import Grading
import Hummingbird
import HTTPTypes
import Labs
import LabStore
import MeshModel

/// The lab-runner's front door: authentication (instructor or student bearer tokens), rate
/// limits, the workshop endpoints, the dashboard, and the resource API for everything else.
public struct WorkshopAPI: BookinfoHandler {
    let workshop: Workshop
    let resources: ResourceAPI
    let limiter: RateLimiter
    /// Where the Kubernetes API listens and its CA, for kubeconfigs.
    let kubeAddress: BoundAddress?
    let caPEM: String
    let kube: KubeServer?

    /// - Parameter limiter: per-token request rate for students (20/s, bursts of 60, by default).
    public init(
        workshop: Workshop, resources: ResourceAPI, kube: KubeServer?, limiter: RateLimiter = RateLimiter(), kubeAddress: BoundAddress? = nil,
        caPEM: String = ""
    ) {
        self.kube = kube
        self.workshop = workshop
        self.resources = resources
        self.limiter = limiter
        self.kubeAddress = kubeAddress
        self.caPEM = caPEM
    }

    public func respond(to request: Request, context: BasicRequestContext) async throws -> Routed {
        let path = request.uri.path
        if path == "/healthz" { return Routed("/healthz", .text("ok", contentType: "text/plain")) }
        if path == "/" || path == "/dashboard" || path.hasPrefix("/dashboard/") { return Routed("/dashboard", Dashboard.response(path)) }
        let segments = path.split(separator: "/").map(String.init)
        // The Kubernetes API is the same here as over TLS (one implementation, one authorization).
        if let kube, segments.first == "api" || segments.first == "version" || segments.first == "openapi"
            || (segments.first == "apis" && segments.dropFirst().first != "meshdojo.dev")
        {
            return try await kube.respond(to: request, context: context)
        }
        do {
            if path == "/apis/meshdojo.dev/v1/register", request.method == .post {
                return Routed("/register", try await register(request))
            }
            guard let token = Self.bearer(request), let caller = try await workshop.caller(token: token) else {
                // Wrong tokens are limited in a bucket of their own, so guessing cannot lock anyone out.
                guard limiter.allow("unauthorized") else { return Routed("limited", ResourceAPI.status(429, "TooManyRequests", "too many requests without a valid token; try again in a moment")) }
                return Routed("unauthorized", ResourceAPI.status(401, "Unauthorized", "a valid token is needed: labctl login (students) or the instructor token"))
            }
            guard caller == .instructor || limiter.allow(token) else {
                return Routed("limited", ResourceAPI.status(429, "TooManyRequests", "too many requests; slow down"))
            }
            guard segments.starts(with: ["apis", "meshdojo.dev", "v1"]) else {
                return Routed("not-found", ResourceAPI.status(404, "NotFound", "the server could not find the requested resource"))
            }
            let rest = Array(segments.dropFirst(3))
            // `/apis/meshdojo.dev/v1/namespaces/{namespace}/…`: the namespace is at a fixed place.
            if rest.first == "namespaces", rest.count >= 2, !caller.mayUse(namespace: rest[1]) {
                return Routed("forbidden", ResourceAPI.status(403, "Forbidden", "you may only use your own namespace"))
            }
            if let routed = try await workshopRoute(rest, request: request, caller: caller) { return routed }
            return try await resources.respond(rest, request: request, caller: caller)
        } catch let error as WorkshopError {
            return Routed("error", Self.workshopError(error))
        } catch let error as ManifestError {
            return Routed("error", ResourceAPI.status(422, "Invalid", error.description, details: [error.description]))
        } catch let error as LabStoreError {
            return Routed("error", ResourceAPI.status(409, "Conflict", "\(error)"))
        } catch {
            if let response = ResourceAPI.backendError(error) { return Routed("error", response) }
            throw error
        }
    }

    static func bearer(_ request: Request) -> String? {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return nil }
        return String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
    }

    static func workshopError(_ error: WorkshopError) -> Response {
        switch error {
        case .badRequest(let text): ResourceAPI.status(400, "BadRequest", text)
        case .notFound: ResourceAPI.status(404, "NotFound", error.description)
        case .conflict(let text): ResourceAPI.status(409, "AlreadyExists", text)
        case .forbidden(let text): ResourceAPI.status(403, "Forbidden", text)
        }
    }

    /// Self-registration with the event code. The body is read only up to 4 KiB and only as JSON
    /// (no YAML aliases to expand), and wrong codes are limited in a bucket of their own, so a
    /// flood of guesses neither costs memory nor locks a real student out.
    func register(_ request: Request) async throws -> Response {
        var request = request
        let buffer = try await request.collectBody(upTo: 4096)
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any] else {
            return ResourceAPI.status(400, "BadRequest", "the body must be JSON: {\"name\": \"…\", \"eventCode\": \"…\"}")
        }
        guard let code = object["eventCode"] as? String, Tokens.equal(code, await workshop.eventCode) else {
            guard limiter.allow("register-refused") else { return ResourceAPI.status(429, "TooManyRequests", "too many wrong event codes; try again in a moment") }
            return ResourceAPI.status(403, "Forbidden", "wrong event code: ask your instructor for it")
        }
        guard limiter.allow("register") else { return ResourceAPI.status(429, "TooManyRequests", "too many registrations; try again in a moment") }
        guard let name = object["name"] as? String else { return ResourceAPI.status(400, "BadRequest", "give your name") }
        let registration = try await workshop.register(name: name)
        return ResourceAPI.json(Self.registrationValue(registration), status: .created)
    }

    static func registrationValue(_ registration: Workshop.Registration) -> Value {
        ["name": .string(registration.student.name), "namespace": .string(registration.student.namespace), "token": .string(registration.token)]
    }

    // MARK: workshop routes

    func workshopRoute(_ rest: [String], request: Request, caller: Caller) async throws -> Routed? {
        switch (rest.first, request.method) {
        case ("whoami", .get):
            switch caller {
            case .instructor: return Routed("/whoami", ResourceAPI.json(["role": "instructor"]))
            case .student(let id, let namespace):
                let student = try await workshop.store.student(id: id)
                var reply: Value = ["role": "student", "name": .string(student?.name ?? ""), "namespace": .string(namespace)]
                // The lab and step the learner is on, for the dashboard to open at.
                if student != nil, let standing = try await workshop.standing(studentID: id) {
                    reply["lab"] = .string(standing.lab.id)
                    if let step = standing.step { reply["step"] = .int(step + 1) }
                }
                return Routed("/whoami", ResourceAPI.json(reply))
            }
        case ("labs", .get):
            if rest.count == 2 {
                guard let lab = await workshop.lab(rest[1]) else { throw WorkshopError.notFound("lab \(rest[1])") }
                return Routed("/labs/:id", ResourceAPI.json(LabJSON.detail(lab)))
            }
            return Routed("/labs", ResourceAPI.json(["items": .array(await workshop.labs.map(LabJSON.summary))]))
        case ("students", .get):
            guard caller == .instructor else { throw WorkshopError.forbidden("only the instructor lists students") }
            let students = try await workshop.store.students()
            return Routed("/students", ResourceAPI.json(["items": .array(students.map { ["name": .string($0.name), "namespace": .string($0.namespace)] })]))
        case ("students", .post) where rest.count == 3 && rest[2] == "token":
            guard caller == .instructor else { throw WorkshopError.forbidden("only the instructor issues tokens") }
            return Routed("/students/:name/token", ResourceAPI.json(Self.registrationValue(try await workshop.rotateToken(name: rest[1])), status: .created))
        case ("students", .post) where rest.count == 1:
            guard caller == .instructor else { throw WorkshopError.forbidden("only the instructor adds students") }
            let body = try await ResourceAPI.bodyValue(request)
            var added: [Value] = []
            let names = (body["names"]?.arrayValue ?? []).compactMap(\.stringValue)
            let namespace = names.count == 1 ? body["namespace"]?.stringValue : nil
            for name in names {
                added.append(Self.registrationValue(try await workshop.register(name: name, namespace: namespace)))
            }
            return Routed("/students", ResourceAPI.json(["items": .array(added)], status: .created))
        case ("students", .delete) where rest.count == 1:
            guard caller == .instructor else { throw WorkshopError.forbidden("only the instructor ends the workshop") }
            let removed = try await workshop.removeAllStudents()
            return Routed("/students", ResourceAPI.json(["removed": .array(removed.map { .string($0) })]))
        case ("students", .delete) where rest.count == 2:
            guard caller == .instructor else { throw WorkshopError.forbidden("only the instructor removes students") }
            try await workshop.removeStudent(name: rest[1])
            return Routed("/students/:name", ResourceAPI.status(200, "Success", "student \(rest[1]) removed; their token no longer works"))
        case ("cluster-info", .get):
            // On a cluster the student gets a kubeconfig of their own ServiceAccount, from the cluster.
            if case .student(_, let namespace) = caller, let kubeconfig = try await workshop.backend.studentKubeconfig(namespace: namespace) {
                return Routed("/cluster-info", ResourceAPI.json(["kubeconfig": .string(kubeconfig), "namespace": .string(namespace)]))
            }
            // What a kubeconfig needs besides the caller's own token (which only the caller knows).
            guard let address = kubeAddress?.hostPort else {
                throw WorkshopError.notFound("the runner's own Kubernetes API (the workshop runs on a cluster: use the cluster's kubeconfig)")
            }
            var info: Value = [
                "server": .string("https://\(address)"),
                "certificateAuthorityData": .string(Data(caPEM.utf8).base64EncodedString()),
            ]
            if case .student(_, let namespace) = caller { info["namespace"] = .string(namespace) } else { info["namespace"] = "default" }
            return Routed("/cluster-info", ResourceAPI.json(info))
        case ("grid", .get):
            guard caller == .instructor else { throw WorkshopError.forbidden("only the instructor sees the class grid") }
            return Routed("/grid", ResourceAPI.json(try await grid()))
        case ("namespaces", _) where rest.count >= 3:
            return try await namespaceRoute(rest[1], Array(rest.dropFirst(2)), request: request, caller: caller)
        default:
            return nil
        }
    }

    func studentID(for namespace: String, caller: Caller) async throws -> String? {
        if case .student(let id, _) = caller { return id }
        return try await workshop.store.students().first { $0.namespace == namespace }?.id
    }

    func namespaceRoute(_ namespace: String, _ rest: [String], request: Request, caller: Caller) async throws -> Routed? {
        let student = try await studentID(for: namespace, caller: caller)
        switch (rest.first, rest.count, request.method) {
        case ("labs", 3, .post):
            let labID = rest[1]
            switch rest[2] {
            case "start", "reset":
                let lines = try await workshop.startLab(labID, namespace: namespace, studentID: student)
                return Routed("/labs/:id/start", ResourceAPI.json(["lines": .array(lines.map { .string($0) })]))
            case "solve":
                let lines = try await workshop.solve(labID, namespace: namespace, studentID: student)
                return Routed("/labs/:id/solve", ResourceAPI.json(["lines": .array(lines.map { .string($0) })]))
            case "check":
                let checkID = request.uri.queryParameters["check"].map(String.init)
                var step: Int?
                if let text = request.uri.queryParameters["step"] {
                    guard let number = Int(String(text)) else { throw WorkshopError.badRequest("step must be a number (1 is the first), not \(text)") }
                    step = number
                }
                let verdicts = try await workshop.check(labID, checkID: checkID, step: step, namespace: namespace, studentID: student)
                return Routed("/labs/:id/check", ResourceAPI.json(["passed": .bool(verdicts.allSatisfy(\.passed)), "verdicts": .array(verdicts.map(LabJSON.verdict))]))
            default:
                return nil
            }
        case ("verdicts", 1, .get):
            guard let student else { return Routed("/verdicts", ResourceAPI.json(["items": []])) }
            var items: [Value] = []
            for lab in await workshop.labs {
                for record in try await workshop.store.verdicts(studentID: student, labID: lab.id) { items.append(LabJSON.record(record)) }
            }
            return Routed("/verdicts", ResourceAPI.json(["items": .array(items)]))
        case ("traffic", 1, .get):
            let counts = try await workshop.backend.requestsByVersion(service: "reviews", namespace: namespace)
            return Routed("/traffic", ResourceAPI.json(["reviews": .object(counts.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })]))
        case ("traffic", 2, .put) where rest[1] == "reviews":
            let weights = try await ResourceAPI.bodyValue(request)
            let lines = try await TrafficControl.apply(weights: weights, namespace: namespace, backend: workshop.backend)
            return Routed("/traffic/reviews", ResourceAPI.json(["lines": .array(lines.map { .string($0) })]))
        default:
            return nil
        }
    }

    func grid() async throws -> Value {
        let students = try await workshop.store.students()
        let latest = try await workshop.store.latestVerdicts()
        let progress = try await workshop.store.allProgress()
        let labs = await workshop.labs
        var rows: [Value] = []
        for student in students {
            var cells: [(String, Value)] = []
            for record in latest where record.studentID == student.id {
                cells.append(("\(record.labID)/\(record.checkID)", ["passed": .bool(record.passed), "summary": .string(record.summaryEn), "at": .string(ISO8601DateFormatter().string(from: record.createdAt))]))
            }
            var row: Value = [
                "name": .string(student.name), "namespace": .string(student.namespace), "lab": .null,
                "completed": .array(progress.filter { $0.studentID == student.id && $0.completedAt != nil }.map { .string($0.labID) }),
                "checks": .object(cells),
            ]
            if let standing = try await workshop.standing(studentID: student.id) {
                row["lab"] = .string(standing.lab.id)
                if let step = standing.step {
                    let title = standing.lab.steps[step].title
                    row["step"] = ["number": .int(step + 1), "of": .int(standing.lab.steps.count), "en": .string(title.en), "ja": .string(title.ja)]
                }
                row["onStepSeconds"] = .int(max(0, Int(Date().timeIntervalSince(standing.onStepSince))))
                row["stuck"] = .bool(standing.stuck)
                if let failure = standing.lastFailure {
                    // The verdict's first cause, else its summary: one line saying why. (The
                    // evidence is the runner's own JSON; should it not parse, the summary says it.)
                    // Verdicts stored before causes were bilingual hold plain strings.
                    let causes = (try? ManifestLoader.documents(failure.evidence, file: "verdict").first?["causes"]?.arrayValue) ?? nil
                    let first = causes?.first
                    row["lastFailure"] = [
                        "check": .string(failure.checkID),
                        "en": .string(first?["en"]?.stringValue ?? first?.stringValue ?? failure.summaryEn),
                        "ja": .string(first?["ja"]?.stringValue ?? first?.stringValue ?? failure.summaryJa),
                    ]
                }
            }
            rows.append(row)
        }
        return [
            "labs": .array(labs.map { lab in ["id": .string(lab.id), "title": .string(lab.title.en), "checks": .array(lab.checks.map { .string($0.id) })] }),
            "students": .array(rows), "stuckAfterSeconds": .int(Int(workshop.stuckAfter)),
        ]
    }
}
