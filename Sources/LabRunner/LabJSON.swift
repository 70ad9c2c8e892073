import Foundation
import Grading
import Labs
import LabStore
import MeshModel

/// Labs and verdicts as the API returns them.
enum LabJSON {
    static func text(_ text: LocalizedText) -> Value {
        ["en": .string(text.en), "ja": .string(text.ja)]
    }

    static func summary(_ lab: Lab) -> Value {
        [
            "id": .string(lab.id), "title": text(lab.title), "summary": text(lab.summary),
            "steps": .int(lab.steps.count), "checks": .array(lab.checks.map { ["id": .string($0.id), "title": text($0.title)] }),
        ]
    }

    static func detail(_ lab: Lab) -> Value {
        var value = summary(lab)
        value["steps"] = .array(lab.steps.map { ["id": .string($0.id), "title": text($0.title), "page": text($0.page)] })
        return value
    }

    static func verdict(_ verdict: Verdict) -> Value {
        var value: Value = [
            "check": .string(verdict.checkID), "passed": .bool(verdict.passed), "summary": text(verdict.summary),
            "evidence": .array(verdict.evidence.map { .string($0) }), "causes": .array(verdict.causes.map { cause in
                ["en": .string(cause.text.en), "ja": .string(cause.text.ja), "objects": .array(cause.objects.map { .string($0) })]
            }),
            "requests": .int(verdict.requests), "seconds": .double(verdict.seconds),
            "observed": .object(verdict.observed.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) }),
        ]
        if let rate = verdict.falseFailRate { value["falseFailRate"] = .double(rate) }
        if let rate = verdict.falsePassRate { value["falsePassRate"] = .double(rate) }
        return value
    }

    static func record(_ record: VerdictRecord) -> Value {
        [
            "lab": .string(record.labID), "check": .string(record.checkID), "passed": .bool(record.passed),
            "summary": ["en": .string(record.summaryEn), "ja": .string(record.summaryJa)], "requests": .int(record.requests),
            "at": .string(ISO8601DateFormatter().string(from: record.createdAt)),
        ]
    }
}
