import Foundation
import Grading
import MeshModel

/// The labs of a `labs/` folder: every sub-folder is one lab (`NN-slug/lab.yaml`).
public enum LabCatalog {
    /// Loads and validates every lab of `directory`.
    ///
    /// - Parameter directory: the `labs/` folder.
    /// - Returns: the labs sorted by id.
    /// - Throws: ``LabError`` for the first problem, naming the file, the lab and the field.
    public static func load(directory: String) throws(LabError) -> [Lab] {
        let display = (directory as NSString).lastPathComponent
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw LabError(file: display, message: "no such folder")
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { name in
            var folder: ObjCBool = false
            let path = (directory as NSString).appendingPathComponent(name)
            return !name.hasPrefix(".") && FileManager.default.fileExists(atPath: path, isDirectory: &folder) && folder.boolValue
        }
        var labs: [Lab] = []
        for name in names.sorted() {
            labs.append(try loadLab(at: (directory as NSString).appendingPathComponent(name), display: "\(display)/\(name)"))
        }
        return labs
    }

    /// Loads one lab folder.
    ///
    /// - Parameters:
    ///   - path: the lab's folder.
    ///   - display: how messages name the folder (`labs/02-fault-injection`).
    public static func loadLab(at path: String, display: String? = nil) throws(LabError) -> Lab {
        let folder = (path as NSString).lastPathComponent
        let display = display ?? folder
        let file = "\(display)/lab.yaml"
        let reader = FieldReader(file: file, lab: folder)
        guard let text = try? String(contentsOfFile: (path as NSString).appendingPathComponent("lab.yaml"), encoding: .utf8) else {
            throw LabError(file: file, lab: folder, message: "missing: every lab folder needs a lab.yaml")
        }
        let documents: [Value]
        do {
            documents = try ManifestLoader.documents(text, file: file)
        } catch {
            throw LabError(file: file, lab: folder, message: error.message)
        }
        guard documents.count == 1 else { throw reader.fail(nil, "must hold exactly one YAML document, found \(documents.count)") }
        let root = Value.object(
            try reader.map(documents[0], "", known: ["id", "title", "summary", "namespaceLabels", "steps", "checks"]))

        let id = try reader.string(root["id"], "id")
        guard id == folder else { throw reader.fail("id", "is '\(id)' but the folder is '\(folder)': they must be the same") }
        let title = try reader.localized(root["title"], "title")
        let summary = try reader.localized(root["summary"], "summary")

        let injected = ["istio-injection": "enabled"]
        var startLabels = injected, solutionLabels = injected
        if let labels = root["namespaceLabels"] {
            let object = Value.object(try reader.map(labels, "namespaceLabels", known: ["start", "solution"]))
            if let start = object["start"] { startLabels = try reader.stringMap(start, "namespaceLabels.start") }
            if let solution = object["solution"] { solutionLabels = try reader.stringMap(solution, "namespaceLabels.solution") }
        }

        let layout = Layout(root: path, display: display, lab: folder)
        var steps = try self.steps(root["steps"], reader, layout)
        guard !steps.isEmpty else { throw reader.fail("steps", "needs at least one step") }

        let parser = CheckParser(reader: reader)
        var checks: [Check] = []
        for (index, item) in try reader.list(root["checks"], "checks").enumerated() {
            let (check, stepID) = try parser.check(item, "checks[\(index)]")
            guard !checks.contains(where: { $0.id == check.id }) else { throw reader.fail("checks[\(index)].id", "'\(check.id)' is used twice") }
            let owner = stepID ?? steps[steps.count - 1].id
            guard let stepIndex = steps.firstIndex(where: { $0.id == owner }) else {
                throw reader.fail("checks[\(index)].step", "names step '\(owner)', which does not exist (steps: \(steps.map(\.id).joined(separator: ", ")))")
            }
            steps[stepIndex].checkIDs.append(check.id)
            checks.append(check)
        }
        guard !checks.isEmpty else { throw reader.fail("checks", "needs at least one check") }

        let startFiles = try layout.manifests(in: "start", required: true)
        let wrong = try self.wrong(layout, checks: checks)
        return Lab(
            id: id, title: title, summary: summary, steps: steps, checks: checks, directory: path, startFiles: startFiles,
            solutionFiles: steps.flatMap(\.solutionFiles), wrong: wrong, startLabels: startLabels, solutionLabels: solutionLabels)
    }

    static func steps(_ value: Value?, _ reader: FieldReader, _ layout: Layout) throws(LabError) -> [Lab.Step] {
        var steps: [Lab.Step] = []
        for (index, item) in try reader.list(value, "steps").enumerated() {
            let path = "steps[\(index)]"
            let object = Value.object(try reader.map(item, path, known: ["id", "title", "page", "solution"]))
            let id = try reader.string(object["id"], "\(path).id")
            guard !steps.contains(where: { $0.id == id }) else { throw reader.fail("\(path).id", "'\(id)' is used twice") }
            let title = try reader.localized(object["title"], "\(path).title")
            let page = try reader.string(object["page"], "\(path).page")
            var texts: [String: String] = [:]
            for language in ["en", "ja"] {
                let relative = "\(page).\(language).md"
                guard let text = try? String(contentsOfFile: layout.path(relative), encoding: .utf8) else {
                    throw reader.fail("\(path).page", "\(layout.display)/\(relative) is missing: every step page needs an English (.en.md) and a Japanese (.ja.md) file")
                }
                guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                    throw reader.fail("\(path).page", "\(layout.display)/\(relative) is empty")
                }
                texts[language] = text
            }
            var solution: [String] = []
            if let folder = object["solution"] {
                let relative = try reader.string(folder, "\(path).solution")
                guard relative.hasPrefix("solution/") else { throw reader.fail("\(path).solution", "must be a folder under solution/, found '\(relative)'") }
                solution = try layout.manifests(in: relative, required: true, field: "\(path).solution")
            }
            steps.append(
                Lab.Step(
                    id: id, title: title, page: LocalizedText(en: texts["en"]!, ja: texts["ja"]!), pagePath: page,
                    solutionFiles: solution, checkIDs: []))
        }
        return steps
    }

    static func wrong(_ layout: Layout, checks: [Check]) throws(LabError) -> [WrongConfig] {
        let wrongFolder = layout.path("wrong")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: wrongFolder)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        var configs: [WrongConfig] = []
        for name in names {
            let relative = "wrong/\(name)"
            let file = "\(layout.display)/\(relative)/expect.yaml"
            let reader = FieldReader(file: file, lab: layout.lab)
            guard let text = try? String(contentsOfFile: layout.path("\(relative)/expect.yaml"), encoding: .utf8) else {
                throw LabError(file: file, lab: layout.lab, message: "missing: every wrong configuration needs an expect.yaml {check, diagnosis}")
            }
            let documents: [Value]
            do {
                documents = try ManifestLoader.documents(text, file: file)
            } catch {
                throw LabError(file: file, lab: layout.lab, message: error.message)
            }
            guard documents.count == 1 else { throw reader.fail(nil, "must hold exactly one YAML document, found \(documents.count)") }
            let object = Value.object(
                try reader.map(documents[0], "", known: ["check", "diagnosis", "refused", "explainedBy", "namespaceLabels"]))
            let checkID = try reader.string(object["check"], "check")
            guard checks.contains(where: { $0.id == checkID }) else {
                throw reader.fail("check", "names check '\(checkID)', which lab.yaml does not define (checks: \(checks.map(\.id).joined(separator: ", ")))")
            }
            let diagnosis = try reader.string(object["diagnosis"], "diagnosis")
            let refused = try object["refused"].map { (item) throws(LabError) in try reader.bool(item, "refused") } ?? false
            var source = WrongConfig.Source.analysis
            if let item = object["explainedBy"] {
                let text = try reader.string(item, "explainedBy")
                guard let parsed = WrongConfig.Source(rawValue: text) else { throw reader.fail("explainedBy", "is '\(text)': write analysis or route") }
                source = parsed
            }
            let labels = try object["namespaceLabels"].map { (item) throws(LabError) in try reader.stringMap(item, "namespaceLabels") }
            let files = try layout.manifests(in: relative, required: true, excluding: "expect.yaml")
            configs.append(
                WrongConfig(
                    name: name, directory: layout.path(relative), files: files, checkID: checkID, diagnosis: diagnosis,
                    refused: refused, explainedBy: source, namespaceLabels: labels))
        }
        return configs
    }

    /// Paths inside one lab folder.
    struct Layout {
        let root: String
        let display: String
        let lab: String

        func path(_ relative: String) -> String { (root as NSString).appendingPathComponent(relative) }

        /// The YAML/JSON files of a folder, sorted by name.
        func manifests(in relative: String, required: Bool, field: String? = nil, excluding: String? = nil) throws(LabError) -> [String] {
            var isDirectory: ObjCBool = false
            let folder = path(relative)
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw LabError(file: field == nil ? "\(display)/\(relative)" : "\(display)/lab.yaml", lab: lab, field: field, message: field == nil ? "missing folder" : "\(display)/\(relative) is not a folder")
            }
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter {
                ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml") || $0.hasSuffix(".json")) && $0 != excluding
            }
            if required, names.isEmpty {
                throw LabError(file: "\(display)/\(relative)", lab: lab, message: "holds no manifests (.yaml, .yml or .json)")
            }
            return names.sorted().map { (folder as NSString).appendingPathComponent($0) }
        }
    }
}

extension LabCatalog {
    /// A lab file's path as the learner sees it (`labs/NN-slug/…`), for findings and causes; the
    /// file's name for anything outside the catalogue. Never the server's own path.
    public static func learnerPath(_ path: String) -> String {
        guard let range = path.range(of: "/labs/", options: .backwards) else { return (path as NSString).lastPathComponent }
        return String(path[path.index(after: range.lowerBound)...])
    }
}
