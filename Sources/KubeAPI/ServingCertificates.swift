import Crypto
import Foundation
import SwiftASN1
import X509

/// The lab-runner's own certificate authority and the serving certificate of its Kubernetes API,
/// made at first start and kept in the state folder (`tls/`, keys mode 0600), so a kubeconfig
/// handed out once keeps working across restarts.
public struct ServingCertificates: Sendable {
    public var caPEM: String
    public var certificatePEM: String
    public var keyPEM: String

    /// Loads the CA and serving certificate from `directory`, making whatever is missing.
    ///
    /// - Parameters:
    ///   - directory: the folder (created, mode 0700).
    ///   - hosts: names and addresses the serving certificate is valid for.
    /// - Throws: when the folder cannot be written or a stored file cannot be read.
    public static func loadOrCreate(directory: String, hosts: [String]) throws -> ServingCertificates {
        let files = FileManager.default
        try files.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let caCertPath = directory + "/ca.crt", caKeyPath = directory + "/ca.key"
        let certPath = directory + "/server.crt", keyPath = directory + "/server.key", hostsPath = directory + "/server.hosts"
        let caKey: P256.Signing.PrivateKey
        let caCertificate: Certificate
        if files.fileExists(atPath: caCertPath), files.fileExists(atPath: caKeyPath) {
            caKey = try P256.Signing.PrivateKey(pemRepresentation: String(contentsOfFile: caKeyPath, encoding: .utf8))
            caCertificate = try Certificate(pemEncoded: String(contentsOfFile: caCertPath, encoding: .utf8))
        } else {
            caKey = P256.Signing.PrivateKey()
            let name = try DistinguishedName {
                OrganizationName("MeshDojo")
                CommonName("MeshDojo lab-runner CA")
            }
            let now = Date()
            caCertificate = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: .init(caKey.publicKey), notValidBefore: now - 3600,
                notValidAfter: now + 10 * 365 * 86400, issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: .init(caKey.publicKey))
                },
                issuerPrivateKey: .init(caKey))
            try write(caKey.pemRepresentation, to: caKeyPath, mode: 0o600)
            try write(try caCertificate.serializeAsPEM().pemString, to: caCertPath, mode: 0o644)
            try? files.removeItem(atPath: certPath)
        }
        let wantedHosts = hosts.sorted().joined(separator: ",")
        let storedHosts = (try? String(contentsOfFile: hostsPath, encoding: .utf8)) ?? ""
        if !files.fileExists(atPath: certPath) || !files.fileExists(atPath: keyPath) || storedHosts != wantedHosts {
            let key = P256.Signing.PrivateKey()
            let subject = try DistinguishedName {
                OrganizationName("MeshDojo")
                CommonName("lab-runner")
            }
            var names: [GeneralName] = []
            for host in hosts {
                if let bytes = ipv4(host) ?? ipv6(host) {
                    names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))))
                } else {
                    names.append(.dnsName(host))
                }
            }
            let now = Date()
            let certificate = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey), notValidBefore: now - 3600,
                notValidAfter: now + 5 * 365 * 86400, issuer: caCertificate.subject, subject: subject,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                    try ExtendedKeyUsage([.serverAuth])
                    SubjectAlternativeNames(names)
                },
                issuerPrivateKey: .init(caKey))
            try write(key.pemRepresentation, to: keyPath, mode: 0o600)
            try write(try certificate.serializeAsPEM().pemString, to: certPath, mode: 0o644)
            try write(wantedHosts, to: hostsPath, mode: 0o644)
        }
        return ServingCertificates(
            caPEM: try String(contentsOfFile: caCertPath, encoding: .utf8),
            certificatePEM: try String(contentsOfFile: certPath, encoding: .utf8),
            keyPEM: try String(contentsOfFile: keyPath, encoding: .utf8))
    }

    static func write(_ text: String, to path: String, mode: Int) throws {
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: temporary])
        }
        guard rename(temporary, path) == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
    }

    static func ipv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        let bytes = parts.compactMap { UInt8($0) }
        return bytes.count == 4 ? bytes : nil
    }

    static func ipv6(_ text: String) -> [UInt8]? {
        guard text.contains(":") else { return nil }
        var address = in6_addr()
        guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }
}
