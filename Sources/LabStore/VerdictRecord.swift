import Foundation

/// One graded check result, as shown to the student and on the instructor grid.
public struct VerdictRecord: Codable, Sendable, Hashable {
    /// Assigned by the store; `nil` before ``LabStore/record(_:)``.
    public var id: Int64?
    public var studentID: String
    public var labID: String
    public var checkID: String
    public var passed: Bool
    public var summaryEn: String
    public var summaryJa: String
    /// JSON text, stored verbatim.
    public var evidence: String
    /// Requests the grader sent.
    public var requests: Int
    /// Grading duration.
    public var seconds: Double
    public var createdAt: Date

    public init(
        id: Int64? = nil, studentID: String, labID: String, checkID: String, passed: Bool,
        summaryEn: String, summaryJa: String, evidence: String, requests: Int, seconds: Double, createdAt: Date
    ) {
        self.id = id
        self.studentID = studentID
        self.labID = labID
        self.checkID = checkID
        self.passed = passed
        self.summaryEn = summaryEn
        self.summaryJa = summaryJa
        self.evidence = evidence
        self.requests = requests
        self.seconds = seconds
        self.createdAt = createdAt
    }
}
