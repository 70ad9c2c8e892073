/// A lab folder that cannot be used, with where it is: file, lab and field.
///
/// Reads like `labs/02-fault-injection/lab.yaml: checks[1].expect: unknown expectation 'latncy'`.
public struct LabError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file (or folder) at fault, as `labs/NN-slug/…`.
    public var file: String
    /// The lab's folder name, when the problem is inside one lab.
    public var lab: String?
    /// A field path such as `checks[1].expect`.
    public var field: String?
    public var message: String

    public init(file: String, lab: String? = nil, field: String? = nil, message: String) {
        self.file = file
        self.lab = lab
        self.field = field
        self.message = message
    }

    public var description: String {
        [file, field].compactMap { $0 }.joined(separator: ": ") + ": " + message
    }
}
