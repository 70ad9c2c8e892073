import Testing

@testable import MeshModel

/// One rule, one small manifest: the field the finding must name and words its message must use.
struct RuleCase: CustomTestStringConvertible, Sendable {
    var name: String
    var yaml: String
    var field: String
    var says: [String]
    var severity: Diagnostic.Severity = .error
    var testDescription: String { name }
}

/// A VirtualService for `reviews` with the given `http:` items (indented as list items under http).
func virtualService(_ http: String, hosts: String = "[reviews]") -> String {
    """
    apiVersion: networking.istio.io/v1alpha3
    kind: VirtualService
    metadata:
      name: reviews
    spec:
      hosts: \(hosts)
      http:
    \(http.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n"))
    """
}

func destinationRule(_ spec: String) -> String {
    """
    apiVersion: networking.istio.io/v1alpha3
    kind: DestinationRule
    metadata:
      name: reviews
    spec:
    \(spec.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
    """
}

func gateway(_ spec: String) -> String {
    """
    apiVersion: networking.istio.io/v1alpha3
    kind: Gateway
    metadata:
      name: bookinfo-gateway
    spec:
    \(spec.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
    """
}

let toV1 = "route:\n  - destination: {host: reviews, subset: v1}"

let ruleCases: [RuleCase] = [
    RuleCase(
        name: "unknown kind names the kind and lists the supported ones",
        yaml: "apiVersion: networking.istio.io/v1\nkind: VirtualServce\nmetadata: {name: reviews}\nspec: {}",
        field: "kind", says: ["VirtualServce", "did you mean 'VirtualService'", "DestinationRule", "Gateway"]),
    RuleCase(
        name: "networking apiVersion outside v1alpha3/v1beta1/v1",
        yaml: "apiVersion: networking.istio.io/v1alpha2\nkind: VirtualService\nmetadata: {name: reviews}\nspec: {hosts: [reviews]}",
        field: "apiVersion", says: ["v1alpha2", "networking.istio.io/v1alpha3"]),
    RuleCase(
        name: "a networking kind in the wrong API group",
        yaml: "apiVersion: v1\nkind: DestinationRule\nmetadata: {name: reviews}\nspec: {host: reviews}",
        field: "apiVersion", says: ["networking.istio.io/v1"]),
    RuleCase(
        name: "VirtualService without hosts",
        yaml: "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews}\nspec:\n  http:\n  - route:\n    - destination: {host: reviews}",
        field: "spec.hosts", says: ["at least one host", "reviews"]),
    RuleCase(
        name: "empty host string", yaml: virtualService("- \(toV1)", hosts: "[\"\"]"),
        field: "spec.hosts[0]", says: ["must not be empty"]),
    RuleCase(
        name: "route together with redirect",
        yaml: virtualService("- \(toV1)\n  redirect: {uri: /v1}"), field: "spec.http[0]", says: ["'route' and 'redirect'", "remove one"]),
    RuleCase(
        name: "route together with directResponse",
        yaml: virtualService("- \(toV1)\n  directResponse: {status: 503}"), field: "spec.http[0]",
        says: ["'route' and 'directResponse'"]),
    RuleCase(
        name: "rewrite together with redirect",
        yaml: virtualService("- redirect: {uri: /v1}\n  rewrite: {uri: /v2}"), field: "spec.http[0].rewrite",
        says: ["'rewrite' cannot be used together with 'redirect'"]),
    RuleCase(
        name: "a rule with neither route, redirect nor directResponse",
        yaml: virtualService("- match:\n  - uri: {prefix: /}"), field: "spec.http[0]", says: ["add a 'route:'", "redirect"]),
    RuleCase(
        name: "negative weight",
        yaml: virtualService("- route:\n  - destination: {host: reviews, subset: v1}\n    weight: -10\n  - destination: {host: reviews, subset: v2}\n    weight: 110"),
        field: "spec.http[0].route[0].weight", says: ["cannot be negative"]),
    RuleCase(
        name: "several destinations whose weights are all missing",
        yaml: virtualService("- route:\n  - destination: {host: reviews, subset: v1}\n  - destination: {host: reviews, subset: v3}"),
        field: "spec.http[0].route", says: ["weights must add up to more than 0", "weight: 50 on each"]),
    RuleCase(
        name: "weights not adding up to 100 is a warning about Istio 1.0.6",
        yaml: virtualService("- route:\n  - destination: {host: reviews, subset: v1}\n    weight: 50\n  - destination: {host: reviews, subset: v3}\n    weight: 60"),
        field: "spec.http[0].route", says: ["add up to 110", "1.0.6"], severity: .warning),
    RuleCase(
        name: "abort httpStatus outside 200-599",
        yaml: virtualService("- fault:\n    abort: {httpStatus: 700, percentage: {value: 100}}\n  \(toV1)"),
        field: "spec.http[0].fault.abort.httpStatus", says: ["700", "between 200 and 599"]),
    RuleCase(
        name: "fault percentage above 100",
        yaml: virtualService("- fault:\n    delay: {fixedDelay: 7s, percentage: {value: 150}}\n  \(toV1)"),
        field: "spec.http[0].fault.delay.percentage.value", says: ["150", "between 0 and 100"]),
    RuleCase(
        name: "legacy integer percent below 0",
        yaml: virtualService("- fault:\n    abort: {httpStatus: 500, percent: -1}\n  \(toV1)"),
        field: "spec.http[0].fault.abort.percent", says: ["between 0 and 100"]),
    RuleCase(
        name: "mirror percentage above 100",
        yaml: virtualService("- \(toV1)\n  mirror: {host: reviews, subset: v2}\n  mirrorPercentage: {value: 101}"),
        field: "spec.http[0].mirrorPercentage.value", says: ["between 0 and 100"]),
    RuleCase(
        name: "invalid uri regex",
        yaml: virtualService("- match:\n  - uri: {regex: \"/api/(v1\"}\n  \(toV1)"),
        field: "spec.http[0].match[0].uri.regex", says: ["not a valid regular expression"]),
    RuleCase(
        name: "invalid header regex",
        yaml: virtualService("- match:\n  - headers:\n      end-user: {regex: \"[jason\"}\n  \(toV1)"),
        field: "spec.http[0].match[0].headers.end-user.regex", says: ["[jason", "not a valid regular expression"]),
    RuleCase(
        name: "invalid query parameter regex",
        yaml: virtualService("- match:\n  - queryParams:\n      user: {regex: \"*x\"}\n  \(toV1)"),
        field: "spec.http[0].match[0].queryParams.user.regex", says: ["not a valid regular expression"]),
    RuleCase(
        name: "header names in upper case",
        yaml: virtualService("- match:\n  - headers:\n      End-User: {exact: jason}\n  \(toV1)"),
        field: "spec.http[0].match[0].headers.End-User", says: ["lower case", "'end-user'"]),
    RuleCase(
        name: "negative timeout",
        yaml: virtualService("- \(toV1)\n  timeout: -1s"), field: "spec.http[0].timeout", says: ["negative"]),
    RuleCase(
        name: "zero timeout", yaml: virtualService("- \(toV1)\n  timeout: 0s"), field: "spec.http[0].timeout",
        says: ["at least 1ms", "leave 'timeout' out"]),
    RuleCase(
        name: "negative perTryTimeout",
        yaml: virtualService("- \(toV1)\n  retries: {attempts: 3, perTryTimeout: -2s}"),
        field: "spec.http[0].retries.perTryTimeout", says: ["negative"]),
    RuleCase(
        name: "negative retry attempts",
        yaml: virtualService("- \(toV1)\n  retries: {attempts: -1}"), field: "spec.http[0].retries.attempts",
        says: ["cannot be negative", "0 to turn retries off"]),
    RuleCase(
        name: "destination port out of range",
        yaml: virtualService("- route:\n  - destination: {host: reviews, port: {number: 90800}}"),
        field: "spec.http[0].route[0].destination.port.number", says: ["90800", "between 1 and 65535"]),
    RuleCase(
        name: "directResponse status out of range",
        yaml: virtualService("- directResponse: {status: 99}"), field: "spec.http[0].directResponse.status",
        says: ["between 200 and 599"]),
    RuleCase(
        name: "DestinationRule without host", yaml: destinationRule("subsets:\n- name: v1\n  labels: {version: v1}"),
        field: "spec.host", says: ["missing", "reviews"]),
    RuleCase(
        name: "DestinationRule with an empty host", yaml: destinationRule("host: \"\""), field: "spec.host",
        says: ["must not be empty"]),
    RuleCase(
        name: "duplicate subset names",
        yaml: destinationRule("host: reviews\nsubsets:\n- name: v1\n  labels: {version: v1}\n- name: v1\n  labels: {version: v2}"),
        field: "spec.subsets[1].name", says: ["'v1' is already defined at spec.subsets[0]"]),
    RuleCase(
        name: "unknown load balancer",
        yaml: destinationRule("host: reviews\ntrafficPolicy:\n  loadBalancer: {simple: round_robin}"),
        field: "spec.trafficPolicy.loadBalancer.simple", says: ["did you mean ROUND_ROBIN", "LEAST_REQUEST"]),
    RuleCase(
        name: "unknown load balancer in a subset",
        yaml: destinationRule("host: reviews\nsubsets:\n- name: v1\n  labels: {version: v1}\n  trafficPolicy:\n    loadBalancer: {simple: FASTEST}"),
        field: "spec.subsets[0].trafficPolicy.loadBalancer.simple", says: ["'FASTEST' is not a load balancer"]),
    RuleCase(
        name: "Gateway without servers", yaml: gateway("selector: {istio: ingressgateway}"), field: "spec.servers",
        says: ["at least one server"]),
    RuleCase(
        name: "Gateway port out of range",
        yaml: gateway("servers:\n- port: {number: 0, name: http, protocol: HTTP}\n  hosts: [\"*\"]"),
        field: "spec.servers[0].port.number", says: ["between 1 and 65535"]),
    RuleCase(
        name: "Gateway server without hosts", yaml: gateway("servers:\n- port: {number: 80, name: http, protocol: HTTP}"),
        field: "spec.servers[0].hosts", says: ["at least one host", "\"*\""]),
]

@Suite("Validation rules")
struct ValidationRuleTests {
    @Test("each rule reports one finding on the right field with a useful message", arguments: ruleCases)
    func rule(_ rule: RuleCase) throws {
        let object = try Fixtures.object(rule.yaml, file: "lab.yaml")
        let found = Validation.validate(object)
        #expect(found.count == 1, "\(found.map(\.description))")
        let finding = try #require(found.first)
        #expect(finding.field == rule.field)
        #expect(finding.severity == rule.severity)
        #expect(finding.file == "lab.yaml")
        #expect(finding.document == 1)
        #expect(finding.object == object.reference)
        for words in rule.says {
            #expect(finding.message.localizedCaseInsensitiveContains(words), "\(finding.message)")
        }
    }

    @Test("valid forms are accepted: subset without labels, catch-all redirect, presence header, single weighted destination")
    func acceptedForms() throws {
        let yamls = [
            destinationRule("host: reviews\nsubsets:\n- name: all"),
            virtualService("- redirect: {uri: /productpage}"),
            virtualService("- match:\n  - headers:\n      end-user: {}\n  \(toV1)"),
            virtualService("- route:\n  - destination: {host: reviews, subset: v1}\n    weight: 30"),
            virtualService("- route:\n  - destination: {host: reviews, subset: v1}\n    weight: 0\n  - destination: {host: reviews, subset: v3}\n    weight: 100"),
            virtualService("- delegate: {name: reviews-routes}"),
        ]
        for yaml in yamls {
            let found = Validation.validate(try Fixtures.object(yaml))
            #expect(found.isEmpty, "\(yaml)\n\(found)")
        }
    }

    @Test("results list errors before warnings")
    func errorsFirst() throws {
        let yaml = virtualService(
            "- route:\n  - destination: {host: reviews, subset: v1}\n    weight: 50\n  - destination: {host: reviews, subset: v3}\n    weight: 60\n  timeout: 0s")
        let found = Validation.validate(try Fixtures.object(yaml))
        #expect(found.map(\.severity) == [.error, .warning])
    }
}
