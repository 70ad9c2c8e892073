import Dispatch
import Foundation

/// GET over a Unix socket (HTTP/1.1 with `Connection: close`, read to the end): how the runner reads Envoy's admin API,
/// which listens on a socket only the runner can reach.
enum UnixHTTP {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The body of `GET path` on `socket`, within `timeout`.
    static func get(socket: String, path: String, timeout: Duration = .seconds(2), limit: Int = 16 << 20) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try blockingGet(socket: socket, path: path, timeout: timeout, limit: limit) })
            }
        }
    }

    static func blockingGet(socket path: String, path request: String, timeout: Duration, limit: Int) throws -> String {
        let fd = Foundation.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var seconds = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw Failure(description: "socket path too long: \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
            buffer[bytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect \(path): \(String(cString: strerror(errno)))") }
        let message = Array("GET \(request) HTTP/1.1\r\nHost: envoy-admin\r\nConnection: close\r\n\r\n".utf8)
        var sent = 0
        while sent < message.count {
            let written = message[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written > 0 else { throw Failure(description: "write: \(String(cString: strerror(errno)))") }
            sent += written
        }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count == 0 { break }
            guard count > 0 else { throw Failure(description: "read: \(String(cString: strerror(errno)))") }
            response += chunk[0..<count]
            guard response.count <= limit else { throw Failure(description: "response larger than \(limit) bytes") }
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { throw Failure(description: "no HTTP response from \(path)") }
        guard text.hasPrefix("HTTP/1.1 200") else {
            throw Failure(description: "Envoy admin answered \(text.prefix { $0 != "\r" })")
        }
        let headers = text[..<end.lowerBound].lowercased()
        let body = String(text[end.upperBound...])
        return headers.contains("transfer-encoding: chunked") ? try dechunk(body) : body
    }

    /// Decodes a chunked transfer encoding.
    static func dechunk(_ body: String) throws -> String {
        var bytes = Substring(body).utf8[...]
        var out: [UInt8] = []
        while true {
            guard let lineEnd = bytes.firstRange(of: "\r\n".utf8) else { throw Failure(description: "bad chunked body") }
            let sizeText = String(decoding: bytes[..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { throw Failure(description: "bad chunk size") }
            bytes = bytes[lineEnd.upperBound...]
            if size == 0 { break }
            guard bytes.count >= size else { throw Failure(description: "truncated chunk") }
            out += bytes.prefix(size)
            bytes = bytes.dropFirst(size)
            if bytes.starts(with: "\r\n".utf8) { bytes = bytes.dropFirst(2) }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
