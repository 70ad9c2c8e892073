/// Where ratings v2 reads the two reviewers' stars.
public protocol RatingsDatabase: Sendable {
    /// Reviewer1's and Reviewer2's ratings (the first and second rows; 0 when a row is missing).
    func ratings() async throws(RatingsDatabaseError) -> (Int, Int)
}

/// The two failures the original distinguishes (spec §5).
public enum RatingsDatabaseError: Error, Sendable, Equatable {
    case connect
    case query

    /// The error body the original sends for each.
    public var body: String {
        switch self {
        case .connect: #"{"error":"could not connect to ratings database"}"#
        case .query: #"{"error":"could not load ratings from database"}"#
        }
    }
}
