import MeshModel

/// Short OpenAPI schemas of the built-in kinds the workshop uses, enough for `kubectl explain
/// pod.spec` to answer; fields not listed are kept as they are written.
enum BuiltinSchemas {
    static func field(_ type: String, _ description: String) -> Value {
        ["type": .string(type), "description": .string(description)]
    }

    static func open(_ description: String, properties: [(String, Value)] = []) -> Value {
        var value: Value = ["type": "object", "description": .string(description), "x-kubernetes-preserve-unknown-fields": true]
        if !properties.isEmpty { value["properties"] = .object(properties) }
        return value
    }

    static let stringMap: Value = ["type": "object", "additionalProperties": ["type": "string", "default": ""]]

    static let objectMeta: Value = [
        "type": "object",
        "description": "ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.",
        "properties": [
            "name": field("string", "Name must be unique within a namespace."),
            "namespace": field("string", "Namespace defines the space within which each name must be unique."),
            "labels": ["type": "object", "additionalProperties": ["type": "string", "default": ""], "description": "Map of string keys and values that can be used to organize and categorize (scope and select) objects."],
            "annotations": ["type": "object", "additionalProperties": ["type": "string", "default": ""], "description": "Annotations is an unstructured key value map stored with a resource."],
            "uid": field("string", "UID is the unique in time and space value for this object."),
            "resourceVersion": field("string", "An opaque value that represents the internal version of this object, used for optimistic concurrency."),
            "generation": ["type": "integer", "format": "int64", "description": "A sequence number representing a specific generation of the desired state."],
            "creationTimestamp": field("string", "CreationTimestamp is a timestamp representing the server time when this object was created."),
            "ownerReferences": ["type": "array", "description": "List of objects depended by this object.", "items": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]],
            "managedFields": ["type": "array", "description": "ManagedFields maps workflow-id and version to the set of fields that are managed by that workflow.", "items": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]],
            "generateName": field("string", "GenerateName is an optional prefix, used by the server, to generate a unique name."),
            "finalizers": ["type": "array", "items": ["type": "string"], "description": "Must be empty before the object is deleted from the registry."],
        ],
    ]

    static let containers: Value = [
        "type": "array", "description": "List of containers belonging to the pod.",
        "items": open("A single application container that you want to run within a pod.", properties: [
            ("name", field("string", "Name of the container specified as a DNS_LABEL.")),
            ("image", field("string", "Container image name.")),
            ("imagePullPolicy", field("string", "Image pull policy: Always, Never, IfNotPresent.")),
            ("ports", ["type": "array", "description": "List of ports to expose from the container.", "items": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]]),
            ("env", ["type": "array", "description": "List of environment variables to set in the container.", "items": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]]),
            ("args", ["type": "array", "items": ["type": "string"], "description": "Arguments to the entrypoint."]),
            ("command", ["type": "array", "items": ["type": "string"], "description": "Entrypoint array."]),
        ]),
    ]

    static let podSpec = open("PodSpec is a description of a pod.", properties: [
        ("containers", containers),
        ("serviceAccountName", field("string", "ServiceAccountName is the name of the ServiceAccount to use to run this pod.")),
        ("volumes", ["type": "array", "description": "List of volumes that can be mounted by containers belonging to the pod.", "items": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]]),
    ])

    static let template = open("Template describes the pods that will be created.", properties: [
        ("metadata", ["allOf": [["$ref": .string("#/components/schemas/\(OpenAPI.objectMeta)")]], "default": [:], "description": "Standard object's metadata."]),
        ("spec", podSpec),
    ])

    static let selector = open("A label query over pods that should match the replica count.", properties: [
        ("matchLabels", ["type": "object", "additionalProperties": ["type": "string", "default": ""], "description": "matchLabels is a map of {key,value} pairs."]),
    ])

    static func schema(_ kind: String) -> Value {
        switch kind {
        case "Pod":
            open("Pod is a collection of containers that can run on a host.", properties: [
                ("spec", podSpec), ("status", open("Most recently observed status of the pod.")),
            ])
        case "Service":
            open("Service is a named abstraction of software service (for example, mysql) consisting of local port (for example 3306) that the proxy listens on, and the selector that determines which pods will answer requests sent through the proxy.", properties: [
                ("spec", open("ServiceSpec describes the attributes that a user creates on a service.", properties: [
                    ("ports", ["type": "array", "description": "The list of ports that are exposed by this service.", "items": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]]),
                    ("selector", ["type": "object", "additionalProperties": ["type": "string", "default": ""], "description": "Route service traffic to pods with label keys and values matching this selector."]),
                    ("type", field("string", "type determines how the Service is exposed: ClusterIP, NodePort, LoadBalancer or ExternalName.")),
                ])),
                ("status", open("Most recently observed status of the service.")),
            ])
        case "Deployment":
            open("Deployment enables declarative updates for Pods and ReplicaSets.", properties: [
                ("spec", open("DeploymentSpec is the specification of the desired behavior of the Deployment.", properties: [
                    ("replicas", ["type": "integer", "format": "int32", "description": "Number of desired pods. Defaults to 1."]),
                    ("selector", selector), ("template", template),
                ])),
                ("status", open("Most recently observed status of the Deployment.")),
            ])
        case "ReplicaSet":
            open("ReplicaSet ensures that a specified number of pod replicas are running at any given time.", properties: [
                ("spec", open("Spec defines the specification of the desired behavior of the ReplicaSet.", properties: [
                    ("replicas", ["type": "integer", "format": "int32", "description": "Replicas is the number of desired replicas."]),
                    ("selector", selector), ("template", template),
                ])),
                ("status", open("Status is the most recently observed status of the ReplicaSet.")),
            ])
        case "Namespace":
            open("Namespace provides a scope for Names.", properties: [("spec", open("Spec defines the behavior of the Namespace.")), ("status", open("Status describes the current status of a Namespace."))])
        case "ServiceAccount":
            open("ServiceAccount binds together: a name, understood by users, and perhaps by peripheral systems, for an identity; a principal that can be authenticated and authorized; a set of secrets.")
        case "ConfigMap":
            open("ConfigMap holds configuration data for pods to consume.", properties: [("data", ["type": "object", "additionalProperties": ["type": "string", "default": ""], "description": "Data contains the configuration data."])])
        case "Secret":
            open("Secret holds secret data of a certain type.", properties: [("data", ["type": "object", "additionalProperties": ["type": "string", "format": "byte"], "description": "Data contains the secret data."]), ("type", field("string", "Used to facilitate programmatic handling of secret data."))])
        case "ResourceQuota":
            open("ResourceQuota sets aggregate quota restrictions enforced per namespace.", properties: [
                ("spec", open("Spec defines the desired quota.", properties: [("hard", ["type": "object", "additionalProperties": ["type": "string"], "description": "hard is the set of desired hard limits for each named resource."])])),
                ("status", open("Status defines the actual enforced quota and its current usage.")),
            ])
        case "LimitRange":
            open("LimitRange sets resource usage limits for each kind of resource in a Namespace.", properties: [
                ("spec", open("Spec defines the limits enforced.", properties: [("limits", ["type": "array", "items": open("LimitRangeItem defines a min/max usage limit for any resource that matches on kind."), "description": "Limits is the list of LimitRangeItem objects that are enforced."])])),
            ])
        case "Role":
            open("Role is a namespaced, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding.", properties: [
                ("rules", ["type": "array", "items": open("PolicyRule holds information that describes a policy rule."), "description": "Rules holds all the PolicyRules for this Role"]),
            ])
        case "RoleBinding":
            open("RoleBinding references a role, but does not contain it.", properties: [
                ("roleRef", open("RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.")),
                ("subjects", ["type": "array", "items": open("Subject contains a reference to the object or user identities a role binding applies to."), "description": "Subjects holds references to the objects the role applies to."]),
            ])
        case "Event":
            open("Event is a report of an event somewhere in the cluster.", properties: [
                ("reason", field("string", "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.")),
                ("message", field("string", "A human-readable description of the status of this operation.")),
                ("type", field("string", "Type of this event (Normal, Warning).")),
                ("involvedObject", open("The object that this event is about.")),
            ])
        default:
            open("\(kind).")
        }
    }
}
