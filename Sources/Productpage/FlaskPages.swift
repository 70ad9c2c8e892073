import BookinfoKit
import Hummingbird
import HTTPTypes

/// The small pages Flask and Werkzeug answer with: 404, 405 and redirects.
enum FlaskPages {
    static let notFound = Response.text(
        """
        <!doctype html>
        <html lang=en>
        <title>404 Not Found</title>
        <h1>Not Found</h1>
        <p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>

        """, status: .notFound, contentType: "text/html; charset=utf-8")

    static func methodNotAllowed(allow: [String]) -> Response {
        var response = Response.text(
            """
            <!doctype html>
            <html lang=en>
            <title>405 Method Not Allowed</title>
            <h1>Method Not Allowed</h1>
            <p>The method is not allowed for the requested URL.</p>

            """, status: .methodNotAllowed, contentType: "text/html; charset=utf-8")
        response.headers[.allow] = allow.joined(separator: ", ")
        return response
    }

    static func redirect(to location: String) -> Response {
        let escaped = htmlEscape(location)
        var response = Response.text(
            """
            <!doctype html>
            <html lang=en>
            <title>Redirecting...</title>
            <h1>Redirecting...</h1>
            <p>You should be redirected automatically to the target URL: <a href="\(escaped)">\(escaped)</a>. If not, click the link.

            """, status: .found, contentType: "text/html; charset=utf-8")
        response.headers[.location] = location
        return response
    }
}

/// `application/x-www-form-urlencoded` fields (also a query string); the first value of a name wins.
struct FormFields {
    var fields: [(String, String)] = []

    init(_ encoded: String) {
        for pair in encoded.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                let spaced = text.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            fields.append((decode(parts[0]), parts.count > 1 ? decode(parts[1]) : ""))
        }
    }

    subscript(_ name: String) -> String? {
        fields.first { $0.0 == name }?.1
    }
}
