import BookinfoKit
import Foundation
import Grading
import Hummingbird
import HTTPTypes
import Labs
import LabStore
import LocalCluster
import MeshModel

/// The lab-runner's front door: authentication (instructor or student bearer tokens), rate
/// limits, the workshop endpoints, the dashboard, and the resource API for everything else.
public struct WorkshopAPI: BookinfoHandler {
    let workshop: Workshop
    let resources: ResourceAPI
    let limiter: RateLimiter

    /// - Parameter limiter: per-token request rate for students (20/s, bursts of 60, by default).
    public init(workshop: Workshop, resources: ResourceAPI, limiter: RateLimiter = RateLimiter()) {
        self.workshop = workshop
        self.resources = resources
        self.limiter = limiter
    }

    public func respond(to request: Request, context: BasicRequestContext) async throws -> Routed {
        let path = request.uri.path
        if path == "/healthz" { return Routed("/healthz", .text("ok", contentType: "text/plain")) }
        if path == "/" || path == "/dashboard" || path.hasPrefix("/dashboard/") { return Routed("/dashboard", Dashboard.response(path)) }
        do {
            if path == "/apis/meshdojo.dev/v1/register", request.method == .post {
                guard limiter.allow("register") else { return Routed("/register", ResourceAPI.status(429, "TooManyRequests", "too many registrations; try again in a moment")) }
                return Routed("/register", try await register(request))
            }
            guard let token = Self.bearer(request), let caller = try await workshop.caller(token: token) else {
                return Routed("unauthorized", ResourceAPI.status(401, "Unauthorized", "a valid token is needed: labctl login (students) or the instructor token"))
            }
            guard caller == .instructor || limiter.allow(token) else {
                return Routed("limited", ResourceAPI.status(429, "TooManyRequests", "too many requests; slow down"))
            }
            let segments = path.split(separator: "/").map(String.init)
            if let index = segments.firstIndex(of: "namespaces"), index + 1 < segments.count, !caller.mayUse(namespace: segments[index + 1]) {
                return Routed("forbidden", ResourceAPI.status(403, "Forbidden", "you may only use your own namespace"))
            }
            if segments.starts(with: ["apis", "meshdojo.dev", "v1"]) {
                if let routed = try await workshopRoute(Array(segments.dropFirst(3)), request: request, caller: caller) { return routed }
            }
            if caller != .instructor {
                if segments == ["api", "v1", "namespaces"], request.method != .get {
                    return Routed("forbidden", ResourceAPI.status(403, "Forbidden", "only the instructor creates namespaces"))
                }
                if segments == ["api", "v1", "namespaces"], case .student(_, let namespace) = caller {
                    let info = await workshop.cluster.namespace(namespace)
                    let items = info.map { [ResourceAPI.namespaceObject($0)] } ?? []
                    return Routed("/api/v1/namespaces", ResourceAPI.json(ResourceAPI.list("v1", "NamespaceList", items)))
                }
                if segments.count == 4, segments.starts(with: ["api", "v1", "namespaces"]), request.method == .delete {
                    return Routed("forbidden", ResourceAPI.status(403, "Forbidden", "only the instructor deletes namespaces"))
                }
                if segments == ["apis", "meshdojo.dev", "v1", "shutdown"] {
                    return Routed("forbidden", ResourceAPI.status(403, "Forbidden", "only the instructor stops the lab-runner"))
                }
            }
            if case .student(_, let own) = caller, [.post, .put, .patch].contains(request.method) {
                // A body could name another namespace (metadata.namespace) or be a Namespace:
                // students may only write objects of their own namespace.
                var request = request
                let buffer = try await request.collectBody(upTo: ResourceAPI.maxBodyBytes)
                if let problem = Self.foreignObject(in: String(buffer: buffer), namespace: own) {
                    return Routed("forbidden", ResourceAPI.status(403, "Forbidden", problem))
                }
                return try await resources.respond(to: request, context: context)
            }
            return try await resources.respond(to: request, context: context)
        } catch let error as WorkshopError {
            return Routed("error", Self.workshopError(error))
        } catch let error as LocalClusterError {
            return Routed("error", ResourceAPI.clusterError(error))
        } catch let error as ManifestError {
            return Routed("error", ResourceAPI.status(422, "Invalid", error.description, details: [error.description]))
        } catch let error as LabStoreError {
            return Routed("error", ResourceAPI.status(409, "Conflict", "\(error)"))
        }
    }

    /// Why a student's request body may not be applied: an object of another namespace, or a
    /// Namespace itself (JSON, YAML, or labctl's `{"files": [...]}` envelope); nil when it may.
    static func foreignObject(in text: String, namespace: String) -> String? {
        guard var documents = try? ManifestLoader.documents(text, file: "request body") else { return nil }
        if let files = documents.first?["files"]?.arrayValue {
            documents = files.flatMap { (try? ManifestLoader.documents($0["text"]?.stringValue ?? "", file: "request body")) ?? [] }
        }
        for document in documents {
            let kind = document["kind"]?.stringValue ?? ""
            let name = document["metadata"]?["name"]?.stringValue ?? ""
            if kind == "Namespace" { return "\(kind)/\(name): only the instructor creates or changes namespaces" }
            if let other = document["metadata"]?["namespace"]?.stringValue, other != namespace {
                return "\(kind)/\(name): metadata.namespace \"\(other)\" is not your namespace \"\(namespace)\""
            }
        }
        return nil
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

    func register(_ request: Request) async throws -> Response {
        let body = try await ResourceAPI.bodyValue(request)
        guard let code = body["eventCode"]?.stringValue, Tokens.equal(code, await workshop.eventCode) else {
            return ResourceAPI.status(403, "Forbidden", "wrong event code: ask your instructor for it")
        }
        guard let name = body["name"]?.stringValue else { return ResourceAPI.status(400, "BadRequest", "give your name") }
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
                return Routed("/whoami", ResourceAPI.json(["role": "student", "name": .string(student?.name ?? ""), "namespace": .string(namespace)]))
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
        case ("students", .post):
            guard caller == .instructor else { throw WorkshopError.forbidden("only the instructor adds students") }
            let body = try await ResourceAPI.bodyValue(request)
            var added: [Value] = []
            let names = (body["names"]?.arrayValue ?? []).compactMap(\.stringValue)
            let namespace = names.count == 1 ? body["namespace"]?.stringValue : nil
            for name in names {
                added.append(Self.registrationValue(try await workshop.register(name: name, namespace: namespace)))
            }
            return Routed("/students", ResourceAPI.json(["items": .array(added)], status: .created))
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
                let verdicts = try await workshop.check(labID, checkID: checkID, namespace: namespace, studentID: student)
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
            let counts = try await workshop.cluster.trafficByVersion(service: "reviews", namespace: namespace)
            return Routed("/traffic", ResourceAPI.json(["reviews": .object(counts.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })]))
        case ("traffic", 2, .put) where rest[1] == "reviews":
            let weights = try await ResourceAPI.bodyValue(request)
            let lines = try await TrafficControl.apply(weights: weights, namespace: namespace, cluster: workshop.cluster)
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
            let current = progress.filter { $0.studentID == student.id }.max { $0.startedAt < $1.startedAt }
            rows.append([
                "name": .string(student.name), "namespace": .string(student.namespace), "lab": current.map { .string($0.labID) } ?? .null,
                "completed": .array(progress.filter { $0.studentID == student.id && $0.completedAt != nil }.map { .string($0.labID) }),
                "checks": .object(cells),
            ])
        }
        return [
            "labs": .array(labs.map { lab in ["id": .string(lab.id), "title": .string(lab.title.en), "checks": .array(lab.checks.map { .string($0.id) })] }),
            "students": .array(rows),
        ]
    }
}
