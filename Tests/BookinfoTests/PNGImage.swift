import AsyncHTTPClient
import Foundation
import Hummingbird
import HTTPTypes
import NIOCore

/// An 8-bit, non-interlaced RGB or RGBA PNG (what Chromium's `--screenshot` writes), as pixels.
struct PNGImage: Sendable {
    let width: Int
    let height: Int
    let channels: Int
    let pixels: [UInt8]

    struct Pixel: Equatable {
        var r: Int, g: Int, b: Int

        /// Perceived brightness, 0 (black) to 255 (white).
        var luminance: Int { (299 * r + 587 * g + 114 * b) / 1000 }

        /// Whether every channel is within `tolerance` of `other`'s.
        func near(_ other: Pixel, tolerance: Int) -> Bool {
            abs(r - other.r) <= tolerance && abs(g - other.g) <= tolerance && abs(b - other.b) <= tolerance
        }
    }

    func pixel(_ x: Int, _ y: Int) -> Pixel {
        let at = (y * width + x) * channels
        return Pixel(r: Int(pixels[at]), g: Int(pixels[at + 1]), b: Int(pixels[at + 2]))
    }

    struct DecodeError: Error, CustomStringConvertible {
        var description: String
    }

    /// Decodes the file: chunks, the zlib stream of the IDAT chunks, then the per-row filters.
    static func decode(_ data: Data) async throws -> PNGImage {
        let bytes = [UInt8](data)
        guard bytes.count > 8, bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
            throw DecodeError(description: "not a PNG file")
        }
        func be32(_ at: Int) -> Int { bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        var at = 8, width = 0, height = 0, channels = 0
        var compressed: [UInt8] = []
        while at + 8 <= bytes.count {
            let length = be32(at)
            let type = String(decoding: bytes[at + 4..<at + 8], as: UTF8.self)
            let body = at + 8
            guard body + length + 4 <= bytes.count else { throw DecodeError(description: "truncated \(type) chunk") }
            switch type {
            case "IHDR":
                width = be32(body)
                height = be32(body + 4)
                let depth = bytes[body + 8], colour = bytes[body + 9], interlace = bytes[body + 12]
                guard depth == 8, colour == 2 || colour == 6, interlace == 0 else {
                    throw DecodeError(description: "unsupported PNG: depth \(depth), colour type \(colour), interlace \(interlace)")
                }
                channels = colour == 6 ? 4 : 3
            case "IDAT":
                compressed += bytes[body..<body + length]
            default:
                break
            }
            at = body + length + 4
        }
        guard width > 0, height > 0 else { throw DecodeError(description: "no IHDR chunk") }
        let raw = try await inflate(compressed)
        let stride = width * channels
        guard raw.count >= height * (stride + 1) else {
            throw DecodeError(description: "image data holds \(raw.count) bytes, \(height * (stride + 1)) expected")
        }
        var pixels = [UInt8](repeating: 0, count: height * stride)
        for row in 0..<height {
            let filter = raw[row * (stride + 1)]
            let source = row * (stride + 1) + 1, target = row * stride
            for i in 0..<stride {
                let left = i >= channels ? Int(pixels[target + i - channels]) : 0
                let up = row > 0 ? Int(pixels[target - stride + i]) : 0
                let upLeft = row > 0 && i >= channels ? Int(pixels[target - stride + i - channels]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = left
                case 2: predictor = up
                case 3: predictor = (left + up) / 2
                case 4:
                    let p = left + up - upLeft
                    let (pa, pb, pc) = (abs(p - left), abs(p - up), abs(p - upLeft))
                    predictor = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft
                default: throw DecodeError(description: "row \(row) has unknown filter \(filter)")
                }
                pixels[target + i] = UInt8((Int(raw[source + i]) + predictor) & 0xFF)
            }
        }
        return PNGImage(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// Inflates a zlib stream. The test targets link no zlib of their own, so the stream goes
    /// through AsyncHTTPClient's response decompression (HTTP's `deflate` coding is the zlib format):
    /// a loopback server answers it with `Content-Encoding: deflate`.
    static func inflate(_ stream: [UInt8]) async throws -> [UInt8] {
        let server = ClosureHandler { _ in
            Response(
                status: .ok, headers: [.contentEncoding: "deflate", .contentType: "application/octet-stream"],
                body: .init(byteBuffer: ByteBuffer(bytes: stream)))
        }
        return try await withServer(server) { port in
            let client = HTTPClient(
                eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                configuration: HTTPClient.Configuration(decompression: .enabled(limit: .none)))
            do {
                let response = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/"), timeout: .seconds(30))
                let body = try await response.body.collect(upTo: 512 << 20)
                try await client.shutdown()
                return Array(body.readableBytesView)
            } catch {
                try? await client.shutdown()
                throw error
            }
        }
    }
}
