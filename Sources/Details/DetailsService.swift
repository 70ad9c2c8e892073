import BookinfoKit
import Hummingbird
import HTTPTypes
import Logging
import NIOCore

/// Istio's `details` service (spec §3): the book's details by product id, and `/health`.
///
/// v1 answers from built-in data. With `ENABLE_EXTERNAL_BOOK_SERVICE=true` (the `details-v2`
/// image) it asks the Google Books API instead, over HTTP when `DO_NOT_ENCRYPT=true`.
public struct DetailsService: PlanningHandler {
    /// Where v2 fetches the book; `EXTERNAL_BOOK_SERVICE_URL` overrides it (for offline tests).
    let externalBookURL: String?
    let client: UpstreamClient

    /// - Parameter environment: reads `ENABLE_EXTERNAL_BOOK_SERVICE`, `DO_NOT_ENCRYPT` and
    ///   `EXTERNAL_BOOK_SERVICE_URL` (default `http[s]://www.googleapis.com`).
    public init(environment: BookinfoEnvironment, client: UpstreamClient = UpstreamClient()) {
        if environment["ENABLE_EXTERNAL_BOOK_SERVICE"] == "true" {
            let scheme = environment["DO_NOT_ENCRYPT"] == "true" ? "http" : "https"
            externalBookURL = environment["EXTERNAL_BOOK_SERVICE_URL"] ?? "\(scheme)://www.googleapis.com"
        } else {
            externalBookURL = nil
        }
        self.client = client
    }

    /// All but v2's fetch from the external book service is answered at once.
    public func plan(_ request: Request) -> Plan<(id: Int, base: String)> {
        let path = request.uri.path
        if path == "/health" || path.hasPrefix("/health/") {
            return .now(ImmediateRouted("/health", .json(#"{"status":"Details is healthy"}"#)))
        }
        guard path == "/details" || path.hasPrefix("/details/") else {
            return .now(ImmediateRouted("not-found", .text(Self.notFoundPage(path), status: .notFound, contentType: "text/html; charset=ISO-8859-1")))
        }
        guard let id = Self.productID(path) else {
            return .now(ImmediateRouted("/details/:id", .json(#"{"error":"please provide numeric product id"}"#, status: .badRequest)))
        }
        guard let externalBookURL else {
            return .now(ImmediateRouted("/details/:id", .json(Self.defaultBook(id: id))))
        }
        return .later((id, externalBookURL))
    }

    public func finish(_ pending: (id: Int, base: String), request: Request, context: BasicRequestContext) async throws -> Routed {
        Routed("/details/:id", await fetchExternal(id: pending.id, base: pending.base, request: request, logger: context.logger))
    }

    /// The id is the last path segment, a decimal integer with an optional sign and nothing else
    /// (ASCII digits only; nil when it overflows).
    static func productID(_ path: String) -> Int? {
        let segment = DecimalText.lastSegment(path).utf8
        guard let (value, length) = DecimalText.leadingInteger(segment), length == segment.count else { return nil }
        return value
    }

    /// The built-in book, byte for byte as the Ruby original serialises it.
    static func defaultBook(id: Int) -> String {
        #"{"id":\#(id),"author":"William Shakespeare","year":1595,"type":"paperback","pages":200,"publisher":"PublisherA","language":"English","ISBN-10":"1234567890","ISBN-13":"123-1234567890"}"#
    }

    static func notFoundPage(_ path: String) -> String {
        let escaped = path.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
        return """
            <!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN">
            <HTML>
              <HEAD><TITLE>Not Found</TITLE></HEAD>
              <BODY>
                <H1>Not Found</H1>
                `\(escaped)' not found.
              </BODY>
            </HTML>

            """
    }

    /// v2: the first volume of `GET /books/v1/volumes?q=isbn:0486424618`, mapped as the Ruby
    /// original maps it; any failure is a 400 with the reason.
    func fetchExternal(id: Int, base: String, request: Request, logger: Logger) async -> Response {
        let headers = PropagatedHeaders.pick(PropagatedHeaders.forwardedByBackends, from: request.headers)
        let result = await client.get(
            "\(base)/books/v1/volumes?q=isbn:0486424618", headers: headers, timeout: .seconds(5), logger: logger)
        func failure(_ reason: String) -> Response {
            .json(#"{"error":\#(JSONText.quote(reason))}"#, status: .badRequest)
        }
        switch result {
        case .failure(let error):
            return failure(error.description)
        case .response(let status, let body):
            guard status == 200 else { return failure("book service answered \(status)") }
            guard let json = try? JSONValue.parse(body.readableBytesView),
                let book = json["items"]?.arrayValue?.first?["volumeInfo"]
            else { return failure("unexpected answer from the book service") }
            let identifiers = book["industryIdentifiers"]?.arrayValue ?? []
            func isbn(_ type: String) -> JSONValue {
                identifiers.first { $0["type"]?.stringValue == type }?["identifier"] ?? .null
            }
            let members: [(String, JSONValue)] = [
                ("id", .number(Double(id), text: String(id))),
                ("author", book["authors"]?.arrayValue?.first ?? .null),
                ("year", book["publishedDate"] ?? .null),
                ("type", .string(book["printType"]?.stringValue == "BOOK" ? "paperback" : "unknown")),
                ("pages", book["pageCount"] ?? .null),
                ("publisher", book["publisher"] ?? .null),
                ("language", .string(book["language"]?.stringValue == "en" ? "English" : "unknown")),
                ("ISBN-10", isbn("ISBN_10")),
                ("ISBN-13", isbn("ISBN_13")),
            ]
            return .json(JSONValue.object(members).compact)
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
