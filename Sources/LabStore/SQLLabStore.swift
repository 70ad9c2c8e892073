import Foundation

/// The ``LabStore`` methods of both SQL stores: each is one call to the shared ``SQLStoreCore``;
/// ``SQLiteLabStore`` and ``PostgresLabStore`` only open their connection source.
///
/// `@unchecked Sendable`: a non-final class cannot be checked, but its only state is an immutable
/// reference to the `Sendable` core.
public class SQLLabStore: LabStore, @unchecked Sendable {
    let core: SQLStoreCore

    init(core: SQLStoreCore) {
        self.core = core
    }

    public func migrate() async throws { try await core.migrate() }
    public func addStudent(_ s: Student) async throws { try await core.addStudent(s) }
    public func student(id: String) async throws -> Student? { try await core.student(where: "id", is: id) }
    public func student(tokenHash: String) async throws -> Student? { try await core.student(where: "token_hash", is: tokenHash) }
    public func student(name: String) async throws -> Student? { try await core.student(where: "name", is: name) }
    public func students() async throws -> [Student] { try await core.students() }
    public func removeStudent(id: String) async throws { try await core.removeStudent(id: id) }
    public func replaceToken(studentID: String, tokenHash: String) async throws {
        try await core.replaceToken(studentID: studentID, tokenHash: tokenHash)
    }
    public func startLab(studentID: String, labID: String, at: Date) async throws {
        try await core.startLab(studentID: studentID, labID: labID, at: at)
    }
    public func setStep(studentID: String, labID: String, step: String?) async throws {
        try await core.setStep(studentID: studentID, labID: labID, step: step)
    }
    public func completeLab(studentID: String, labID: String, at: Date) async throws {
        try await core.completeLab(studentID: studentID, labID: labID, at: at)
    }
    public func progress(studentID: String) async throws -> [LabProgress] { try await core.progress(studentID: studentID) }
    public func allProgress() async throws -> [LabProgress] { try await core.progress(studentID: nil) }
    public func record(_ v: VerdictRecord) async throws -> VerdictRecord { try await core.record(v) }
    public func verdicts(studentID: String, labID: String) async throws -> [VerdictRecord] {
        try await core.verdicts(studentID: studentID, labID: labID)
    }
    public func latestVerdicts() async throws -> [VerdictRecord] { try await core.latestVerdicts() }
    public func close() async { await core.close() }
}
