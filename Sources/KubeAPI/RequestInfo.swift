/// A resource request decoded once from its method and path, as the Kubernetes API server's
/// RequestInfoFactory does: verb, group/version/resource, namespace, name and subresource.
public struct RequestInfo: Sendable, Equatable {
    public enum Verb: String, Sendable {
        case get, list, watch, create, update, patch, delete, deletecollection
    }

    public var verb: Verb
    public var group: String
    public var version: String
    public var resource: APIResource
    public var namespace: String?
    public var name: String?
    public var subresource: String?

    /// What a path names, when it is not a resource request.
    public enum Other: Sendable, Equatable {
        case version, api, apiVersion(String), apis, apiGroup(String), groupVersion(String, String)
        case openAPIv2, openAPIv3Index, openAPIv3(String)
        case notFound
    }

    /// Decodes `/api/v1/namespaces/{ns}/pods/{name}/log` and the like.
    ///
    /// - Parameters:
    ///   - method: the HTTP method.
    ///   - path: the path without the query.
    ///   - watch: whether `?watch=true` was given (a list becomes a watch).
    /// - Returns: the request, or what else the path names.
    public static func decode(method: String, path: String, watch: Bool) -> Result<RequestInfo, DecodeFailure> {
        let segments = path.split(separator: "/").map(String.init)
        var rest: ArraySlice<String>
        let group: String
        let version: String
        switch segments.first {
        case "api":
            guard segments.count >= 2 else { return .failure(.other(.api)) }
            group = ""
            version = segments[1]
            rest = segments.dropFirst(2)
            if rest.isEmpty { return .failure(.other(.apiVersion(version))) }
        case "apis":
            if segments.count == 1 { return .failure(.other(.apis)) }
            if segments.count == 2 { return .failure(.other(.apiGroup(segments[1]))) }
            group = segments[1]
            version = segments[2]
            rest = segments.dropFirst(3)
            if rest.isEmpty { return .failure(.other(.groupVersion(group, version))) }
        case "version":
            return .failure(.other(.version))
        case "openapi":
            if segments.count == 2, segments[1] == "v2" { return .failure(.other(.openAPIv2)) }
            if segments.count == 2, segments[1] == "v3" { return .failure(.other(.openAPIv3Index)) }
            if segments.count > 2, segments[1] == "v3" { return .failure(.other(.openAPIv3(segments.dropFirst(2).joined(separator: "/")))) }
            return .failure(.other(.notFound))
        default:
            return .failure(.other(.notFound))
        }
        var namespace: String?
        if rest.first == "namespaces", rest.count >= 3 {
            namespace = rest[rest.startIndex + 1]
            rest = rest.dropFirst(2)
        }
        let plural = rest.first!
        guard let resource = APIResources.resource(group: group, version: version, plural: plural) else {
            return .failure(.unknownResource(group: group, version: version, plural: plural))
        }
        rest = rest.dropFirst()
        let name = rest.first
        let subresource = rest.count > 1 ? rest[rest.startIndex + 1] : nil
        if !resource.namespaced, resource.plural != "namespaces", namespace != nil {
            return .failure(.other(.notFound))
        }
        let verb: Verb
        switch (method, name) {
        case ("GET", nil), ("HEAD", nil): verb = watch ? .watch : .list
        case ("GET", _), ("HEAD", _): verb = watch ? .watch : .get
        case ("POST", _): verb = .create
        case ("PUT", _): verb = .update
        case ("PATCH", _): verb = .patch
        case ("DELETE", nil): verb = .deletecollection
        case ("DELETE", _): verb = .delete
        default: return .failure(.methodNotAllowed)
        }
        return .success(
            RequestInfo(
                verb: verb, group: group, version: version, resource: resource, namespace: resource.namespaced ? namespace : nil,
                name: name, subresource: subresource))
    }

    public enum DecodeFailure: Error, Sendable, Equatable {
        case other(Other)
        case unknownResource(group: String, version: String, plural: String)
        case methodNotAllowed
    }
}
