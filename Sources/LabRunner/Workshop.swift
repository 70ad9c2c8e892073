import Foundation
import Grading
import Labs
import LabStore
import Logging
import MeshModel

/// The workshop: students and their namespaces, labs, checks and recorded verdicts.
public actor Workshop {
    /// Where the namespaces live (the embedded engine or a cluster), chosen once at start.
    public let backend: any ClusterBackend
    public let store: any LabStore
    public let labs: [Lab]
    /// Students register themselves with this code (or the instructor adds a roster).
    public let eventCode: String
    let instructorTokenHash: String
    nonisolated let serviceAccountTokens: ServiceAccountTokens
    let slots = CheckSlots(limit: 8)
    /// How long a student may stay on one step before the class grid shows them as stuck.
    public let stuckAfter: TimeInterval
    let logger: Logger

    public init(backend: any ClusterBackend, store: any LabStore, labs: [Lab], eventCode: String, instructorToken: String, stuckAfter: TimeInterval = 15 * 60, logger: Logger) {
        self.stuckAfter = stuckAfter
        self.backend = backend
        self.store = store
        self.labs = labs
        self.eventCode = eventCode
        self.instructorTokenHash = Tokens.hash(instructorToken)
        self.serviceAccountTokens = ServiceAccountTokens(instructorTokenHash: Tokens.hash(instructorToken))
        self.logger = logger
    }

    /// The caller a bearer token belongs to, if any.
    public func caller(token: String) async throws -> Caller? {
        let hash = Tokens.hash(token)
        if Tokens.equal(hash, instructorTokenHash) { return .instructor }
        if let claims = serviceAccountTokens.verify(token) {
            // A token outlives nothing it was issued in: its namespace must still be there.
            guard try await backend.namespaceLabels(claims.namespace) != nil else { return nil }
            return .student(id: "system:serviceaccount:\(claims.namespace):\(claims.serviceAccount)", namespace: claims.namespace)
        }
        guard let student = try await store.student(tokenHash: hash) else { return nil }
        return .student(id: student.id, namespace: student.namespace)
    }

    public func lab(_ id: String) -> Lab? {
        labs.first { $0.id == id }
    }

    // MARK: Students

    public struct Registration: Sendable {
        public var student: Student
        public var token: String
    }

    /// Adds a student with a namespace of their own (named after them) holding bookinfo.
    /// - Throws: ``WorkshopError`` for a bad or taken name.
    public func register(name: String, namespace requested: String? = nil) async throws -> Registration {
        let namespace = requested ?? Self.namespaceName(for: name)
        guard !name.isEmpty, name.count <= 64, KubeObject.isDNSLabelish(namespace), !namespace.contains("."), namespace.count <= 50 else {
            throw WorkshopError.badRequest("'\(name)' cannot be a student name: use 1–64 letters, digits or '-'")
        }
        let nameTaken = try await store.student(name: name) != nil
        let namespaceTaken = try await backend.namespaceLabels(namespace) != nil
        if nameTaken || (namespaceTaken && requested == nil) {
            throw WorkshopError.conflict("the name '\(name)' is taken")
        }
        let token = Tokens.generate()
        let student = Student(id: UUID().uuidString.lowercased(), name: name, namespace: namespace, tokenHash: Tokens.hash(token), createdAt: Date())
        try await store.addStudent(student)
        try await backend.provision(StudentNamespace(namespace: namespace, studentID: student.id, studentName: name))
        return Registration(student: student, token: token)
    }

    /// Removes a student: their token stops working at once, then their namespace goes.
    public func removeStudent(name: String) async throws {
        guard let student = try await store.student(name: name) else { throw WorkshopError.notFound("student \(name)") }
        try await store.removeStudent(id: student.id)
        if try await backend.namespaceLabels(student.namespace) != nil { try await backend.removeNamespace(student.namespace) }
    }

    /// Removes every student (the end of the workshop): their tokens stop working, their
    /// namespaces go. Returns the names removed.
    public func removeAllStudents() async throws -> [String] {
        var removed: [String] = []
        for student in try await store.students() {
            try await removeStudent(name: student.name)
            removed.append(student.name)
        }
        return removed
    }

    /// Gives a student a new token; the old one stops working.
    public func rotateToken(name: String) async throws -> Registration {
        guard let student = try await store.student(name: name) else { throw WorkshopError.notFound("student \(name)") }
        let token = Tokens.generate()
        try await store.replaceToken(studentID: student.id, tokenHash: Tokens.hash(token))
        var updated = student
        updated.tokenHash = Tokens.hash(token)
        return Registration(student: updated, token: token)
    }

    static func namespaceName(for name: String) -> String {
        let lowered = name.lowercased().map { ("a"..."z").contains($0) || ("0"..."9").contains($0) ? $0 : "-" }
        let trimmed = String(lowered).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        return "student-" + (trimmed.isEmpty ? "x" : String(trimmed.prefix(40)))
    }

    /// Recreates the namespace of every student that has none (after a restart with a lost state folder).
    public func adoptStudents() async throws {
        for student in try await store.students() where try await backend.namespaceLabels(student.namespace) == nil {
            try await backend.provision(StudentNamespace(namespace: student.namespace, studentID: student.id, studentName: student.name))
            if let progress = try await store.progress(studentID: student.id).max(by: { $0.startedAt < $1.startedAt }),
                let lab = lab(progress.labID)
            {
                try await applyFiles(lab.startFiles, namespace: student.namespace)
            }
        }
    }

    // MARK: Labs

    /// Resets the namespace to the lab's starting state: removes the mesh configuration and
    /// applies `start/`; the student's progress in the lab begins again at its first step.
    public func startLab(_ labID: String, namespace: String, studentID: String?) async throws -> [String] {
        guard let lab = lab(labID) else { throw WorkshopError.notFound("lab \(labID)") }
        for kind in ["VirtualService", "DestinationRule", "Gateway", "ServiceEntry"] {
            let names = try await backend.objects(ofKind: kind, namespace: namespace).map(\.metadata.name)
            if !names.isEmpty { try await backend.deleteObjects(names.map { (kind, $0) }, namespace: namespace) }
        }
        try await setInjection(lab.startLabels, namespace: namespace)
        let lines = try await applyFiles(lab.startFiles, namespace: namespace)
        try await backend.waitUntilReady(namespace)
        if let studentID { try await store.startLab(studentID: studentID, labID: labID, at: Date()) }
        return lines
    }

    /// Sets the namespace's `istio-injection` label as `labels` has it, restarting the pods when
    /// that changes whether they get sidecars.
    func setInjection(_ labels: [String: String], namespace: String) async throws {
        let before = try await backend.namespaceLabels(namespace)?["istio-injection"]
        let after = labels["istio-injection"]
        guard before != after else { return }
        try await backend.setLabels(namespace, ["istio-injection": after])
        try await backend.restartWorkloads(namespace)
    }

    /// Applies the reference solution of the step the student is on (the first step whose checks
    /// have not all passed), so that `check` then passes and the next step begins; without a
    /// student, the whole lab's solution.
    public func solve(_ labID: String, namespace: String, studentID: String? = nil) async throws -> [String] {
        guard let lab = lab(labID) else { throw WorkshopError.notFound("lab \(labID)") }
        var files = lab.startFiles + lab.solutionFiles
        if studentID != nil, let check = try await checksToGrade(lab, checkID: nil, studentID: studentID).first {
            files = lab.solvedFiles(forCheck: check.id)
        }
        try await setInjection(lab.solutionLabels, namespace: namespace)
        let lines = try await applyFiles(files, namespace: namespace)
        try await backend.waitUntilReady(namespace)
        return lines
    }

    @discardableResult
    func applyFiles(_ files: [String], namespace: String) async throws -> [String] {
        var objects: [KubeObject] = []
        for file in files {
            // Findings name the lab's file as the learner sees it (`labs/01-…/start/…`), not the server's path.
            objects += try ManifestLoader.load(path: file).map { object in
                var named = object
                named.source.file = LabCatalog.learnerPath(file)
                return named
            }
        }
        let labelled = objects.filter { $0.kind == "Namespace" }
        for namespaceObject in labelled {
            try await backend.setLabels(namespace, namespaceObject.metadata.labels.mapValues { Optional($0) })
        }
        let rest = objects.filter { $0.kind != "Namespace" }.map { object -> KubeObject in
            var copy = object
            copy.metadata.namespace = nil
            return copy
        }
        return try await backend.applyObjects(rest, namespace: namespace).lines
    }

    /// The checks the student has passed since they last started (or reset) the lab: a reset
    /// begins the lab again from its first step, while every verdict stays on record.
    func passedChecks(_ lab: Lab, studentID: String) async throws -> Set<String> {
        let started = try await store.progress(studentID: studentID).first { $0.labID == lab.id }?.startedAt ?? .distantPast
        let verdicts = try await store.verdicts(studentID: studentID, labID: lab.id)
        return Set(verdicts.filter { $0.passed && $0.createdAt >= started }.map(\.checkID))
    }

    /// The checks to grade now: the one asked for, or those of the step asked for (1 is the
    /// first), else those of the first step the student has not passed yet (the step they are
    /// on), else — everything passed — those of the last step.
    func checksToGrade(_ lab: Lab, checkID: String?, step: Int? = nil, studentID: String?) async throws -> [Check] {
        if let checkID { return lab.checks.filter { $0.id == checkID } }
        if let step {
            guard lab.steps.indices.contains(step - 1) else {
                throw WorkshopError.badRequest("lab \(lab.id) has steps 1 to \(lab.steps.count), not \(step)")
            }
            let ids = lab.steps[step - 1].checkIDs
            guard !ids.isEmpty else { throw WorkshopError.badRequest("step \(step) of lab \(lab.id) has nothing to check") }
            return lab.checks.filter { ids.contains($0.id) }
        }
        guard let studentID, let index = Self.currentStep(lab, passed: try await passedChecks(lab, studentID: studentID)) else { return lab.checks }
        let current = lab.steps[index]
        return lab.checks.filter { current.checkIDs.contains($0.id) }
    }

    /// The step a student is on (an index into `lab.steps`), given the checks they have passed
    /// since starting the lab: the first step with checks not all passed; the last graded step
    /// once all have passed.
    static func currentStep(_ lab: Lab, passed: Set<String>) -> Int? {
        let graded = lab.steps.indices.filter { !lab.steps[$0].checkIDs.isEmpty }
        return graded.first { !lab.steps[$0].checkIDs.allSatisfy(passed.contains) } ?? graded.last
    }

    /// Where a student stands: the lab they started last, the step they are on, since when, and
    /// why their latest check of it failed.
    public struct Standing: Sendable {
        public var lab: Lab
        /// An index into `lab.steps`.
        public var step: Int?
        /// Since the lab started, or since the student's latest passed check in it.
        public var onStepSince: Date
        public var completed: Bool
        /// The latest failed verdict since the lab started, if it is newer than any pass.
        public var lastFailure: VerdictRecord?
        /// On the step longer than ``Workshop/stuckAfter`` without completing the lab.
        public var stuck: Bool
    }

    public func standing(studentID: String, now: Date = Date()) async throws -> Standing? {
        guard let progress = try await store.progress(studentID: studentID).max(by: { $0.startedAt < $1.startedAt }),
              let lab = lab(progress.labID)
        else { return nil }
        let verdicts = try await store.verdicts(studentID: studentID, labID: lab.id).filter { $0.createdAt >= progress.startedAt }
        let lastPass = verdicts.filter(\.passed).map(\.createdAt).max()
        let since = max(progress.startedAt, lastPass ?? progress.startedAt)
        let failure = verdicts.filter { !$0.passed && $0.createdAt >= since }.max { $0.createdAt < $1.createdAt }
        let completed = progress.completedAt != nil
        let passed = Set(verdicts.filter(\.passed).map(\.checkID))
        return Standing(
            lab: lab, step: Self.currentStep(lab, passed: passed), onStepSince: since, completed: completed, lastFailure: failure,
            stuck: !completed && now.timeIntervalSince(since) > stuckAfter)
    }

    /// Grades the lab's checks (one, or those of the current step) and records every verdict;
    /// the lab is complete once every check has passed.
    public func check(_ labID: String, checkID: String?, step: Int? = nil, namespace: String, studentID: String?) async throws -> [Verdict] {
        guard let lab = lab(labID) else { throw WorkshopError.notFound("lab \(labID)") }
        let checks = try await checksToGrade(lab, checkID: checkID, step: step, studentID: studentID)
        guard !checks.isEmpty else { throw WorkshopError.notFound("check \(checkID ?? "") in lab \(labID)") }
        await slots.acquire()
        var verdicts: [Verdict] = []
        let probe = BackendProbe(backend: backend, namespace: namespace)
        for check in checks {
            verdicts.append(await Grader().grade(check, probe: probe))
        }
        await slots.release()
        if let studentID {
            for verdict in verdicts {
                let evidence = (try? String(decoding: JSONEncoder().encode(verdict), as: UTF8.self)) ?? "{}"
                _ = try await store.record(
                    VerdictRecord(
                        id: nil, studentID: studentID, labID: labID, checkID: verdict.checkID, passed: verdict.passed,
                        summaryEn: verdict.summary.en, summaryJa: verdict.summary.ja, evidence: evidence, requests: verdict.requests,
                        seconds: verdict.seconds, createdAt: Date()))
            }
            let passed = try await passedChecks(lab, studentID: studentID)
            if lab.checks.allSatisfy({ passed.contains($0.id) }) {
                try await store.completeLab(studentID: studentID, labID: labID, at: Date())
            }
        }
        return verdicts
    }
}

/// What the workshop refuses, with the HTTP status it maps to.
public enum WorkshopError: Error, CustomStringConvertible {
    case badRequest(String)
    case notFound(String)
    case conflict(String)
    case forbidden(String)

    public var description: String {
        switch self {
        case .badRequest(let text), .conflict(let text), .forbidden(let text): text
        case .notFound(let what): "\(what) not found"
        }
    }
}
