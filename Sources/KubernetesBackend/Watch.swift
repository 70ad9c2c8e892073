import AsyncHTTPClient
import MeshModel
import NIOCore

/// One event of a watch.
public enum KubeWatchEvent: Sendable, Equatable {
    case added(Value)
    case modified(Value)
    case deleted(Value)
    /// The server's progress mark: nothing changed up to this resourceVersion.
    case bookmark(resourceVersion: String)
    /// The server ended the watch with a Status (410 Gone: the resourceVersion is too old).
    case error(KubeStatusError)

    /// The object's (or the bookmark's) resourceVersion.
    public var resourceVersion: String? {
        switch self {
        case .added(let object), .modified(let object), .deleted(let object):
            object["metadata"]?["resourceVersion"]?.stringValue
        case .bookmark(let version): version
        case .error: nil
        }
    }
}

/// Splits a watch's chunked body into events: one JSON object a line, however the chunks cut it.
public struct WatchEventDecoder: Sendable {
    var buffer: [UInt8] = []
    let method: String
    let path: String

    public init(method: String = "GET", path: String = "") {
        self.method = method
        self.path = path
    }

    /// The events completed by `bytes`.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(KubeClientError) -> [KubeWatchEvent] {
        buffer.append(contentsOf: bytes)
        var events: [KubeWatchEvent] = []
        var start = 0
        while let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
            let line = buffer[start..<newline]
            start = newline + 1
            if let event = try decode(line) { events.append(event) }
        }
        buffer.removeFirst(start)
        return events
    }

    /// The last event, when the stream ended without a newline after it.
    public mutating func finish() throws(KubeClientError) -> [KubeWatchEvent] {
        defer { buffer = [] }
        return try decode(buffer[...]).map { [$0] } ?? []
    }

    func decode(_ line: ArraySlice<UInt8>) throws(KubeClientError) -> KubeWatchEvent? {
        guard line.contains(where: { ![0x20, 0x09, 0x0D].contains($0) }) else { return nil }
        let event: Value
        do {
            event = try JSON.parse(line)
        } catch {
            throw .unexpectedResponse(method: method, path: path, message: "a watch event that is not JSON: \(error)")
        }
        guard let type = event["type"]?.stringValue, let object = event["object"] else {
            throw .unexpectedResponse(method: method, path: path, message: "a watch event without type and object")
        }
        switch type {
        case "ADDED": return .added(object)
        case "MODIFIED": return .modified(object)
        case "DELETED": return .deleted(object)
        case "BOOKMARK": return .bookmark(resourceVersion: object["metadata"]?["resourceVersion"]?.stringValue ?? "")
        case "ERROR": return .error(KubeStatusError(status: object["code"]?.intValue ?? 500, body: object, method: method, path: path))
        default: throw .unexpectedResponse(method: method, path: path, message: "a watch event of unknown type \(type)")
        }
    }
}

/// The events of one watch connection, ending when the server closes it.
public struct WatchStream: AsyncSequence, Sendable {
    public typealias Element = KubeWatchEvent
    let body: HTTPClientResponse.Body
    let method: String
    let path: String
    let url: String

    public func makeAsyncIterator() -> Iterator {
        Iterator(body: body.makeAsyncIterator(), decoder: WatchEventDecoder(method: method, path: path), method: method, url: url)
    }

    public struct Iterator: AsyncIteratorProtocol {
        var body: HTTPClientResponse.Body.AsyncIterator
        var decoder: WatchEventDecoder
        let method: String
        let url: String
        var pending: [KubeWatchEvent] = []
        var ended = false

        /// - Throws: ``KubeClientError/transport(method:url:message:)`` when the connection breaks
        ///   or goes quiet past the client's read timeout.
        public mutating func next() async throws -> KubeWatchEvent? {
            while pending.isEmpty {
                if ended { return nil }
                let chunk: ByteBuffer?
                do {
                    chunk = try await body.next()
                } catch let error as CancellationError {
                    throw error
                } catch {
                    throw KubeClientError.transport(method: method, url: url, message: "the watch broke off: \(error)")
                }
                if let chunk {
                    pending = try decoder.feed(chunk.readableBytesView)
                } else {
                    ended = true
                    pending = try decoder.finish()
                }
            }
            return pending.removeFirst()
        }
    }
}

/// What a list-and-watch tells: the whole list (first, and again after each relist), then changes.
public enum ListWatchEvent: Sendable, Equatable {
    /// Every object, replacing whatever the consumer knew (at the start and after a 410 Gone).
    case synced(items: [Value], resourceVersion: String)
    case added(Value)
    case modified(Value)
    case deleted(Value)
}

/// List, then watch from the list's resourceVersion, as client-go's reflector does. Runs until the
/// consumer stops iterating or its task is cancelled; throws on any error other than 410 Gone.
public struct ListWatch: AsyncSequence, Sendable {
    public typealias Element = ListWatchEvent
    let client: KubeClient
    let resource: KubeResource
    let namespace: String?
    let labelSelector: String?
    let fieldSelector: String?
    let timeoutSeconds: Int

    public func makeAsyncIterator() -> Iterator { Iterator(watch: self) }

    public struct Iterator: AsyncIteratorProtocol {
        let watch: ListWatch
        var resourceVersion: String?
        var stream: WatchStream.Iterator?
        /// How many times the list was read (1 after the first; more after each 410).
        public private(set) var lists = 0
        var eventsOnThisWatch = 0

        init(watch: ListWatch) { self.watch = watch }

        public mutating func next() async throws -> ListWatchEvent? {
            while true {
                try Task.checkCancellation()
                guard let version = resourceVersion else {
                    let list = try await watch.client.list(
                        watch.resource, namespace: watch.namespace, labelSelector: watch.labelSelector, fieldSelector: watch.fieldSelector)
                    resourceVersion = list.resourceVersion
                    lists += 1
                    return .synced(items: list.items, resourceVersion: list.resourceVersion)
                }
                guard var current = stream else {
                    do {
                        stream = try await watch.client.watch(
                            watch.resource, namespace: watch.namespace, resourceVersion: version, labelSelector: watch.labelSelector,
                            fieldSelector: watch.fieldSelector, timeoutSeconds: watch.timeoutSeconds
                        ).makeAsyncIterator()
                        eventsOnThisWatch = 0
                    } catch let error as KubeStatusError where error.isGone {
                        resourceVersion = nil
                    }
                    continue
                }
                let event: KubeWatchEvent?
                do {
                    event = try await current.next()
                } catch KubeClientError.transport {
                    // The connection broke or went quiet mid-watch: watch again from the last
                    // version seen, after a pause (opening the watch again throws if the server is gone).
                    stream = nil
                    try await Task.sleep(for: .seconds(1))
                    continue
                }
                stream = current
                guard let event else {
                    // The server ended the watch (its timeout): watch again from where it got to,
                    // pausing first when it ended at once, so a server that keeps closing is not hammered.
                    stream = nil
                    if eventsOnThisWatch == 0 { try await Task.sleep(for: .seconds(1)) }
                    continue
                }
                eventsOnThisWatch += 1
                if let newVersion = event.resourceVersion, !newVersion.isEmpty { resourceVersion = newVersion }
                switch event {
                case .added(let object): return .added(object)
                case .modified(let object): return .modified(object)
                case .deleted(let object): return .deleted(object)
                case .bookmark: continue
                case .error(let status) where status.isGone:
                    stream = nil
                    resourceVersion = nil
                case .error(let status):
                    throw status
                }
            }
        }
    }
}
