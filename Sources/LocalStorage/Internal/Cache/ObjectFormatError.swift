/// Why an object or array could not be stored or read: the error of the object-format layer
/// (headers, checksums, payload coders), before the public API adds the operation and the path.
struct ObjectFormatError: Error, CustomStringConvertible {
    enum Kind: Sendable, Equatable {
        /// The bytes are damaged or are not an object or array at all: a bad magic, version,
        /// header checksum, length or payload checksum, or a file shorter than a header (a raw
        /// upload read as an object). Maps to `LocalStorageError.Code.corrupted`.
        case corrupted
        /// The bytes are intact but do not hold the requested type or shape: another element
        /// type, an array read as an object, a payload that does not decode as the type. Maps to
        /// `LocalStorageError.Code.decodingFailed`.
        case decodingFailed
        /// The value could not be encoded: its `encode(to:)` threw or misused a container. Maps
        /// to `LocalStorageError.Code.invalidArgument`: the caller's value is at fault.
        case encodingFailed
    }

    let kind: Kind
    /// What went wrong and, for coding errors, where (the coding path).
    let message: String
    /// The error a coder or the value's own `encode(to:)`/`init(from:)` threw, if any.
    let underlying: (any Error)?

    init(_ kind: Kind, _ message: String, underlying: (any Error)? = nil) {
        self.kind = kind
        self.message = message
        self.underlying = underlying
    }

    static func corrupted(_ message: String) -> ObjectFormatError { ObjectFormatError(.corrupted, message) }
    static func decodingFailed(_ message: String) -> ObjectFormatError { ObjectFormatError(.decodingFailed, message) }

    /// A decoding failure, described by where and what.
    static func decodingFailed(_ error: any Error) -> ObjectFormatError {
        ObjectFormatError(.decodingFailed, describeCodingError(error), underlying: error)
    }

    /// An encoding failure, described by where and what.
    static func encodingFailed(_ error: any Error) -> ObjectFormatError {
        ObjectFormatError(.encodingFailed, describeCodingError(error), underlying: error)
    }

    var description: String { "\(kind): \(message)" }
}

/// "at items[3].name: expected Float, found Int64" for a Codable error; any other error as is.
func describeCodingError(_ error: any Error) -> String {
    if let decoding = error as? DecodingError {
        switch decoding {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
            .dataCorrupted(let context):
            return "at \(describeCodingPath(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return String(describing: decoding)
        }
    }
    if let encoding = error as? EncodingError {
        switch encoding {
        case .invalidValue(_, let context):
            return "at \(describeCodingPath(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return String(describing: encoding)
        }
    }
    return String(describing: error)
}

extension LocalStorageError {
    /// The public error for an object-format failure during `operation` on `path`.
    init(_ failure: ObjectFormatError, operation: Operation, path: String?) {
        let code: Code =
            switch failure.kind {
            case .corrupted: .corrupted
            case .decodingFailed: .decodingFailed
            case .encodingFailed: .invalidArgument
            }
        self.init(code: code, operation: operation, path: path, message: failure.message)
    }
}
