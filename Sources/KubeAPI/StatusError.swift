import MeshModel

/// A failed request as Kubernetes reports it: a `metav1.Status` with code, reason, message and
/// the causes (one per field), built in one place as apimachinery's `errors.go` does.
public struct StatusError: Error, Sendable, CustomStringConvertible {
    public struct Cause: Sendable, Equatable {
        public var reason: String
        public var message: String
        public var field: String?

        public init(reason: String = "FieldValueInvalid", message: String, field: String? = nil) {
            self.reason = reason
            self.message = message
            self.field = field
        }
    }

    public var code: Int
    public var reason: String
    public var message: String
    public var details: (name: String?, group: String?, kind: String?)?
    public var causes: [Cause]
    /// Extra response headers (`Retry-After`).
    public var retryAfter: Int?

    public init(code: Int, reason: String, message: String, causes: [Cause] = [], details: (name: String?, group: String?, kind: String?)? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.causes = causes
        self.details = details
    }

    public var description: String { message }

    /// The `Status` object.
    public var status: Value {
        var value: Value = [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure", "message": .string(message),
            "reason": .string(reason), "code": .int(code),
        ]
        var detailValue: Value = [:]
        if let details {
            if let name = details.name { detailValue["name"] = .string(name) }
            if let group = details.group { detailValue["group"] = .string(group) }
            if let kind = details.kind { detailValue["kind"] = .string(kind) }
        }
        if !causes.isEmpty {
            detailValue["causes"] = .array(causes.map { cause in
                var item: Value = ["reason": .string(cause.reason), "message": .string(cause.message)]
                if let field = cause.field { item["field"] = .string(field) }
                return item
            })
        }
        if detailValue != [:] { value["details"] = detailValue }
        return value
    }

    // MARK: the usual ones

    public static func notFound(_ resource: APIResource, _ name: String) -> StatusError {
        StatusError(
            code: 404, reason: "NotFound", message: "\(resource.qualifiedName) \"\(name)\" not found",
            details: (name, resource.group.isEmpty ? nil : resource.group, resource.plural))
    }

    public static func alreadyExists(_ resource: APIResource, _ name: String) -> StatusError {
        StatusError(
            code: 409, reason: "AlreadyExists", message: "\(resource.qualifiedName) \"\(name)\" already exists",
            details: (name, resource.group.isEmpty ? nil : resource.group, resource.plural))
    }

    /// A write based on an old `resourceVersion` (optimistic concurrency).
    public static func conflict(_ resource: APIResource, _ name: String) -> StatusError {
        StatusError(
            code: 409, reason: "Conflict",
            message: "Operation cannot be fulfilled on \(resource.qualifiedName) \"\(name)\": the object has been modified; please apply your changes to the latest version and try again",
            details: (name, resource.group.isEmpty ? nil : resource.group, resource.plural))
    }

    public static func invalid(_ resource: APIResource, _ name: String, _ causes: [Cause]) -> StatusError {
        let list = causes.map { ($0.field.map { "\($0): " } ?? "") + $0.message }.joined(separator: ", ")
        return StatusError(
            code: 422, reason: "Invalid", message: "\(resource.kind) \"\(name)\" is invalid: \(list)", causes: causes,
            details: (name, resource.group.isEmpty ? nil : resource.group, resource.kind))
    }

    /// Refused as Istio's validating webhook refuses an object.
    public static func admissionDenied(_ problems: [String]) -> StatusError {
        StatusError(
            code: 400, reason: "BadRequest",
            message: "admission webhook \"validation.istio.io\" denied the request: configuration is invalid: " + problems.joined(separator: "; "),
            causes: problems.map { Cause(reason: "FieldValueInvalid", message: $0) })
    }

    public static func forbidden(_ message: String) -> StatusError {
        StatusError(code: 403, reason: "Forbidden", message: message)
    }

    public static func unauthorized() -> StatusError {
        StatusError(code: 401, reason: "Unauthorized", message: "Unauthorized")
    }

    public static func badRequest(_ message: String) -> StatusError {
        StatusError(code: 400, reason: "BadRequest", message: message)
    }

    public static func unsupportedMediaType(_ type: String) -> StatusError {
        StatusError(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/apply-patch+yaml, application/merge-patch+json, application/strategic-merge-patch+json, application/json-patch+json (got \(type))")
    }

    public static func methodNotAllowed(_ message: String = "the server does not allow this method on the requested resource") -> StatusError {
        StatusError(code: 405, reason: "MethodNotAllowed", message: message)
    }

    public static func tooManyRequests(_ message: String, retryAfter: Int = 1) -> StatusError {
        var error = StatusError(code: 429, reason: "TooManyRequests", message: message)
        error.retryAfter = retryAfter
        return error
    }

    public static func internalError(_ message: String) -> StatusError {
        StatusError(code: 500, reason: "InternalError", message: "Internal error occurred: \(message)")
    }

    public static func requestTooLarge(_ limit: Int) -> StatusError {
        StatusError(code: 413, reason: "RequestEntityTooLarge", message: "the request body is larger than \(limit) bytes")
    }

    public static func gone(_ message: String) -> StatusError {
        StatusError(code: 410, reason: "Expired", message: message)
    }
}
