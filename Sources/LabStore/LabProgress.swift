import Foundation

/// Where one student is in one lab.
public struct LabProgress: Codable, Sendable, Hashable {
    public var studentID: String
    public var labID: String
    public var startedAt: Date
    public var completedAt: Date?
    public var currentStep: String?

    public init(studentID: String, labID: String, startedAt: Date, completedAt: Date? = nil, currentStep: String? = nil) {
        self.studentID = studentID
        self.labID = labID
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.currentStep = currentStep
    }
}
