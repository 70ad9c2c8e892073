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

        enum Rating {
            case stars(Int, color: String)
            case error(String)
        }

        init(_ json: JSONValue) {
            text = json["text"]?.templateText ?? ""
            reviewer = json["reviewer"]?.templateText ?? ""
            guard let rating = json["rating"], case .object(let members) = rating, !members.isEmpty else { return }
            if let stars = rating["stars"]?.intValue, stars != 0 {
                self.rating = .stars(stars, color: rating["color"]?.templateText ?? "")
            } else if let error = rating["error"], error.templateText != "" {
                self.rating = .error(error.templateText)
            }
        }
    }
}
