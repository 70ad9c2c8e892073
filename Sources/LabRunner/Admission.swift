import Foundation
import KubeAPI
import MeshModel

/// Who may do what, decided once from the decoded request and the parsed objects, never from a
/// body's first bytes: a student acts only in their own namespace, cluster-scoped objects
/// (Namespaces) are the instructor's, and a check that cannot decide refuses.
public enum Admission {
    /// The user name messages give a caller.
    static func user(_ caller: Caller) -> String {
        switch caller {
        case .instructor: "meshdojo:instructor"
        case .student(_, let namespace): "meshdojo:student:\(namespace)"
        }
    }

    /// Refuses a resource request the caller may not make.
    static func authorize(_ info: RequestInfo, caller: Caller) throws(StatusError) {
        guard case .student(_, let own) = caller else { return }
        let resource = info.resource
        func forbidden(_ scope: String) -> StatusError {
            let verb = info.verb.rawValue
            let sub = info.subresource.map { "/\($0)" } ?? ""
            return .forbidden(
                "\(resource.qualifiedName)\(info.name.map { " \"\($0)\"" } ?? "") is forbidden: User \"\(user(caller))\" cannot \(verb) resource \"\(resource.plural)\(sub)\" in API group \"\(resource.group)\"\(scope)")
        }
        if resource.plural == "namespaces" {
            switch info.verb {
            case .list, .watch: return  // filtered to their own namespace
            case .get where info.name == own: return
            // `kubectl label namespace <own> istio-injection=enabled`, as the tutorial does; what
            // the change may touch is checked on the object (``namespaceChange(old:new:caller:)``).
            case .patch where info.name == own, .update where info.name == own: return
            default: throw forbidden(" at the cluster scope: only the instructor creates, changes or deletes namespaces")
            }
        }
        guard let namespace = info.namespace else {
            throw forbidden(" at the cluster scope: use your own namespace (-n \(own))")
        }
        let writes = ![.get, .list, .watch].contains(info.verb)
        if info.subresource == "token" || (instructorKinds.contains(resource.kind) && writes) {
            throw forbidden(" in the namespace \"\(namespace)\": quotas, limits, roles and service-account tokens are the instructor's")
        }
        guard namespace == own else {
            throw forbidden(" in the namespace \"\(namespace)\": you may only use your own namespace \"\(own)\"")
        }
    }

    /// Kinds a student may read in their own namespace but not write: what bounds and grants
    /// their own rights.
    static let instructorKinds: Set<String> = ["ResourceQuota", "LimitRange", "Role", "RoleBinding"]

    /// Labels a student may set on their own namespace.
    static let studentNamespaceLabels: Set<String> = ["istio-injection"]

    /// Why a student may not make this change to their own Namespace (only the
    /// `istio-injection` label may change), or nil.
    static func namespaceChange(old: [String: String], new: [String: String], caller: Caller) -> String? {
        guard caller != .instructor else { return nil }
        let changed = Set(old.keys).union(new.keys).filter { old[$0] != new[$0] }
        let refused = changed.subtracting(studentNamespaceLabels)
        guard refused.isEmpty else {
            return "namespaces is forbidden: a student may only set the istio-injection label of their own namespace, not \(refused.sorted().joined(separator: ", "))"
        }
        return nil
    }

    /// Checks every object a write carries: its namespace is the request's (or unset) and the
    /// caller may write it.
    ///
    /// - Parameters:
    ///   - objects: the parsed objects.
    ///   - namespace: the namespace the request names (objects without one go there).
    ///   - caller: who asks.
    /// - Returns: why not, or nil when every object may be written.
    public static func problem(objects: [KubeObject], namespace: String, caller: Caller) -> String? {
        for object in objects {
            if object.kind == "Namespace" {
                if caller != .instructor { return "\(object.reference): only the instructor creates or changes namespaces" }
                continue
            }
            if instructorKinds.contains(object.kind), caller != .instructor {
                return "\(object.reference): quotas, limits and roles are the instructor's"
            }
            let target = object.metadata.namespace ?? namespace
            if !caller.mayUse(namespace: target) {
                return "\(object.reference): metadata.namespace \"\(target)\" is not your namespace \"\(namespace)\""
            }
            if target != namespace, caller != .instructor {
                return "\(object.reference): the namespace of the object (\(target)) does not match the namespace of the request (\(namespace))"
            }
        }
        return nil
    }
}
