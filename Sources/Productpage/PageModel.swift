import BookinfoKit

/// What the product page shows: who is signed in and what details and reviews returned.
struct PageModel: Sendable {
    /// The signed-in user; nil when nobody is. An empty name shows the Sign in button.
    var user: String?
    /// 200 with the details object, or nil with the error object.
    var details: Fetched
    var reviews: Fetched

    /// One upstream's outcome as the template sees it.
    struct Fetched: Sendable {
        var ok: Bool
        /// The parsed body when `ok`, otherwise `{"error": …}`.
        var value: JSONValue
    }

    /// Jinja truthiness of the user (`{% if user: %}`).
    var signedIn: Bool { !(user ?? "").isEmpty }

    /// Each review of a successful reviews answer.
    var reviewList: [Review] {
        (reviews.value["reviews"]?.arrayValue ?? []).map(Review.init)
    }

    struct Review {
        var text: String
        var reviewer: String
        var rating: Rating?

        /// What the template's `{% if review.rating: %}` block shows.
        enum Rating {
            /// `rating.stars` is a non-zero number: the star block.
            case stars(Int, color: String)
            /// No stars but a `rating.error`: the error line.
            case error(String)
            /// A truthy `rating` with neither: only the blank lines the tags leave.
            case neither
        }

        init(_ json: JSONValue) {
            text = json["text"]?.templateText ?? ""
            reviewer = json["reviewer"]?.templateText ?? ""
            guard let rating = json["rating"], rating.jinjaTruthy else { return }
            if let stars = rating["stars"], stars.jinjaTruthy, let count = stars.intValue {
                self.rating = .stars(count, color: rating["color"]?.templateText ?? "")
            } else if let error = rating["error"], error.jinjaTruthy {
                self.rating = .error(error.templateText)
            } else {
                self.rating = .neither
            }
        }
    }
}

extension JSONValue {
    /// Python truthiness, as Jinja's `{% if value %}` tests it: null, false, 0 and empty strings,
    /// lists and objects are false.
    var jinjaTruthy: Bool {
        switch self {
        case .null: false
        case .bool(let value): value
        case .number(let value, _): value != 0
        case .string(let value): !value.isEmpty
        case .array(let values): !values.isEmpty
        case .object(let members): !members.isEmpty
        }
    }
}
