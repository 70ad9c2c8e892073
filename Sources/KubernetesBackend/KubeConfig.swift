import Foundation
import MeshModel
import NIOSSL

/// How to reach one API server and who to be there: a kubeconfig context resolved, or the pod's
/// own service account.
public struct KubeConfig: Sendable {
    /// `https://host:port`, possibly with a path prefix.
    public var server: String
    /// The context's namespace (or the pod's own, in the cluster); nil when none is set.
    public var namespace: String?
    /// PEM of the CA certificates to trust — exactly these, not the system's roots.
    public var certificateAuthorityPEM: [UInt8]?
    public var insecureSkipTLSVerify: Bool
    public var credentials: Credentials
    /// PEM of a client certificate chain and its key, for certificate authentication.
    public var clientCertificatePEM: [UInt8]?
    public var clientKeyPEM: [UInt8]?

    /// How requests authenticate.
    public enum Credentials: Sendable, Equatable {
        case none
        /// A bearer token.
        case token(String)
        /// A bearer token read from a file before every request: the kubelet rotates projected
        /// service-account tokens (hourly by default), so a token read once would expire.
        case tokenFile(String)
        /// HTTP basic authentication (old clusters).
        case basic(username: String, password: String)
    }

    public init(
        server: String, namespace: String? = nil, certificateAuthorityPEM: [UInt8]? = nil, insecureSkipTLSVerify: Bool = false,
        credentials: Credentials = .none, clientCertificatePEM: [UInt8]? = nil, clientKeyPEM: [UInt8]? = nil
    ) {
        self.server = server
        self.namespace = namespace
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.credentials = credentials
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
    }

    // MARK: In the cluster

    /// The folder a pod's service-account credentials are mounted at.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The pod's own service account: `KUBERNETES_SERVICE_HOST`/`_PORT` and the mounted token, CA and namespace.
    /// - Throws: ``KubeClientError/configuration(_:)`` saying what is missing when not running in a pod.
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        serviceAccountDirectory: String = serviceAccountDirectory
    ) throws(KubeClientError) -> KubeConfig {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
              let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty
        else {
            throw .configuration(
                "not running in a Kubernetes pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set "
                    + "(give a kubeconfig with --kubeconfig instead)")
        }
        let tokenPath = serviceAccountDirectory + "/token"
        guard FileManager.default.isReadableFile(atPath: tokenPath) else {
            throw .configuration("no service-account token at \(tokenPath): is automountServiceAccountToken false for this pod?")
        }
        let ca = try readFile(serviceAccountDirectory + "/ca.crt", what: "the cluster's CA certificate")
        let namespace = FileManager.default.isReadableFile(atPath: serviceAccountDirectory + "/namespace")
            ? String(decoding: try readFile(serviceAccountDirectory + "/namespace", what: "the pod's namespace"), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            : nil
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return KubeConfig(
            server: "https://\(hostPart):\(port)", namespace: namespace, certificateAuthorityPEM: ca, credentials: .tokenFile(tokenPath))
    }

    /// What `lab-runner --backend kubernetes [--kubeconfig PATH] [--context NAME]` connects with:
    /// the kubeconfig when one is given, else the pod's own service account.
    public static func resolve(
        kubeconfig path: String?, context: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(KubeClientError) -> KubeConfig {
        if let path { return try load(kubeconfig: path, context: context) }
        if context != nil { throw .configuration("--context needs --kubeconfig: in a pod the runner uses its service account") }
        return try inCluster(environment: environment)
    }

    // MARK: Kubeconfig files

    /// Reads a kubeconfig file and resolves a context (the current one unless `context` names another).
    /// Relative file paths inside it are taken from the file's folder, as kubectl does.
    public static func load(kubeconfig path: String, context: String? = nil) throws(KubeClientError) -> KubeConfig {
        let bytes = try readFile(path, what: "the kubeconfig")
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(kubeconfig: String(decoding: bytes, as: UTF8.self), directory: directory, context: context, file: path)
    }

    /// Resolves a context of a kubeconfig's text.
    public static func parse(
        kubeconfig text: String, directory: String = FileManager.default.currentDirectoryPath, context: String? = nil,
        file: String = "kubeconfig"
    ) throws(KubeClientError) -> KubeConfig {
        let documents: [Value]
        do {
            documents = try ManifestLoader.documents(text, file: file)
        } catch {
            throw .configuration("\(error)")
        }
        guard let root = documents.first, root.objectMembers != nil else {
            throw .configuration("\(file) is not a kubeconfig: expected a map with clusters, users and contexts")
        }
        func named(_ list: String, _ name: String, member: String) throws(KubeClientError) -> Value {
            let entries = root[list]?.arrayValue ?? []
            guard let entry = entries.first(where: { $0["name"]?.stringValue == name }) else {
                let known = entries.compactMap { $0["name"]?.stringValue }
                throw .configuration(
                    "\(file): no \(list.dropLast()) named \"\(name)\""
                        + (known.isEmpty ? " (the file has none)" : " (it has: \(known.joined(separator: ", ")))"))
            }
            return entry[member] ?? .object([])
        }
        let contextName = context ?? root["current-context"]?.stringValue ?? ""
        guard !contextName.isEmpty else {
            throw .configuration("\(file) has no current-context: name one with --context")
        }
        let contextEntry = try named("contexts", contextName, member: "context")
        guard let clusterName = contextEntry["cluster"]?.stringValue else {
            throw .configuration("\(file): context \"\(contextName)\" names no cluster")
        }
        let cluster = try named("clusters", clusterName, member: "cluster")
        let user = try contextEntry["user"]?.stringValue.map { (name) throws(KubeClientError) in try named("users", name, member: "user") }
            ?? .object([])
        guard let server = cluster["server"]?.stringValue, !server.isEmpty else {
            throw .configuration("\(file): cluster \"\(clusterName)\" has no server")
        }
        func path(_ relative: String) -> String {
            relative.hasPrefix("/") ? relative : directory + "/" + relative
        }
        func pem(data: String, file fileKey: String, what: String, in entry: Value) throws(KubeClientError) -> [UInt8]? {
            if let encoded = entry[data]?.stringValue {
                guard let decoded = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters) else {
                    throw .configuration("\(file): \(data) of \(what) is not base64")
                }
                return Array(decoded)
            }
            if let name = entry[fileKey]?.stringValue { return try readFile(path(name), what: "\(fileKey) of \(what)") }
            return nil
        }
        var config = KubeConfig(server: server)
        config.namespace = contextEntry["namespace"]?.stringValue
        config.certificateAuthorityPEM = try pem(
            data: "certificate-authority-data", file: "certificate-authority", what: "cluster \"\(clusterName)\"", in: cluster)
        if case .bool(let skip) = cluster["insecure-skip-tls-verify"] { config.insecureSkipTLSVerify = skip }
        if cluster["tls-server-name"] != nil {
            throw .configuration("\(file): cluster \"\(clusterName)\" sets tls-server-name, which MeshDojo's client does not support: use a server URL whose host the certificate names")
        }
        let userName = contextEntry["user"]?.stringValue ?? ""
        config.clientCertificatePEM = try pem(
            data: "client-certificate-data", file: "client-certificate", what: "user \"\(userName)\"", in: user)
        config.clientKeyPEM = try pem(data: "client-key-data", file: "client-key", what: "user \"\(userName)\"", in: user)
        if (config.clientCertificatePEM == nil) != (config.clientKeyPEM == nil) {
            throw .configuration("\(file): user \"\(userName)\" has a client certificate without its key, or a key without its certificate")
        }
        if let token = user["token"]?.stringValue, !token.isEmpty {
            config.credentials = .token(token)
        } else if let tokenFile = user["tokenFile"]?.stringValue, !tokenFile.isEmpty {
            config.credentials = .tokenFile(path(tokenFile))
        } else if let username = user["username"]?.stringValue, let password = user["password"]?.stringValue {
            config.credentials = .basic(username: username, password: password)
        } else if user["exec"] != nil || user["auth-provider"] != nil {
            throw .configuration(
                "\(file): user \"\(userName)\" authenticates through an exec or auth-provider plugin, which MeshDojo does not run: "
                    + "use a token, a token file or a client certificate (for example from `kubectl create token`)")
        }
        if !config.server.hasPrefix("https://") && !config.server.hasPrefix("http://") {
            throw .configuration("\(file): server \"\(server)\" of cluster \"\(clusterName)\" is not an http(s) URL")
        }
        return config
    }

    // MARK: TLS

    /// The TLS settings for this server: trust exactly the given CA (the system's roots when none is
    /// given), present the client certificate if any. Nil for plain `http://` servers.
    public func tlsConfiguration() throws(KubeClientError) -> TLSConfiguration? {
        guard server.hasPrefix("https://") else { return nil }
        var tls = TLSConfiguration.makeClientConfiguration()
        if insecureSkipTLSVerify {
            tls.certificateVerification = .none
        } else if let certificateAuthorityPEM {
            do {
                let certificates = try NIOSSLCertificate.fromPEMBytes(certificateAuthorityPEM)
                guard !certificates.isEmpty else { throw KubeClientError.configuration("no certificate in it") }
                tls.trustRoots = .certificates(certificates)
            } catch {
                throw .configuration("the cluster's certificate authority is not a PEM certificate: \(error)")
            }
        }
        if let clientCertificatePEM, let clientKeyPEM {
            do {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(clientCertificatePEM).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: clientKeyPEM, format: .pem))
            } catch {
                throw .configuration("the client certificate or key is not PEM: \(error)")
            }
        }
        return tls
    }

    static func readFile(_ path: String, what: String) throws(KubeClientError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .configuration("cannot read \(what) at \(path)")
        }
        return Array(data)
    }
}
