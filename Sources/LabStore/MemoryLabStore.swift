import Foundation

/// An in-memory ``LabStore`` for unit tests; it forgets everything when released.
public actor MemoryLabStore: LabStore {
    private var studentsByID: [String: Student] = [:]
    private var progressByKey: [ProgressKey: LabProgress] = [:]
    private var verdictRows: [VerdictRecord] = []
    private var nextVerdictID: Int64 = 1
    private var isClosed = false

    private struct ProgressKey: Hashable { var studentID: String; var labID: String }

    public init() {}

    public func migrate() throws { try checkOpen() }

    public func addStudent(_ s: Student) throws {
        try checkOpen()
        let clash = studentsByID.values.first {
            $0.id == s.id || $0.name == s.name || $0.namespace == s.namespace || $0.tokenHash == s.tokenHash
        }
        if let clash { throw LabStoreError.conflict(Self.describeConflict(new: s, existing: clash)) }
        var stored = s
        stored.createdAt = LabStoreContract.normalized(s.createdAt)
        studentsByID[s.id] = stored
    }

    public func removeStudent(id: String) throws {
        try checkOpen()
        guard studentsByID.removeValue(forKey: id) != nil else { throw LabStoreError.notFound("student \(id)") }
        progressByKey = progressByKey.filter { $0.key.studentID != id }
        verdictRows.removeAll { $0.studentID == id }
    }

    public func replaceToken(studentID: String, tokenHash: String) throws {
        try checkOpen()
        guard var student = studentsByID[studentID] else { throw LabStoreError.notFound("student \(studentID)") }
        if studentsByID.values.contains(where: { $0.tokenHash == tokenHash && $0.id != studentID }) {
            throw LabStoreError.conflict("that token is taken")
        }
        student.tokenHash = tokenHash
        studentsByID[studentID] = student
    }

    public func student(id: String) throws -> Student? { try checkOpen(); return studentsByID[id] }

    public func student(tokenHash: String) throws -> Student? {
        try checkOpen()
        return studentsByID.values.first { $0.tokenHash == tokenHash }
    }

    public func student(name: String) throws -> Student? {
        try checkOpen()
        return studentsByID.values.first { $0.name == name }
    }

    public func students() throws -> [Student] {
        try checkOpen()
        return studentsByID.values.sorted { $0.name < $1.name }
    }

    public func startLab(studentID: String, labID: String, at: Date) throws {
        try checkOpen()
        guard studentsByID[studentID] != nil else { throw LabStoreError.notFound("student \(studentID)") }
        let key = ProgressKey(studentID: studentID, labID: labID)
        progressByKey[key] = LabProgress(studentID: studentID, labID: labID, startedAt: LabStoreContract.normalized(at))
    }

    public func setStep(studentID: String, labID: String, step: String?) throws {
        try checkOpen()
        try updateProgress(studentID: studentID, labID: labID) { $0.currentStep = step }
    }

    public func completeLab(studentID: String, labID: String, at: Date) throws {
        try checkOpen()
        try updateProgress(studentID: studentID, labID: labID) { $0.completedAt = LabStoreContract.normalized(at) }
    }

    public func progress(studentID: String) throws -> [LabProgress] {
        try checkOpen()
        return progressByKey.values.filter { $0.studentID == studentID }.sorted { $0.labID < $1.labID }
    }

    public func allProgress() throws -> [LabProgress] {
        try checkOpen()
        return progressByKey.values.sorted { ($0.studentID, $0.labID) < ($1.studentID, $1.labID) }
    }

    public func record(_ v: VerdictRecord) throws -> VerdictRecord {
        try checkOpen()
        guard studentsByID[v.studentID] != nil else { throw LabStoreError.notFound("student \(v.studentID)") }
        var stored = v
        stored.id = nextVerdictID
        stored.createdAt = LabStoreContract.normalized(v.createdAt)
        nextVerdictID += 1
        verdictRows.append(stored)
        return stored
    }

    public func verdicts(studentID: String, labID: String) throws -> [VerdictRecord] {
        try checkOpen()
        return verdictRows.filter { $0.studentID == studentID && $0.labID == labID }.sorted(by: Self.newestFirst)
    }

    public func latestVerdicts() throws -> [VerdictRecord] {
        try checkOpen()
        var latest: [[String]: VerdictRecord] = [:]
        for v in verdictRows {
            let key = [v.studentID, v.labID, v.checkID]
            if let current = latest[key], !Self.newestFirst(v, current) { continue }
            latest[key] = v
        }
        return latest.values.sorted { ($0.studentID, $0.labID, $0.checkID) < ($1.studentID, $1.labID, $1.checkID) }
    }

    public func close() { isClosed = true }

    // MARK: Helpers

    /// The order of ``LabStore/verdicts(studentID:labID:)``: newest `createdAt` first, then highest id.
    static func newestFirst(_ a: VerdictRecord, _ b: VerdictRecord) -> Bool {
        if a.createdAt != b.createdAt { return a.createdAt > b.createdAt }
        return (a.id ?? 0) > (b.id ?? 0)
    }

    static func describeConflict(new s: Student, existing e: Student) -> String {
        var taken: [String] = []
        if e.id == s.id { taken.append("id '\(s.id)'") }
        if e.name == s.name { taken.append("name '\(s.name)'") }
        if e.namespace == s.namespace { taken.append("namespace '\(s.namespace)'") }
        if e.tokenHash == s.tokenHash { taken.append("token") }
        return "student " + taken.joined(separator: ", ") + " already taken"
    }

    private func updateProgress(studentID: String, labID: String, _ change: (inout LabProgress) -> Void) throws {
        let key = ProgressKey(studentID: studentID, labID: labID)
        guard var p = progressByKey[key] else {
            throw LabStoreError.notFound("progress of student \(studentID) in lab \(labID)")
        }
        change(&p)
        progressByKey[key] = p
    }

    private func checkOpen() throws { if isClosed { throw LabStoreError.closed } }
}
