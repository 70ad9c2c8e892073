import Foundation

/// Durable storage for students, their lab progress and every recorded verdict.
///
/// Implementations: ``MemoryLabStore`` (unit tests), ``SQLiteLabStore`` (embedded default),
/// ``PostgresLabStore``. One contract test suite runs against all three. Semantics are documented
/// on ``LabStoreContract``.
public protocol LabStore: Sendable {
    func migrate() async throws
    func addStudent(_ student: Student) async throws
    func student(id: String) async throws -> Student?
    func student(tokenHash: String) async throws -> Student?
    func student(name: String) async throws -> Student?
    func students() async throws -> [Student]
    /// Removes a student with their progress and verdicts; their token stops working.
    func removeStudent(id: String) async throws
    /// Gives a student a new token hash; the old token stops working.
    func replaceToken(studentID: String, tokenHash: String) async throws
    func startLab(studentID: String, labID: String, at: Date) async throws
    func setStep(studentID: String, labID: String, step: String?) async throws
    func completeLab(studentID: String, labID: String, at: Date) async throws
    func progress(studentID: String) async throws -> [LabProgress]
    func allProgress() async throws -> [LabProgress]
    func record(_ verdict: VerdictRecord) async throws -> VerdictRecord
    func verdicts(studentID: String, labID: String) async throws -> [VerdictRecord]
    func latestVerdicts() async throws -> [VerdictRecord]
    func close() async
}
