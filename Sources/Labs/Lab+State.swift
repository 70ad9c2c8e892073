/// The namespace states a lab's checks are graded in: start, then the steps' solutions in order
/// (a later object replaces an earlier one of the same kind and name, as `labctl apply` does).
extension Lab {
    /// The step after which a check is graded.
    public func step(ofCheck checkID: String) -> Step? {
        steps.first { $0.checkIDs.contains(checkID) }
    }

    /// Start files plus the solutions of every step before `stepID` (the state a learner is in
    /// when beginning that step).
    public func files(before stepID: String) -> [String] {
        var files = startFiles
        for step in steps {
            if step.id == stepID { break }
            files += step.solutionFiles
        }
        return files
    }

    /// The files that make `checkID` pass: start plus the solutions up to and including its step.
    public func solvedFiles(forCheck checkID: String) -> [String] {
        guard let step = step(ofCheck: checkID) else { return startFiles + solutionFiles }
        return files(before: step.id) + step.solutionFiles
    }

    /// The files of the state `wrong` produces: the state before its check's step plus the wrong
    /// manifests (left out when Istio refuses them, since then nothing of them is applied).
    public func files(for wrong: WrongConfig) -> [String] {
        let before = step(ofCheck: wrong.checkID).map { files(before: $0.id) } ?? startFiles
        return wrong.refused ? before : before + wrong.files
    }
}
