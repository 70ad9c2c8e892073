/// Errors a ``LabStore`` throws for caller mistakes; driver errors pass through unchanged.
public enum LabStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A unique value (student id, name, namespace or token hash) is already taken.
    case conflict(String)
    /// The student, or the student's progress in a lab, does not exist.
    case notFound(String)
    /// The store URL names no supported database.
    case unsupportedURL(String)
    /// The store was closed.
    case closed

    public var description: String {
        switch self {
        case .conflict(let what): "conflict: \(what)"
        case .notFound(let what): "not found: \(what)"
        case .unsupportedURL(let url):
            "unsupported store URL '\(url)': use postgres://user@host:port/db (or postgresql://), or no URL for SQLite"
        case .closed: "the lab store is closed"
        }
    }
}
