import MeshModel

/// The little of Kubernetes' protobuf encoding newer kubectl sends for typed requests
/// (`kubectl create namespace` posts `application/vnd.kubernetes.protobuf`): the `k8s\0` magic,
/// the `runtime.Unknown` envelope, and an object's ObjectMeta (name, namespace, labels,
/// annotations). Enough for the objects kubectl creates that way; others are refused with 415.
public enum ProtobufEnvelope {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Decodes a protobuf body into the JSON object it stands for.
    /// - Throws: ``Failure`` for bytes that are not a Kubernetes protobuf object of a kind this reads.
    public static func decode(_ bytes: [UInt8]) throws(Failure) -> Value {
        guard bytes.count >= 4, Array(bytes.prefix(4)) == [0x6B, 0x38, 0x73, 0x00] else { throw Failure(description: "not a Kubernetes protobuf body (no k8s magic)") }
        let envelope = try fields(ArraySlice(bytes.dropFirst(4)))
        guard let typeMeta = envelope[1]?.first, let raw = envelope[2]?.first else { throw Failure(description: "the protobuf envelope has no type or object") }
        let type = try fields(typeMeta)
        let apiVersion = string(type[1]?.first)
        let kind = string(type[2]?.first)
        guard ["Namespace", "ConfigMap", "ServiceAccount"].contains(kind) else {
            throw Failure(description: "\(kind) in protobuf is not read here; send it as JSON (kubectl apply -f, or -o json)")
        }
        let object = try fields(raw)
        var metadata: Value = [:]
        if let meta = object[1]?.first {
            let fields = try fields(meta)
            metadata["name"] = .string(string(fields[1]?.first))
            if let namespace = fields[3]?.first { metadata["namespace"] = .string(string(namespace)) }
            if let labels = fields[11] { metadata["labels"] = try map(labels) }
            if let annotations = fields[12] { metadata["annotations"] = try map(annotations) }
        }
        var value: Value = ["apiVersion": .string(apiVersion.isEmpty ? "v1" : apiVersion), "kind": .string(kind), "metadata": metadata]
        if kind == "ConfigMap", let data = object[2] { value["data"] = try map(data) }
        return value
    }

    static func string(_ bytes: ArraySlice<UInt8>?) -> String {
        bytes.map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    static func map(_ entries: [ArraySlice<UInt8>]) throws(Failure) -> Value {
        var members: [(String, Value)] = []
        for entry in entries {
            let pair = try fields(entry)
            members.append((string(pair[1]?.first), .string(string(pair[2]?.first))))
        }
        return .object(members)
    }

    /// The length-delimited fields of a message by number (varint fields are skipped).
    static func fields(_ bytes: ArraySlice<UInt8>) throws(Failure) -> [Int: [ArraySlice<UInt8>]] {
        var out: [Int: [ArraySlice<UInt8>]] = [:]
        var index = bytes.startIndex
        func varint() throws(Failure) -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard index < bytes.endIndex, shift < 64 else { throw Failure(description: "truncated protobuf") }
                let byte = bytes[index]
                index += 1
                result |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return result }
                shift += 7
            }
        }
        while index < bytes.endIndex {
            let key = try varint()
            let number = Int(key >> 3)
            switch key & 7 {
            case 0: _ = try varint()
            case 1: index += 8
            case 5: index += 4
            case 2:
                let length = Int(try varint())
                guard length >= 0, index + length <= bytes.endIndex else { throw Failure(description: "truncated protobuf") }
                out[number, default: []].append(bytes[index..<(index + length)])
                index += length
            default:
                throw Failure(description: "unsupported protobuf wire type")
            }
        }
        return out
    }
}
