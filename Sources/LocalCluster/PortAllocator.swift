import Foundation
import Synchronization

/// Hands out loopback TCP ports from a range below the kernel's ephemeral ports, checking that
/// each can be bound right now and never handing one out twice.
public final class PortAllocator: Sendable {
    struct State {
        var next: Int
        var taken: Set<Int> = []
    }

    let range: ClosedRange<Int>
    let state: Mutex<State>

    public init(range: ClosedRange<Int> = 20000...32000) {
        self.range = range
        self.state = Mutex(State(next: range.lowerBound))
    }

    /// A free port, marked taken.
    public func allocate() throws(LocalClusterError) -> Int {
        try state.withLock { state throws(LocalClusterError) -> Int in
            for _ in 0..<range.count {
                let port = state.next
                state.next = port >= range.upperBound ? range.lowerBound : port + 1
                if state.taken.contains(port) || !Self.canBind(port) { continue }
                state.taken.insert(port)
                return port
            }
            throw LocalClusterError.noFreePort
        }
    }

    /// Takes a specific port (one remembered from an earlier run) when it is still free.
    public func reserve(_ port: Int) -> Bool {
        state.withLock { state in
            guard !state.taken.contains(port), Self.canBind(port) else { return false }
            state.taken.insert(port)
            return true
        }
    }

    public func release(_ port: Int) {
        _ = state.withLock { $0.taken.remove(port) }
    }

    /// Whether 127.0.0.1:`port` can be bound right now.
    public static func canBind(_ port: Int) -> Bool {
        withLoopbackSocket(port) { fd, address, length in bind(fd, address, length) == 0 }
    }

    /// Whether something accepts connections on 127.0.0.1:`port`.
    public static func isListening(_ port: Int) -> Bool {
        withLoopbackSocket(port) { fd, address, length in connect(fd, address, length) == 0 }
    }

    /// Calls `body` with a new TCP socket and the address 127.0.0.1:`port`, then closes the socket.
    static func withLoopbackSocket(_ port: Int, _ body: (Int32, UnsafePointer<sockaddr>, socklen_t) -> Bool) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }
}

/// Why the local engine could not do what was asked.
public enum LocalClusterError: Error, Sendable, Equatable, CustomStringConvertible {
    case noFreePort
    case envoyNotFound(String)
    case envoyRejected(String)
    case envoyTimeout(String)
    case invalid([String])
    case notFound(String)
    case conflict(String)

    public var description: String {
        switch self {
        case .noFreePort: "no free loopback port left in the engine's range"
        case .envoyNotFound(let detail): "Envoy was not found: \(detail)"
        case .envoyRejected(let detail): "Envoy rejected the configuration (the previous configuration keeps serving): \(detail)"
        case .envoyTimeout(let detail): "Envoy did not confirm the configuration in time: \(detail)"
        case .invalid(let problems): problems.joined(separator: "\n")
        case .notFound(let what): "\(what) not found"
        case .conflict(let what): what
        }
    }
}
