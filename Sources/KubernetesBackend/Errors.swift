import MeshModel

/// The API server answered with an error: its `Status` (code, reason, message, causes), and the
/// request it answered.
public struct KubeStatusError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status (`404`), from the Status's `code` or the response.
    public var code: Int
    /// The machine-readable reason (`NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, `Forbidden`, `Gone`, …).
    public var reason: String
    /// The server's own words.
    public var message: String
    /// `details.name` and `details.kind`, when the server said which object.
    public var name: String?
    public var kind: String?
    /// `details.causes`: field-level reasons (for `Invalid`) or conflicting field managers.
    public var causes: [Cause]
    /// `details.retryAfterSeconds`, when the server asks to come back later.
    public var retryAfterSeconds: Int?
    /// `GET`, `PATCH`, …, and the path (without the query) of the request that failed.
    public var method: String
    public var path: String

    public struct Cause: Sendable, Equatable {
        public var reason: String?
        public var message: String?
        public var field: String?

        public init(reason: String?, message: String?, field: String?) {
            self.reason = reason
            self.message = message
            self.field = field
        }
    }

    public init(
        code: Int, reason: String, message: String, name: String? = nil, kind: String? = nil, causes: [Cause] = [],
        retryAfterSeconds: Int? = nil, method: String, path: String
    ) {
        self.code = code
        self.reason = reason
        self.message = message
        self.name = name
        self.kind = kind
        self.causes = causes
        self.retryAfterSeconds = retryAfterSeconds
        self.method = method
        self.path = path
    }

    /// Reads a `Status` object (a response body or a watch ERROR event's object).
    /// A body that is not a Status (a proxy's HTML page) keeps the HTTP code and a reason named after it.
    public init(status: Int, body: Value?, method: String, path: String, rawBody: String? = nil) {
        let isStatus = body?["kind"]?.stringValue == "Status"
        code = (isStatus ? body?["code"]?.intValue : nil) ?? status
        reason = (isStatus ? body?["reason"]?.stringValue : nil).flatMap { $0.isEmpty ? nil : $0 } ?? Self.reason(forCode: code)
        let fallback = rawBody.map { String($0.prefix(300)).trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        message = (isStatus ? body?["message"]?.stringValue : nil) ?? fallback
        let details = isStatus ? body?["details"] : nil
        name = details?["name"]?.stringValue
        kind = details?["kind"]?.stringValue
        retryAfterSeconds = details?["retryAfterSeconds"]?.intValue
        causes = (details?["causes"]?.arrayValue ?? []).map {
            Cause(reason: $0["reason"]?.stringValue, message: $0["message"]?.stringValue, field: $0["field"]?.stringValue)
        }
        self.method = method
        self.path = path
    }

    /// The reason the API server gives for a code, for responses that carry no Status.
    static func reason(forCode code: Int) -> String {
        switch code {
        case 400: "BadRequest"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "NotFound"
        case 405: "MethodNotAllowed"
        case 406: "NotAcceptable"
        case 409: "Conflict"
        case 410: "Gone"
        case 413: "RequestEntityTooLarge"
        case 415: "UnsupportedMediaType"
        case 422: "Invalid"
        case 429: "TooManyRequests"
        case 500: "InternalError"
        case 503: "ServiceUnavailable"
        case 504: "Timeout"
        default: "Unknown"
        }
    }

    public var isNotFound: Bool { code == 404 }
    public var isAlreadyExists: Bool { code == 409 && reason == "AlreadyExists" }
    public var isConflict: Bool { code == 409 && reason != "AlreadyExists" }
    /// The resourceVersion asked for is older than the server keeps: list again.
    public var isGone: Bool { code == 410 || reason == "Expired" || reason == "Gone" }
    public var isForbidden: Bool { code == 403 }
    public var isUnauthorized: Bool { code == 401 }

    /// What happened, in plain words.
    var plainWords: String {
        switch reason {
        case "NotFound": "it does not exist"
        case "AlreadyExists": "it already exists"
        case "Conflict": "it conflicts with a change someone else made, or with fields another manager owns"
        case "Invalid": "the API server refused the object as invalid"
        case "BadRequest": "the API server could not use the request"
        case "Forbidden":
            "the credentials in use are not allowed to do this (RBAC): check the lab-runner's ClusterRole"
        case "Unauthorized":
            "the API server did not accept the credentials (an expired or wrong token, or a certificate it does not trust)"
        case "Gone", "Expired": "the resourceVersion is older than the server keeps; the list must be read again"
        case "TooManyRequests": "the API server asks to slow down"
        case "MethodNotAllowed": "the API server does not allow this verb here"
        case "UnsupportedMediaType":
            "the API server does not take this content type (server-side apply needs Kubernetes 1.18 or later)"
        case "RequestEntityTooLarge": "the object is larger than the API server accepts"
        case "ServiceUnavailable": "the API server is not available right now"
        case "Timeout", "ServerTimeout": "the API server timed out"
        case "InternalError": "the API server failed internally"
        default: "the API server refused the request"
        }
    }

    public var description: String {
        var out = "\(method) \(path) failed with \(code) \(reason): \(plainWords)"
        if !message.isEmpty { out += ". The server said: \(message)" }
        let causeTexts = causes.map { cause -> String in
            var text = cause.field.map { "\($0): " } ?? ""
            text += cause.message ?? cause.reason ?? "no message"
            if let reason = cause.reason, cause.message != nil { text += " (\(reason))" }
            return text
        }
        if !causeTexts.isEmpty { out += ". Causes: " + causeTexts.joined(separator: "; ") }
        if let retryAfterSeconds { out += ". Retry after \(retryAfterSeconds) s" }
        return out
    }
}

/// Failures of the client itself: configuration it cannot use, a request the least-privilege table
/// does not allow, a server it cannot reach or an answer it cannot read.
public enum KubeClientError: Error, Sendable, Equatable, CustomStringConvertible {
    case configuration(String)
    /// The request needs a permission ``LeastPrivilege`` does not list; it was not sent.
    case notInPermissionTable(Permission)
    /// An object without what a request needs (`apiVersion`, `kind`, `metadata.name`, a known kind).
    case badObject(String)
    /// The server could not be reached, or the connection broke.
    case transport(method: String, url: String, message: String)
    /// The server answered with something that is not the JSON the API defines.
    case unexpectedResponse(method: String, path: String, message: String)

    public var description: String {
        switch self {
        case .configuration(let message):
            "Kubernetes client configuration: \(message)"
        case .notInPermissionTable(let permission):
            "the lab-runner may not \(permission): it is not in the least-privilege table (LeastPrivilege.rules) "
                + "nor in manifests/lab-runner's ClusterRole; add it to both if the backend really needs it"
        case .badObject(let message):
            "cannot send this object to Kubernetes: \(message)"
        case .transport(let method, let url, let message):
            "\(method) \(url): could not talk to the API server: \(message)"
        case .unexpectedResponse(let method, let path, let message):
            "\(method) \(path): the API server's answer is not what the Kubernetes API defines: \(message)"
        }
    }
}
