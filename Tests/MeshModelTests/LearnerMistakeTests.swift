import Testing

@testable import MeshModel

/// Mistakes as a new learner writes them: each must give one clear error naming file, object and field.
@Suite("First mistakes give one clear error")
struct LearnerMistakeTests {
    @Test("bad indentation gives a YAML error with line and column")
    func badIndentation() {
        let yaml = """
            apiVersion: networking.istio.io/v1alpha3
            kind: VirtualService
            metadata:
              name: reviews
             spec:
              hosts:
              - reviews
            """
        #expect {
            _ = try ManifestLoader.load(yaml, file: "reviews-v2.yaml")
        } throws: { error in
            guard let error = error as? ManifestError else { return false }
            return error.file == "reviews-v2.yaml" && error.message.contains("line 5") && error.message.contains("column")
                && error.message.contains("indentation")
        }
    }

    @Test("an unknown kind is named, with the supported kinds")
    func unknownKind() throws {
        let object = try Fixtures.object(
            """
            apiVersion: networking.istio.io/v1alpha3
            kind: VirtualRoute
            metadata:
              name: reviews
            spec:
              hosts: [reviews]
            """, file: "my-route.yaml")
        let found = Validation.validate(object)
        try #require(found.count == 1)
        #expect(found[0].severity == .error)
        #expect(found[0].description.hasPrefix("Error [MD0002] my-route.yaml (document 1): VirtualRoute/reviews: kind: unknown kind 'VirtualRoute'"))
        #expect(found[0].message.contains("VirtualService"))
    }

    @Test("a misspelt field suggests the right one")
    func misspeltWeight() throws {
        let object = try Fixtures.object(
            """
            apiVersion: networking.istio.io/v1alpha3
            kind: VirtualService
            metadata:
              name: reviews
            spec:
              hosts:
              - reviews
              http:
              - route:
                - destination:
                    host: reviews
                    subset: v1
                  weigth: 50
                - destination:
                    host: reviews
                    subset: v3
                  weight: 50
            """, file: "reviews-50-v3.yaml")
        let found = Validation.validate(object)
        try #require(found.count == 1, "\(found)")
        #expect(found[0].file == "reviews-50-v3.yaml")
        #expect(found[0].object == "VirtualService/reviews")
        #expect(found[0].field == "spec.http[0].route[0].weigth")
        #expect(found[0].message.contains("did you mean 'weight'"))
    }

    @Test("weights that add up to 0 are refused with the way to write a split")
    func zeroWeights() throws {
        let object = try Fixtures.object(
            """
            apiVersion: networking.istio.io/v1alpha3
            kind: VirtualService
            metadata:
              name: reviews
            spec:
              hosts:
              - reviews
              http:
              - route:
                - destination:
                    host: reviews
                    subset: v1
                  weight: 0
                - destination:
                    host: reviews
                    subset: v3
                  weight: 0
            """, file: "split.yaml")
        let found = Validation.validate(object)
        try #require(found.count == 1, "\(found)")
        #expect(found[0].severity == .error)
        #expect(found[0].object == "VirtualService/reviews")
        #expect(found[0].field == "spec.http[0].route")
        #expect(found[0].message.contains("weight: 50 on each"))
    }

    @Test("a destination without host names the missing field")
    func missingHost() throws {
        let object = try Fixtures.object(
            """
            apiVersion: networking.istio.io/v1alpha3
            kind: VirtualService
            metadata:
              name: reviews
            spec:
              hosts:
              - reviews
              http:
              - route:
                - destination:
                    subset: v2
            """, file: "reviews-v2.yaml")
        let found = Validation.validate(object)
        try #require(found.count == 1, "\(found)")
        #expect(found[0].file == "reviews-v2.yaml")
        #expect(found[0].field == "spec.http[0].route[0].destination.host")
        #expect(found[0].message.contains("missing"))
    }

    @Test("a DestinationRule without host names the missing field")
    func missingRuleHost() throws {
        let object = try Fixtures.object(
            """
            apiVersion: networking.istio.io/v1alpha3
            kind: DestinationRule
            metadata:
              name: reviews
            spec:
              subsets:
              - name: v1
                labels:
                  version: v1
            """, file: "dr.yaml")
        let found = Validation.validate(object)
        try #require(found.count == 1, "\(found)")
        #expect(found[0].description == "Error [MD0001] dr.yaml (document 1): DestinationRule/reviews: spec.host: missing: a DestinationRule needs the host of a service, such as reviews")
    }

    @Test("a huge number is reported, not a crash")
    func hugeNumber() throws {
        let object = try Fixtures.object(
            virtualService("- route:\n  - destination: {host: reviews, subset: v1}\n    weight: 99999999999999999999999"))
        let found = Validation.validate(object)
        #expect(found.map(\.field) == ["spec.http[0].route[0].weight"])
        #expect(found.first?.message.contains("too large") == true)
    }
}
