import Grading

/// One workshop lab as loaded from `labs/NN-slug/`: its texts, steps, checks and the manifests
/// that start it, solve it and get it wrong on purpose.
///
/// Paths are the lab folder joined with the file's path inside it, in apply order.
public struct Lab: Sendable {
    /// The folder name, e.g. `02-fault-injection`.
    public var id: String
    public var title: LocalizedText
    public var summary: LocalizedText
    public var steps: [Step]
    /// Every check, in the order of `lab.yaml`.
    public var checks: [Check]
    /// The lab's folder.
    public var directory: String
    /// The namespace's whole starting state (`start/`), applied by `labctl lab start`.
    public var startFiles: [String]
    /// Every step's reference manifests, in step order (what `labctl solve` applies on top of the start).
    public var solutionFiles: [String]
    public var wrong: [WrongConfig]
    /// Namespace labels when the lab starts (lab 00 starts without `istio-injection`).
    public var startLabels: [String: String]
    /// Namespace labels once solved (pods are restarted when injection changes).
    public var solutionLabels: [String: String]

    public init(
        id: String, title: LocalizedText, summary: LocalizedText, steps: [Step], checks: [Check], directory: String,
        startFiles: [String], solutionFiles: [String], wrong: [WrongConfig], startLabels: [String: String],
        solutionLabels: [String: String]
    ) {
        self.id = id
        self.title = title
        self.summary = summary
        self.steps = steps
        self.checks = checks
        self.directory = directory
        self.startFiles = startFiles
        self.solutionFiles = solutionFiles
        self.wrong = wrong
        self.startLabels = startLabels
        self.solutionLabels = solutionLabels
    }

    /// One step: a bilingual page and, where the step changes the configuration, its solution.
    public struct Step: Sendable, Equatable {
        public var id: String
        public var title: LocalizedText
        /// The page text (Markdown) in both languages.
        public var page: LocalizedText
        /// Where the page lives, without language and extension, e.g. `steps/01-delay`.
        public var pagePath: String
        /// The manifests that solve this step (applied after the previous steps' solutions).
        public var solutionFiles: [String]
        /// The checks graded once this step is done.
        public var checkIDs: [String]

        public init(id: String, title: LocalizedText, page: LocalizedText, pagePath: String, solutionFiles: [String], checkIDs: [String]) {
            self.id = id
            self.title = title
            self.page = page
            self.pagePath = pagePath
            self.solutionFiles = solutionFiles
            self.checkIDs = checkIDs
        }

        /// The page text (same as ``page``).
        public var markdown: LocalizedText { page }
    }
}

/// A known-wrong configuration (`wrong/NAME/`): applied in place of the solution of its check's
/// step, that check must fail and its explanation must contain `diagnosis`.
public struct WrongConfig: Sendable, Equatable {
    /// Where the explanation of the failure comes from.
    public enum Source: String, Sendable, Equatable {
        /// The analyzer (`labctl analyze`) reports it.
        case analysis
        /// The analyzer has nothing to say; the grader finds it by following the failed request's
        /// route (the rule that sent it where it went).
        case route
    }

    public var name: String
    public var directory: String
    /// The manifests (every YAML file of the folder but `expect.yaml`), sorted by name.
    public var files: [String]
    public var checkID: String
    /// A phrase the failing check's first cause must contain.
    public var diagnosis: String
    /// Istio refuses these manifests at apply time (nothing of them is applied).
    public var refused: Bool
    public var explainedBy: Source
    /// Namespace labels for this case; nil means the lab's solution labels.
    public var namespaceLabels: [String: String]?

    public init(
        name: String, directory: String, files: [String], checkID: String, diagnosis: String, refused: Bool = false,
        explainedBy: Source = .analysis, namespaceLabels: [String: String]? = nil
    ) {
        self.name = name
        self.directory = directory
        self.files = files
        self.checkID = checkID
        self.diagnosis = diagnosis
        self.refused = refused
        self.explainedBy = explainedBy
        self.namespaceLabels = namespaceLabels
    }
}
