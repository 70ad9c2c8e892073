import Foundation

/// Apply-time validation: the checks that make Istio (or the Kubernetes API server) refuse an
/// object, so that nothing of it is applied.
///
/// Each problem names its field path and says, in plain words, what to write instead.
/// Codes: `MD0001` structure (wrong type, unknown field), `MD0002` unknown kind, `MD0003`
/// unsupported apiVersion, `IST0106` a value Istio refuses, `MD0004` a split whose weights do not
/// add up to 100 (refused by Istio ≤ 1.14, accepted and normalised by current Istio).
public enum Validation {
    public enum Code {
        public static let structure = "MD0001"
        public static let unknownKind = "MD0002"
        public static let unsupportedVersion = "MD0003"
        public static let weightsNot100 = "MD0004"
        public static let schema = "IST0106"
    }

    /// The kinds of the `networking.istio.io` group that MeshDojo reads.
    public static let networkingKinds: Set<String> = ["VirtualService", "DestinationRule", "Gateway", "ServiceEntry"]

    /// Errors that make Istio refuse the object at apply time (nothing is applied), and warnings
    /// about what older Istio refused. Runs the parsers (structural problems) and then the
    /// semantic rules on the typed object.
    ///
    /// - Parameter object: one object as loaded by ``ManifestLoader``.
    /// - Returns: the object's problems, errors first; empty when the object is fine.
    public static func validate(_ object: KubeObject) -> [Diagnostic] {
        if let problem = kindProblem(object) { return [problem] }
        if let problem = versionProblem(object) { return [problem] }
        let namespace = object.metadata.namespace ?? "default"
        var found: [Diagnostic]
        switch object.kind {
        case "VirtualService":
            let (value, problems) = NetworkingParser.virtualService(object, namespace: namespace)
            found = problems + (value.map { check($0, raw: object.spec, object) } ?? [])
        case "DestinationRule":
            let (value, problems) = NetworkingParser.destinationRule(object, namespace: namespace)
            found = problems + (value.map { check($0, object) } ?? [])
        case "Gateway":
            let (value, problems) = NetworkingParser.gateway(object, namespace: namespace)
            found = problems + (value.map { check($0, raw: object.spec, object) } ?? [])
        case "ServiceEntry":
            let (value, problems) = NetworkingParser.serviceEntry(object, namespace: namespace)
            found = problems + (value.map { check($0, object) } ?? [])
        case "Service":
            found = WorkloadParser.service(object, namespace: namespace).1
        case "Deployment":
            found = WorkloadParser.deployment(object, namespace: namespace).1
        default:
            found = []
        }
        return found.enumerated().sorted { ($0.element.severity, $0.offset) < ($1.element.severity, $1.offset) }
            .map(\.element)
    }

    /// Validates every object; a convenience for whole files.
    public static func validate(_ objects: [KubeObject]) -> [Diagnostic] {
        objects.flatMap { validate($0) }
    }

    static func kindProblem(_ object: KubeObject) -> Diagnostic? {
        guard !MeshSnapshot.knownKinds.contains(object.kind) else { return nil }
        let hint = SpecReader.closest(object.kind, in: MeshSnapshot.knownKinds).map { "Did you mean '\($0)'? " } ?? ""
        let supported = MeshSnapshot.knownKinds.sorted().joined(separator: ", ")
        return Diagnostic(
            .error, code: Code.unknownKind,
            "unknown kind '\(object.kind)'. \(hint)MeshDojo supports: \(supported) (kind names are case-sensitive)",
            about: object, field: "kind")
    }

    static func versionProblem(_ object: KubeObject) -> Diagnostic? {
        let versions = NetworkingParser.versions.sorted().map { "networking.istio.io/\($0)" }.joined(separator: ", ")
        if networkingKinds.contains(object.kind), object.group != "networking.istio.io" {
            return Diagnostic(
                .error, code: Code.unsupportedVersion,
                "\(object.kind) belongs to Istio's networking.istio.io API, not '\(object.apiVersion)': write apiVersion: networking.istio.io/v1 (or one of \(versions))",
                about: object, field: "apiVersion")
        }
        if object.group == "networking.istio.io", !NetworkingParser.versions.contains(object.version) {
            return Diagnostic(
                .error, code: Code.unsupportedVersion,
                "apiVersion '\(object.apiVersion)' is not served by Istio: use one of \(versions)",
                about: object, field: "apiVersion")
        }
        return nil
    }

    // MARK: Shared helpers

    /// Collects the problems of one object.
    struct Findings {
        let object: KubeObject
        var list: [Diagnostic] = []

        mutating func error(_ field: String, _ message: String) {
            list.append(Diagnostic(.error, code: Code.schema, message, about: object, field: field))
        }

        mutating func warning(_ field: String, code: String, _ message: String) {
            list.append(Diagnostic(.warning, code: code, message, about: object, field: field))
        }
    }

    static let validPorts = 1...65535

    /// A problem with a regular expression, or nil when it compiles.
    static func regexProblem(_ pattern: String) -> String? {
        do {
            _ = try NSRegularExpression(pattern: pattern)
            return nil
        } catch {
            return "'\(pattern)' is not a valid regular expression (RE2 syntax, matched against the whole value): check brackets, parentheses and escape special characters such as * + ? ( ) [ ] with a backslash"
        }
    }

    /// `12.5` as `12.5`, `50.0` as `50`.
    public static func format(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(format: "%.1f", number)
    }
}
