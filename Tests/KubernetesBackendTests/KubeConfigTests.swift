import Foundation
import HummingbirdTLS
@testable import KubernetesBackend
import MeshModel
import Testing

@Suite("kubeconfig, in-cluster configuration and TLS")
struct KubeConfigTests {
    static let kubeconfig = """
        apiVersion: v1
        kind: Config
        current-context: instructor
        clusters:
        - name: runner
          cluster:
            server: https://127.0.0.1:6443
            certificate-authority-data: \(Data("CA-PEM".utf8).base64EncodedString())
        - name: lab
          cluster:
            server: https://lab.example.test:6443/
            certificate-authority: certs/ca.crt
        - name: insecure
          cluster:
            server: https://127.0.0.1:7443
            insecure-skip-tls-verify: true
        users:
        - name: instructor
          user:
            token: abc123
        - name: rotating
          user:
            tokenFile: tokens/current
        - name: cert
          user:
            client-certificate: certs/client.crt
            client-key-data: \(Data("KEY-PEM".utf8).base64EncodedString())
        - name: plugin
          user:
            exec:
              command: aws
        contexts:
        - name: instructor
          context: {cluster: runner, user: instructor, namespace: meshdojo}
        - name: lab
          context: {cluster: lab, user: rotating}
        - name: cert
          context: {cluster: lab, user: cert}
        - name: insecure
          context: {cluster: insecure, user: instructor}
        - name: plugin
          context: {cluster: runner, user: plugin}
        - name: dangling
          context: {cluster: nowhere, user: instructor}
        """

    @Test("the current context unless --context names another; CA data or file, token or token file, client certificate")
    func contexts() throws {
        let directory = try temporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory + "/certs", withIntermediateDirectories: true)
        try "CA-FILE".write(toFile: directory + "/certs/ca.crt", atomically: true, encoding: .utf8)
        try "CERT-FILE".write(toFile: directory + "/certs/client.crt", atomically: true, encoding: .utf8)
        try Self.kubeconfig.write(toFile: directory + "/config", atomically: true, encoding: .utf8)

        let current = try KubeConfig.load(kubeconfig: directory + "/config")
        #expect(current.server == "https://127.0.0.1:6443")
        #expect(current.namespace == "meshdojo")
        #expect(current.certificateAuthorityPEM == Array("CA-PEM".utf8))
        #expect(current.credentials == .token("abc123"))
        #expect(!current.insecureSkipTLSVerify)

        let lab = try KubeConfig.load(kubeconfig: directory + "/config", context: "lab")
        #expect(lab.server == "https://lab.example.test:6443/")
        #expect(lab.certificateAuthorityPEM == Array("CA-FILE".utf8))
        #expect(lab.credentials == .tokenFile(directory + "/tokens/current"))
        #expect(lab.namespace == nil)

        let cert = try KubeConfig.load(kubeconfig: directory + "/config", context: "cert")
        #expect(cert.clientCertificatePEM == Array("CERT-FILE".utf8))
        #expect(cert.clientKeyPEM == Array("KEY-PEM".utf8))
        #expect(cert.credentials == .none)

        #expect(try KubeConfig.load(kubeconfig: directory + "/config", context: "insecure").insecureSkipTLSVerify)

        let plugin = try #require(throws: KubeClientError.self) { try KubeConfig.load(kubeconfig: directory + "/config", context: "plugin") }
        #expect(plugin.description.contains("exec or auth-provider plugin"))
        let missing = try #require(throws: KubeClientError.self) { try KubeConfig.load(kubeconfig: directory + "/config", context: "nope") }
        #expect(missing.description.contains("no context named \"nope\""))
        #expect(missing.description.contains("instructor, lab, cert"))
        let dangling = try #require(throws: KubeClientError.self) { try KubeConfig.load(kubeconfig: directory + "/config", context: "dangling") }
        #expect(dangling.description.contains("no cluster named \"nowhere\""))
        let absent = try #require(throws: KubeClientError.self) { try KubeConfig.load(kubeconfig: directory + "/absent") }
        #expect(absent.description.contains("cannot read the kubeconfig"))
    }

    @Test("in a pod: the service host and port, the mounted token (as a file, re-read), CA and namespace")
    func inCluster() throws {
        let directory = try temporaryDirectory()
        try "token-1".write(toFile: directory + "/token", atomically: true, encoding: .utf8)
        try "CA".write(toFile: directory + "/ca.crt", atomically: true, encoding: .utf8)
        try "meshdojo\n".write(toFile: directory + "/namespace", atomically: true, encoding: .utf8)
        let config = try KubeConfig.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"], serviceAccountDirectory: directory)
        #expect(config.server == "https://10.96.0.1:443")
        #expect(config.namespace == "meshdojo")
        #expect(config.credentials == .tokenFile(directory + "/token"))
        #expect(config.certificateAuthorityPEM == Array("CA".utf8))
        let ipv6 = try KubeConfig.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"], serviceAccountDirectory: directory)
        #expect(ipv6.server == "https://[fd00::1]:443")
        let outside = try #require(throws: KubeClientError.self) {
            try KubeConfig.inCluster(environment: [:], serviceAccountDirectory: directory)
        }
        #expect(outside.description.contains("not running in a Kubernetes pod"))
        let noKubeconfig = try #require(throws: KubeClientError.self) { try KubeConfig.resolve(kubeconfig: nil, environment: [:]) }
        #expect(noKubeconfig.description.contains("give a kubeconfig with --kubeconfig"))
    }

    static func pem(_ name: String) throws -> [UInt8] {
        Array(try #require(FileManager.default.contents(atPath: resource("tls/\(name)"))))
    }

    static func serverTLS(requireClientCertificate: Bool = false) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(try pem("server.crt")).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: try pem("server.key"), format: .pem)))
        if requireClientCertificate {
            tls.certificateVerification = .noHostnameVerification
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(try pem("ca.crt")))
        }
        return tls
    }

    @Test("TLS trusts exactly the kubeconfig's CA: its server certificate passes, another CA's trust fails")
    func trustsExactlyTheGivenCA() async throws {
        try await withAPIServer(tls: try Self.serverTLS(), { _ in .json(#"{"metadata":{"name":"default"}}"#) }) { port, log in
            let server = "https://127.0.0.1:\(port)"
            let trusted = try KubeClient(config: KubeConfig(server: server, certificateAuthorityPEM: try Self.pem("ca.crt"), credentials: .token("t")))
            #expect(try await trusted.get(.namespaces, namespace: nil, name: "default")["metadata"]?["name"] == "default")

            var other = try KubeClient(config: KubeConfig(server: server, certificateAuthorityPEM: try Self.pem("other-ca.crt"), credentials: .token("t")))
            other.timeout = .seconds(2)
            let refused = try await #require(throws: KubeClientError.self) { _ = try await other.get(.namespaces, namespace: nil, name: "default") }
            #expect(refused.description.contains("is not signed by the certificate authority"), "\(refused)")
            guard case .transport = refused else {
                Issue.record("expected a transport (TLS) error, got \(refused)")
                return
            }

            let insecure = try KubeClient(config: KubeConfig(server: server, insecureSkipTLSVerify: true, credentials: .token("t")))
            _ = try await insecure.get(.namespaces, namespace: nil, name: "default")
            #expect(log.all.count == 2)
        }
    }

    @Test("a client certificate from the kubeconfig is presented to a server that asks for one")
    func clientCertificate() async throws {
        try await withAPIServer(tls: try Self.serverTLS(requireClientCertificate: true), { _ in .json("{}") }) { port, log in
            let server = "https://127.0.0.1:\(port)"
            let withCertificate = try KubeClient(config: KubeConfig(
                server: server, certificateAuthorityPEM: try Self.pem("ca.crt"),
                clientCertificatePEM: try Self.pem("client.crt"), clientKeyPEM: try Self.pem("client.key")))
            _ = try await withCertificate.get(.namespaces, namespace: nil, name: "default")
            let without = try KubeClient(config: KubeConfig(server: server, certificateAuthorityPEM: try Self.pem("ca.crt")))
            _ = try await #require(throws: (any Error).self) { _ = try await without.get(.namespaces, namespace: nil, name: "default") }
            #expect(log.all.count == 1)
        }
    }

    @Test("a CA that is not PEM is refused when the client is made")
    func badCA() {
        let error = #expect(throws: KubeClientError.self) {
            _ = try KubeClient(config: KubeConfig(server: "https://127.0.0.1:1", certificateAuthorityPEM: Array("not a certificate".utf8)))
        }
        #expect(error?.description.contains("not a PEM certificate") == true)
    }
}
