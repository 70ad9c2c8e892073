import BookinfoKit
import Crypto
import Foundation

/// The `session` cookie: who is signed in, signed so that a browser cannot forge another name.
///
/// Format: `base64url(JSON {"user": NAME}) "." base64url(HMAC-SHA256(key, first part))`.
/// Cookie name, attributes and meaning match the original Flask session (spec §2.3); the bytes
/// do not, which the spec allows.
struct SessionCookie: Sendable {
    let key: SymmetricKey

    init(secret: String) {
        key = SymmetricKey(data: Data(secret.utf8))
    }

    /// The cookie value for a signed-in `user` (an empty name is kept: it is sent as `end-user:`).
    func encode(user: String) -> String {
        let payload = Self.base64url(Data(#"{"user":\#(JSONText.quote(user))}"#.utf8))
        let signature = HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: key)
        return payload + "." + Self.base64url(Data(signature))
    }

    /// The user in a cookie value, or nil when there is none or the signature does not match.
    func decode(_ value: String) -> String? {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let signature = Self.unbase64url(parts[1]),
            HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: Data(parts[0].utf8), using: key),
            let payload = Self.unbase64url(parts[0]),
            let object = try? JSONSerialization.jsonObject(with: payload) as? [String: Any]
        else { return nil }
        return object["user"] as? String
    }

    static func base64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func unbase64url(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}
