import HTTPTypes

/// The header lists of spec §1.1: what each service copies from its request onto upstream calls.
public enum PropagatedHeaders {
    /// Headers that every service copies verbatim when present (current bookinfo), without `end-user`.
    public static let tracing: [HTTPField.Name] = [
        "x-request-id", "x-ot-span-context",
        "x-datadog-trace-id", "x-datadog-parent-id", "x-datadog-sampling-priority",
        "traceparent", "tracestate", "x-cloud-trace-context", "grpc-trace-bin",
        "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags",
        "sw8", "user-agent", "cookie", "authorization", "jwt",
    ].map { HTTPField.Name($0)! }

    /// The list details and reviews forward: the tracing headers plus the incoming `end-user`.
    public static let forwardedByBackends: [HTTPField.Name] = tracing + [.endUser]

    /// The headers named in `names` that `incoming` carries, in list order, values untouched.
    public static func pick(_ names: [HTTPField.Name], from incoming: HTTPFields) -> [(String, String)] {
        var out: [(String, String)] = []
        for name in names {
            for value in incoming[values: name] {
                out.append((name.canonicalName, value))
            }
        }
        return out
    }

    /// Translates a lone single-header `b3` context (`traceid-spanid[-sampled[-parentspanid]]`)
    /// into the multi-header form, when no `x-b3-traceid` is present (spec §1.1 B3 note).
    public static func expandB3(_ incoming: HTTPFields) -> [(String, String)] {
        guard incoming[.b3TraceID] == nil, let b3 = incoming[.b3] else { return [] }
        let parts = b3.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, !parts[0].isEmpty, !parts[1].isEmpty else { return [] }
        var out = [("x-b3-traceid", parts[0]), ("x-b3-spanid", parts[1])]
        if parts.count >= 3 {
            out.append(("x-b3-sampled", parts[2] == "d" ? "1" : parts[2]))
        }
        if parts.count >= 4 { out.append(("x-b3-parentspanid", parts[3])) }
        return out
    }
}

extension HTTPField.Name {
    public static let endUser = HTTPField.Name("end-user")!
    public static let requestID = HTTPField.Name("x-request-id")!
    static let b3 = HTTPField.Name("b3")!
    static let b3TraceID = HTTPField.Name("x-b3-traceid")!
}
