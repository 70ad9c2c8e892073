/// Classifies one productpage response into an ``Outcome`` from the page markers of spec §2.6.3,
/// for both the classic (Flask/Bootstrap) and the modern (Tailwind) markup.
///
/// Traps handled here:
/// - error sentences are matched without their trailing `!` (the modern markup drops it);
/// - the modern ratings error uses `text-red-500`, the same class as v3's star row, so colour is
///   read only from the star row's `gap-x-1 text-…-500` marker, never from the bare class;
/// - full stars are counted with the closing quote (`glyphicon glyphicon-star"`), which excludes
///   `glyphicon-star-empty` and matches both `class="…"` (classic) and `id="…"` (modern).
public enum PageClassifier {
    /// The colour of the star row.
    public enum StarColor: String, Sendable, Equatable {
        case black, red
    }

    /// What one page shows, beyond its outcome.
    public struct Page: Sendable, Equatable {
        public var outcome: Outcome
        /// Full stars on the page (9 with ratings 5 and 4); 0 when none are shown.
        public var fullStars: Int
        /// The star colour, when stars are shown and the colour marker was found.
        public var color: StarColor?
        /// Whether the page uses the modern (Tailwind) markup.
        public var modern: Bool

        public init(outcome: Outcome, fullStars: Int = 0, color: StarColor? = nil, modern: Bool = false) {
            self.outcome = outcome
            self.fullStars = fullStars
            self.color = color
            self.modern = modern
        }
    }

    /// Markers (spec §2.6.3), without trailing `!`.
    enum Marker {
        static let detailsError = "Error fetching product details"
        static let detailsSorry = "Sorry, product details are currently unavailable for this book."
        static let reviewsError = "Error fetching product reviews"
        static let reviewsSorry = "Sorry, product reviews are currently unavailable for this book."
        static let ratingsError = "Ratings service is currently unavailable"
        static let reviewsHeading = "Book Reviews"
        static let fullStar = "glyphicon glyphicon-star\""
        static let modernFullStar = "id=\"glyphicon glyphicon-star\""
        static let classicBlack = "<font color=\"black\">"
        static let classicRed = "<font color=\"red\">"
        static let modernBlack = "gap-x-1 text-black-500"
        static let modernRed = "gap-x-1 text-red-500"
        static let modernPage = "text-3xl font-semibold"
    }

    /// The outcome of one response.
    public static func classify(status: Int, body: String) -> Outcome {
        inspect(status: status, body: body).outcome
    }

    /// The outcome plus star count and colour.
    public static func inspect(status: Int, body: String) -> Page {
        let modern = body.contains(Marker.modernFullStar) || body.contains(Marker.modernPage)
        guard status == 200 else { return Page(outcome: .httpError, modern: modern) }
        if body.contains(Marker.detailsError) || body.contains(Marker.detailsSorry) {
            return Page(outcome: .detailsUnavailable, modern: modern)
        }
        if body.contains(Marker.reviewsError) || body.contains(Marker.reviewsSorry) {
            return Page(outcome: .reviewsUnavailable, modern: modern)
        }
        guard body.contains(Marker.reviewsHeading), body.contains("Reviewer1"), body.contains("Reviewer2") else {
            return Page(outcome: .other, modern: modern)
        }
        if body.contains(Marker.ratingsError) {
            return Page(outcome: .ratingsUnavailable, modern: modern)
        }
        let stars = modern ? occurrences(of: Marker.modernFullStar, in: body) : occurrences(of: Marker.fullStar, in: body)
        guard stars > 0 else { return Page(outcome: .v1, modern: modern) }
        let black = body.contains(modern ? Marker.modernBlack : Marker.classicBlack)
        let red = body.contains(modern ? Marker.modernRed : Marker.classicRed)
        switch (black, red) {
        case (true, false): return Page(outcome: .v2, fullStars: stars, color: .black, modern: modern)
        case (false, true): return Page(outcome: .v3, fullStars: stars, color: .red, modern: modern)
        default: return Page(outcome: .other, fullStars: stars, modern: modern)
        }
    }

    /// Non-overlapping occurrences of `needle` in `haystack`.
    static func occurrences(of needle: String, in haystack: String) -> Int {
        guard !needle.isEmpty else { return 0 }
        var count = 0
        var rest = haystack[...]
        while let range = rest.firstRange(of: needle) {
            count += 1
            rest = rest[range.upperBound...]
        }
        return count
    }
}
