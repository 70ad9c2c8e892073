import MeshModel

/// A Kubernetes API verb, as RBAC names it.
public enum KubeVerb: String, Sendable, Hashable, CaseIterable, Comparable {
    case get, list, watch, create, update, patch, delete

    public static func < (lhs: KubeVerb, rhs: KubeVerb) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// One RBAC rule: verbs on resources of one API group.
public struct PermissionRule: Sendable, Hashable {
    public var apiGroup: String
    /// Plurals, or `plural/subresource` (`serviceaccounts/token`).
    public var resources: [String]
    public var verbs: [KubeVerb]
    /// Why the lab-runner holds it.
    public var why: String

    public init(apiGroup: String, resources: [String], verbs: [KubeVerb], why: String) {
        self.apiGroup = apiGroup
        self.resources = resources
        self.verbs = verbs
        self.why = why
    }

    /// The rule as a ClusterRole or Role writes it.
    public var value: Value {
        [
            "apiGroups": .array([.string(apiGroup)]),
            "resources": .array(resources.map { .string($0) }),
            "verbs": .array(verbs.map { .string($0.rawValue) }),
        ]
    }
}

/// One (apiGroup, resource, verb) an RBAC rule allows.
public struct Permission: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var apiGroup: String
    public var resource: String
    public var verb: String

    public init(apiGroup: String, resource: String, verb: String) {
        self.apiGroup = apiGroup
        self.resource = resource
        self.verb = verb
    }

    public static func < (lhs: Permission, rhs: Permission) -> Bool {
        (lhs.apiGroup, lhs.resource, lhs.verb) < (rhs.apiGroup, rhs.resource, rhs.verb)
    }

    public var description: String { "\(verb) \(apiGroup.isEmpty ? resource : resource + "." + apiGroup)" }
}

/// Everything the lab-runner may do in a cluster, as one table.
///
/// ``KubeClient`` refuses any request outside this table before it is sent, and a test checks that
/// `manifests/lab-runner/base/clusterrole.yaml` grants exactly these rules and nothing else, so the
/// runner's code and its ClusterRole cannot drift apart.
///
/// Server-side apply is a PATCH that creates the object when it is missing, so the API server
/// checks both `patch` and `create` for it. Kubernetes also refuses to let the runner grant a
/// student's Role anything the runner does not hold itself (RBAC escalation prevention), so
/// everything ``StudentProvisioning/studentRoleRules`` grants is in this table too — some rows
/// exist for that reason alone, and say so.
public enum LeastPrivilege {
    public static let rules: [PermissionRule] = [
        PermissionRule(
            apiGroup: "", resources: ["namespaces"], verbs: [.get, .list, .create, .patch, .delete],
            why: "a namespace per student: apply it, find students again by label, delete it and wait until it is gone"),
        PermissionRule(
            apiGroup: "", resources: ["serviceaccounts"], verbs: [.get, .create, .patch],
            why: "the student's service account, the gateway's and bookinfo's, by apply"),
        PermissionRule(
            apiGroup: "", resources: ["serviceaccounts/token"], verbs: [.create],
            why: "a student's kubeconfig from the TokenRequest API"),
        PermissionRule(
            apiGroup: "rbac.authorization.k8s.io", resources: ["roles", "rolebindings"], verbs: [.get, .create, .patch],
            why: "the student's Role and RoleBinding in their namespace, by apply"),
        PermissionRule(
            apiGroup: "", resources: ["resourcequotas", "limitranges"], verbs: [.get, .create, .patch],
            why: "quota and defaults sized for bookinfo with sidecars, applied and waited for before workloads"),
        PermissionRule(
            apiGroup: "", resources: ["services"], verbs: [.get, .list, .watch, .create, .patch, .delete],
            why: "bookinfo's services and the student's istio-ingressgateway (its address); list/watch are granted to students"),
        PermissionRule(
            apiGroup: "apps", resources: ["deployments"], verbs: [.get, .list, .watch, .create, .patch, .delete],
            why: "bookinfo and the student's gateway, readiness; istiod's settings; list/watch are granted to students"),
        PermissionRule(
            apiGroup: "apps", resources: ["replicasets"], verbs: [.get, .list, .watch],
            why: "granted to students (read); the runner does not use it"),
        PermissionRule(
            apiGroup: "", resources: ["pods"], verbs: [.get, .list, .watch, .delete],
            why: "readiness and why a pod is not ready; restart pods after the injection label changes"),
        PermissionRule(
            apiGroup: "", resources: ["pods/log"], verbs: [.get],
            why: "granted to students; the runner does not use it"),
        PermissionRule(
            apiGroup: "", resources: ["events"], verbs: [.get, .list, .watch],
            why: "image-pull and quota failures in plain words; granted to students"),
        PermissionRule(
            apiGroup: "networking.istio.io", resources: KubeResource.istioNetworking.map(\.plural),
            verbs: [.get, .list, .watch, .create, .update, .patch, .delete],
            why: "the labs' Istio objects; update is granted to students (kubectl replace) and not used by the runner"),
    ]

    /// Every (apiGroup, resource, verb) the table allows.
    public static let permissions: Set<Permission> = permissions(of: rules)

    /// The (apiGroup, resource, verb) triples of some rules.
    public static func permissions(of rules: [PermissionRule]) -> Set<Permission> {
        var out: Set<Permission> = []
        for rule in rules {
            for resource in rule.resources {
                for verb in rule.verbs { out.insert(Permission(apiGroup: rule.apiGroup, resource: resource, verb: verb.rawValue)) }
            }
        }
        return out
    }

    /// Whether the table allows `verb` on a resource (or one of its subresources).
    public static func allows(_ verb: KubeVerb, _ resource: KubeResource, subresource: String? = nil) -> Bool {
        let name = subresource.map { "\(resource.plural)/\($0)" } ?? resource.plural
        return permissions.contains(Permission(apiGroup: resource.group, resource: name, verb: verb.rawValue))
    }

    /// Throws unless the table allows every verb.
    public static func require(_ verbs: [KubeVerb], _ resource: KubeResource, subresource: String? = nil) throws(KubeClientError) {
        for verb in verbs where !allows(verb, resource, subresource: subresource) {
            let name = subresource.map { "\(resource.plural)/\($0)" } ?? resource.plural
            throw .notInPermissionTable(Permission(apiGroup: resource.group, resource: name, verb: verb.rawValue))
        }
    }

    /// The table as a ClusterRole's `rules`.
    public static var clusterRoleRules: Value { .array(rules.map(\.value)) }
}
