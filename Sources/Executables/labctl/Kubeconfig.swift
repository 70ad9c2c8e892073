import ArgumentParser
import Foundation
import MeshModel

/// `labctl kubeconfig`: a kubeconfig for real kubectl against the lab-runner's Kubernetes API
/// (its CA embedded, the learner's token, the learner's namespace), or with `--instructor` the
/// instructor's (read from the state folder, as `labctl down` does).
struct Kubeconfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a kubeconfig for kubectl: labctl kubeconfig > ~/.kube/meshdojo && export KUBECONFIG=~/.kube/meshdojo")
    @Flag(help: "Use the instructor token (from the runner's state folder).") var instructor = false
    @Option(help: "The lab-runner URL.") var server: String?
    @Option(help: "Where the runner keeps its state (default: <project>/.state).") var stateDir: String?

    func run() async throws {
        var token: String?
        if instructor {
            let state = try stateDir ?? (projectHome() + "/.state")
            do {
                token = try String(contentsOfFile: state + "/instructor-token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                throw LabctlError("error: cannot read the instructor token in \(state) (\(error.localizedDescription)); run this where the lab-runner keeps its state, or give --state-dir")
            }
        }
        let client = RunnerClient(server: server, token: token)
        guard let secret = client.token, !secret.isEmpty else {
            throw LabctlError("error: no token: log in first (labctl login --name NAME --event-code CODE), or use --instructor")
        }
        let info = try await client.expectOK(.GET, "/apis/meshdojo.dev/v1/cluster-info")
        // A workshop on a real cluster hands out the kubeconfig of the student's ServiceAccount.
        if let kubeconfig = info["kubeconfig"]?.stringValue {
            print(kubeconfig, terminator: kubeconfig.hasSuffix("\n") ? "" : "\n")
            return
        }
        guard let url = info["server"]?.stringValue, let ca = info["certificateAuthorityData"]?.stringValue else {
            throw LabctlError("error: the lab-runner did not say where its Kubernetes API is")
        }
        let namespace = info["namespace"]?.stringValue ?? "default"
        let user = instructor ? "meshdojo-instructor" : "meshdojo-\(namespace)"
        print(Self.render(server: url, caData: ca, token: secret, namespace: namespace, user: user), terminator: "")
    }

    static func render(server: String, caData: String, token: String, namespace: String, user: String) -> String {
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: meshdojo
          cluster:
            server: \(server)
            certificate-authority-data: \(caData)
        users:
        - name: \(user)
          user:
            token: \(token)
        contexts:
        - name: meshdojo
          context:
            cluster: meshdojo
            user: \(user)
            namespace: \(namespace)
        current-context: meshdojo

        """
    }
}
