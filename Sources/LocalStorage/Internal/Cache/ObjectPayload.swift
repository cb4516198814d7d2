import Foundation

// The payload of a stored object: a `Codable` value in the binary format (fast, the default) or
// in JSON (for people who want to read the files).

/// How ``LocalStorage/uploadObject(_:fileName:context:encoding:)-6e8rs`` encodes a value; the
/// file's header records it, so a reader needs no option.
public enum ObjectEncoding: UInt8, Sendable, CaseIterable {
    /// The package's compact binary format: fast, and arrays of numbers as contiguous blocks.
    case binary = 1
    /// JSON with sorted keys, from Foundation's JSONEncoder.
    case json = 2
}

/// The payload bytes for `value` in `encoding`.
///
/// - Throws: `ObjectFormatError` of kind `.encodingFailed`, with the coding path.
func encodeObjectPayload<T: Encodable>(_ value: T, encoding: ObjectEncoding) throws(ObjectFormatError) -> [UInt8] {
    do {
        switch encoding {
        case .binary:
            return try BinaryObjectEncoder.encode(value)
        case .json:
            return Array(try makeObjectJSONEncoder().encode(value))
        }
    } catch {
        throw .encodingFailed(error)
    }
}

/// The value of type `T` in `payload`, which holds exactly one value in `encoding`. The payload
/// is read in place and must stay valid during the call.
///
/// - Throws: `ObjectFormatError` of kind `.decodingFailed`, with the coding path: the payload
///   passed its checksum, so a failure means it holds another type or shape.
func decodeObjectPayload<T: Decodable>(
    _ type: T.Type, from payload: UnsafeRawBufferPointer, encoding: ObjectEncoding
) throws(ObjectFormatError) -> T {
    do {
        switch encoding {
        case .binary:
            return try BinaryObjectDecoder.decode(type, from: payload)
        case .json:
            // The payload outlives the call, so JSONDecoder can read it without a copy.
            let data =
                payload.baseAddress.map {
                    Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: $0), count: payload.count, deallocator: .none)
                } ?? Data()
            return try makeObjectJSONDecoder().decode(type, from: data)
        }
    } catch {
        throw .decodingFailed(error)
    }
}

// Dates use `.deferredToDate`: a Date is then its Double (seconds since 2001) and JSONEncoder
// writes Doubles in their shortest form that reads back to the same bits, so every Date
// round-trips exactly. `.iso8601` keeps whole seconds and ISO 8601 with fractional seconds keeps
// milliseconds; `.secondsSince1970` adds an offset that rounds. Non-finite floats are written as
// strings rather than refused, since a cache holds whatever numbers it is given.

/// The JSON encoder for object payloads: sorted keys (stable files), exact Dates, non-finite floats.
func makeObjectJSONEncoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    encoder.dateEncodingStrategy = .deferredToDate
    encoder.dataEncodingStrategy = .base64
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
        positiveInfinity: "+Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    return encoder
}

/// The JSON decoder matching `makeObjectJSONEncoder`.
func makeObjectJSONDecoder() -> JSONDecoder {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .deferredToDate
    decoder.dataDecodingStrategy = .base64
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
        positiveInfinity: "+Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    return decoder
}
