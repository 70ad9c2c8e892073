import Foundation

/// A workshop participant. The access token itself is never stored, only its SHA-256 hex digest,
/// computed by the caller.
public struct Student: Codable, Sendable, Hashable {
    public var id: String
    /// Display name; unique.
    public var name: String
    /// The student's own namespace; unique.
    public var namespace: String
    /// Lower-case hex SHA-256 of the student's token; unique.
    public var tokenHash: String
    public var createdAt: Date

    public init(id: String, name: String, namespace: String, tokenHash: String, createdAt: Date) {
        self.id = id
        self.name = name
        self.namespace = namespace
        self.tokenHash = tokenHash
        self.createdAt = createdAt
    }
}
