/// A finding about the user's configuration: a validation error that refuses the object, or an
/// analysis warning/info that explains behaviour (as `istioctl analyze` does).
public struct Diagnostic: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable, Comparable {
        case error = "Error", warning = "Warning", info = "Info"

        public static func < (lhs: Severity, rhs: Severity) -> Bool {
            let order: [Severity] = [.error, .warning, .info]
            return order.firstIndex(of: lhs)! < order.firstIndex(of: rhs)!
        }
    }

    public var severity: Severity
    /// A stable code, e.g. `IST0101` for Istio's "referenced resource not found" family.
    public var code: String
    public var message: String
    public var file: String?
    public var document: Int?
    /// `Kind/name` (and `.namespace` where useful).
    public var object: String?
    public var field: String?

    public init(
        _ severity: Severity, code: String, _ message: String, file: String? = nil, document: Int? = nil,
        object: String? = nil, field: String? = nil
    ) {
        self.severity = severity
        self.code = code
        self.message = message
        self.file = file
        self.document = document
        self.object = object
        self.field = field
    }

    /// A diagnostic about `object`, located where it was read.
    public init(_ severity: Severity, code: String, _ message: String, about object: KubeObject, field: String? = nil) {
        self.init(
            severity, code: code, message, file: object.source.file, document: object.source.document,
            object: object.reference, field: field)
    }

    public var description: String {
        var location = [String]()
        if let file { location.append(document.map { "\(file) (document \($0))" } ?? file) }
        if let object { location.append(object) }
        if let field { location.append(field) }
        let place = location.isEmpty ? "" : location.joined(separator: ": ") + ": "
        return "\(severity.rawValue) [\(code)] \(place)\(message)"
    }
}
