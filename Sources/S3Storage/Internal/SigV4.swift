#if S3
import Crypto
import Foundation

/// AWS Signature Version 4 for S3, header-based (`Authorization: AWS4-HMAC-SHA256 ...`).
///
/// The specification: AWS's "Signature Calculations for the Authorization Header". Tested against
/// its worked examples and against botocore's `S3SigV4Auth` on the same requests.
struct SigV4Signer: Sendable {
    let accessKeyID: String
    let secretAccessKey: String
    let region: String
    var service = "s3"

    /// The payload hash sent for bodies streamed from a descriptor, which are not hashed first.
    static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// SHA-256 of the empty body.
    static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// The headers to add to a request: `x-amz-date`, `x-amz-content-sha256` and `authorization`.
    ///
    /// - Parameters:
    ///   - method: The HTTP method, upper case.
    ///   - encodedPath: The request path exactly as it is sent (already percent-encoded).
    ///   - query: The query parameters, not encoded; encoded and sorted here.
    ///   - headers: Every other header to sign (`host` included), any case.
    ///   - payloadHash: Hex SHA-256 of the body, or `unsignedPayload`.
    ///   - date: The signing time.
    func signedHeaders(
        method: String, encodedPath: String, query: [(String, String)], headers: [(String, String)],
        payloadHash: String, date: Date
    ) -> [(String, String)] {
        let (amzDate, day) = Self.timestamps(date)
        var toSign = headers.map { ($0.0.lowercased(), Self.canonicalHeaderValue($0.1)) }
        toSign.append(("x-amz-content-sha256", payloadHash))
        toSign.append(("x-amz-date", amzDate))
        // Repeated names are joined by commas in the order given; names sort by byte.
        var merged: [String: String] = [:]
        for (name, value) in toSign {
            merged[name] = merged[name].map { $0 + "," + value } ?? value
        }
        let names = merged.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let signedNames = names.joined(separator: ";")
        let canonicalRequest = [
            method,
            encodedPath,
            Self.canonicalQuery(query),
            names.map { "\($0):\(merged[$0] ?? "")\n" }.joined(),
            signedNames,
            payloadHash,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            "AWS4-HMAC-SHA256", amzDate, scope, Self.hex(SHA256.hash(data: Data(canonicalRequest.utf8))),
        ].joined(separator: "\n")
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: signingKey(day: day)))
        let authorization =
            "AWS4-HMAC-SHA256 Credential=\(accessKeyID)/\(scope),SignedHeaders=\(signedNames),Signature=\(signature)"
        return [("x-amz-date", amzDate), ("x-amz-content-sha256", payloadHash), ("authorization", authorization)]
    }

    /// The key derived for one day: HMAC chained over the date, region, service and terminator.
    func signingKey(day: String) -> SymmetricKey {
        var key = SymmetricKey(data: Data("AWS4\(secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return key
    }

    /// `yyyyMMdd'T'HHmmss'Z'` and `yyyyMMdd`, in UTC.
    static func timestamps(_ date: Date) -> (amzDate: String, day: String) {
        var time = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&time, &parts)
        let day = String(format: "%04d%02d%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday))
        return (day + String(format: "T%02d%02d%02dZ", Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec)), day)
    }

    /// Query parameters encoded with `uriEncode` and sorted by encoded name, then value.
    static func canonicalQuery(_ query: [(String, String)]) -> String {
        query.map { (uriEncode($0.0, keepSlash: false), uriEncode($0.1, keepSlash: false)) }
            .sorted { $0.0 == $1.0 ? $0.1.utf8.lexicographicallyPrecedes($1.1.utf8) : $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// Trims the value and collapses runs of spaces, as the canonical form requires.
    static func canonicalHeaderValue(_ value: String) -> String {
        var result = ""
        var pendingSpace = false
        for character in value.trimmingCharacters(in: .whitespaces) {
            if character == " " || character == "\t" {
                pendingSpace = true
                continue
            }
            if pendingSpace { result.append(" ") }
            pendingSpace = false
            result.append(character)
        }
        return result
    }

    /// Percent-encodes every byte but the unreserved ones (`A-Z a-z 0-9 - _ . ~`), and `/` when
    /// `keepSlash` (for paths), with upper-case hex digits.
    static func uriEncode(_ text: String, keepSlash: Bool) -> String {
        let hexDigits = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                bytes.append(byte)
            case UInt8(ascii: "/") where keepSlash:
                bytes.append(byte)
            default:
                bytes.append(UInt8(ascii: "%"))
                bytes.append(hexDigits[Int(byte >> 4)])
                bytes.append(hexDigits[Int(byte & 0xF)])
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Lower-case hex of a digest or MAC.
    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let hexDigits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        for byte in digest {
            bytes.append(hexDigits[Int(byte >> 4)])
            bytes.append(hexDigits[Int(byte & 0xF)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Hex SHA-256 of a body.
    static func payloadHash(_ body: UnsafeRawBufferPointer) -> String { hex(SHA256.hash(data: body)) }
}
#endif
