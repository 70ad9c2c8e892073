import Grading
import MeshModel

/// Reads the `checks:` entries of a `lab.yaml` into ``Check`` values.
struct CheckParser {
    let reader: FieldReader

    static let expectationKinds = ["all", "covers", "shares", "latency", "sidecarsInjected"]
    static let outcomeNames = Outcome.allCases.map(\.rawValue)

    /// - Returns: the check and the id of the step it belongs to (nil: not given).
    func check(_ value: Value, _ path: String) throws(LabError) -> (Check, step: String?) {
        let members = try reader.map(value, path, known: ["id", "step", "title", "visitor", "path", "expect", "controls"])
        let object = Value.object(members)
        let id = try reader.string(object["id"], "\(path).id")
        let step = try object["step"].map { (item) throws(LabError) in try reader.string(item, "\(path).step") }
        let title = try reader.localized(object["title"], "\(path).title")
        let visitor = try object["visitor"].map { (item) throws(LabError) in try self.visitor(item, "\(path).visitor") } ?? .anonymous
        let requestPath = try object["path"].map { (item) throws(LabError) in try reader.string(item, "\(path).path") } ?? "/productpage"
        guard requestPath.hasPrefix("/") else { throw reader.fail("\(path).path", "must start with '/', such as /productpage") }
        let expect = try expectation(object["expect"], "\(path).expect")
        var controls: [Check.Control] = []
        if let list = object["controls"] {
            for (index, item) in try reader.list(list, "\(path).controls").enumerated() {
                let controlPath = "\(path).controls[\(index)]"
                let control = Value.object(try reader.map(item, controlPath, known: ["visitor", "expect"]))
                guard control["visitor"] != nil else { throw reader.fail("\(controlPath).visitor", "missing: say who else browses (anonymous or {user: NAME})") }
                controls.append(
                    Check.Control(
                        visitor: try self.visitor(control["visitor"]!, "\(controlPath).visitor"),
                        expect: try expectation(control["expect"], "\(controlPath).expect")))
            }
        }
        return (Check(id: id, title: title, visitor: visitor, path: requestPath, expect: expect, controls: controls), step)
    }

    /// `anonymous` or `{user: jason}`.
    func visitor(_ value: Value, _ path: String) throws(LabError) -> Visitor {
        if case .string(let text) = value {
            guard text == "anonymous" else { throw reader.fail(path, "unknown visitor '\(text)': write anonymous or {user: NAME}") }
            return .anonymous
        }
        let members = try reader.map(value, path, known: ["user"])
        return .user(try reader.string(Value.object(members)["user"], "\(path).user"))
    }

    func outcome(_ value: Value?, _ path: String) throws(LabError) -> Outcome {
        let name = try reader.string(value, path)
        guard let outcome = Outcome(rawValue: name) else {
            let hint = FieldReader.closest(name, in: Self.outcomeNames).map { " (did you mean '\($0)'?)" } ?? ""
            throw reader.fail(path, "unknown outcome '\(name)'\(hint); known outcomes: \(Self.outcomeNames.joined(separator: ", "))")
        }
        return outcome
    }

    func samples(_ object: Value, _ path: String, default fallback: Int) throws(LabError) -> Int {
        guard let value = object["samples"] else { return fallback }
        let count = try reader.int(value, "\(path).samples")
        guard (1...1000).contains(count) else { throw reader.fail("\(path).samples", "is \(count): must be between 1 and 1000") }
        return count
    }

    /// One of `{all: v1, samples: 30}`, `{covers: [v1, v2], samples: 60}`, `{shares: {v1: 0.5, v3: 0.5}}`,
    /// `{latency: reviews-unavailable, min: 5.5, max: 7.0, samples: 1}`, `{sidecarsInjected: true}`.
    func expectation(_ value: Value?, _ path: String) throws(LabError) -> Expectation {
        let members = try reader.map(value, path)
        let kinds = members.map(\.0).filter { !["samples", "min", "max"].contains($0) }
        for key in kinds where !Self.expectationKinds.contains(key) {
            let hint = FieldReader.closest(key, in: Self.expectationKinds).map { " (did you mean '\($0)'?)" } ?? ""
            throw reader.fail(path, "unknown expectation '\(key)'\(hint); known: \(Self.expectationKinds.joined(separator: ", "))")
        }
        guard kinds.count == 1, let kind = kinds.first else {
            throw reader.fail(path, kinds.isEmpty ? "names no expectation: write one of \(Self.expectationKinds.joined(separator: ", "))" : "has several expectations (\(kinds.joined(separator: ", "))): write exactly one")
        }
        let object = Value.object(members)
        let allowed: [String: Set<String>] = [
            "all": ["samples"], "covers": ["samples"], "shares": [], "latency": ["samples", "min", "max"], "sidecarsInjected": [],
        ]
        for key in members.map(\.0) where key != kind && !(allowed[kind]?.contains(key) ?? false) {
            throw reader.fail("\(path).\(key)", "does not apply to '\(kind)'")
        }
        switch kind {
        case "all":
            return .all(try outcome(object["all"], "\(path).all"), samples: try samples(object, path, default: 30))
        case "covers":
            var outcomes = Set<Outcome>()
            for (index, item) in try reader.list(object["covers"], "\(path).covers").enumerated() {
                outcomes.insert(try outcome(item, "\(path).covers[\(index)]"))
            }
            guard outcomes.count >= 2 else { throw reader.fail("\(path).covers", "needs at least two different outcomes (for one, use 'all')") }
            let count = try samples(object, path, default: 60)
            guard count >= outcomes.count else { throw reader.fail("\(path).samples", "is \(count): fewer than the \(outcomes.count) outcomes to cover") }
            return .covers(outcomes, samples: count)
        case "shares":
            var shares: [Outcome: Double] = [:]
            for (key, item) in try reader.map(object["shares"], "\(path).shares") {
                let itemPath = "\(path).shares.\(key)"
                let share = try reader.double(item, itemPath)
                guard share > 0, share < 1 else {
                    throw reader.fail(itemPath, "is \(share): a share must be between 0 and 1 exclusive (for 0 or 1, use 'all')")
                }
                shares[try outcome(.string(key), itemPath)] = share
            }
            guard shares.count >= 2 else { throw reader.fail("\(path).shares", "needs at least two outcomes (for one, use 'all')") }
            let total = shares.values.reduce(0, +)
            guard abs(total - 1) < 1e-9 else { throw reader.fail("\(path).shares", "add up to \(total), not 1") }
            return .shares(shares)
        case "latency":
            let low = try reader.double(object["min"], "\(path).min")
            let high = try reader.double(object["max"], "\(path).max")
            guard low >= 0, high > low else { throw reader.fail(path, "needs 0 ≤ min < max (seconds), found min \(low), max \(high)") }
            return .latency(try outcome(object["latency"], "\(path).latency"), min: low, max: high, samples: try samples(object, path, default: 1))
        default:
            guard try reader.bool(object["sidecarsInjected"], "\(path).sidecarsInjected") else {
                throw reader.fail("\(path).sidecarsInjected", "only 'true' can be checked")
            }
            return .sidecarsInjected
        }
    }
}
