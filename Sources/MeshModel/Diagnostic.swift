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
    /// The message in Japanese, where it has been written (the English one stands in otherwise).
    public var messageJa: String?
    public var file: String?
    public var document: Int?
    /// `Kind/name` (and `.namespace` where useful).
    public var object: String?
    public var field: String?

    public init(
        _ severity: Severity, code: String, _ message: String, ja: String? = nil, file: String? = nil, document: Int? = nil,
        object: String? = nil, field: String? = nil
    ) {
        self.severity = severity
        self.code = code
        self.message = message
        self.messageJa = ja
        self.file = file
        self.document = document
        self.object = object
        self.field = field
    }

    /// A diagnostic about `object`, located where it was read.
    public init(_ severity: Severity, code: String, _ message: String, ja: String? = nil, about object: KubeObject, field: String? = nil) {
        self.init(
            severity, code: code, message, ja: ja, file: object.source.file, document: object.source.document,
            object: object.reference, field: field)
    }

    public var description: String { line(message, document: "document") }

    /// The same line in Japanese: location as written, the message translated where it has been.
    public var descriptionJa: String { line(messageJa ?? message, document: "ドキュメント") }

    func line(_ text: String, document word: String) -> String {
        var location = [String]()
        if let file { location.append(document.map { "\(file) (\(word) \($0))" } ?? file) }
        if let object { location.append(object) }
        if let field { location.append(field) }
        let place = location.isEmpty ? "" : location.joined(separator: ": ") + ": "
        return "\(severity.rawValue) [\(code)] \(place)\(text)"
    }
}
