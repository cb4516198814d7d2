import Foundation

extension LocalStorage {
    /// Stores a `Codable` value (the seed's pickled objects) as `fileName` in `context`,
    /// atomically, in the compact binary format.
    ///
    /// The file starts with a small header (magic, format version, encoding, payload length,
    /// CRC-32C of the payload), so a reader can tell what it holds and never decodes torn or
    /// bit-rotten bytes. Arrays of numbers inside the value are written as contiguous blocks.
    /// - Parameters:
    ///   - object: The value to store.
    ///   - fileName: The name to store it under (after ``LocalStorage/fileName(for:)``).
    ///   - context: The context; `""` is the root.
    /// - Returns: The on-disk name.
    /// - Throws: `LocalStorageError`: `.invalidArgument` if the value's own `encode(to:)` fails,
    ///   or any upload error.
    @discardableResult
    public func uploadObject<T: Encodable>(_ object: T, fileName: String, context: String) throws -> String {
        try uploadObject(object, fileName: fileName, context: context, encoding: .binary)
    }

    /// Stores a `Codable` value as `fileName` in `context`, atomically, in the chosen encoding:
    /// `.binary` (the default, fast) or `.json` (sorted keys, readable with any tool after the
    /// 64-byte header). ``downloadObject(_:fileName:context:)-50913`` reads either.
    /// - Parameters:
    ///   - object: The value to store.
    ///   - fileName: The name to store it under.
    ///   - context: The context; `""` is the root.
    ///   - encoding: How to encode the value.
    /// - Returns: The on-disk name.
    /// - Throws: `LocalStorageError`: `.invalidArgument` if the value cannot be encoded, or any
    ///   upload error.
    @discardableResult
    public func uploadObject<T: Encodable>(_ object: T, fileName: String, context: String, encoding: ObjectEncoding) throws -> String {
        let target = try target(fileName, context, .uploadObject)
        return try runObject(.uploadObject, target) {
            let payload: [UInt8]
            do throws(ObjectFormatError) {
                payload = try encodeObjectPayload(object, encoding: encoding)
            } catch {
                throw ObjectFailure(failure: error)
            }
            try payload.withUnsafeBytes { bytes in
                try engine.upload(header: ObjectHeader.object(payload: bytes, encoding: encoding).serialized(), payload: bytes, as: target)
            }
            return target.name
        }
    }

    /// The value stored by ``uploadObject(_:fileName:context:)-2wtkw``, its checksum verified
    /// before it is decoded.
    /// - Parameters:
    ///   - type: The type to decode.
    ///   - fileName: The stored name.
    ///   - context: The context; `""` is the root.
    /// - Returns: The value.
    /// - Throws: `LocalStorageError`: `.notFound`; `.corrupted` for a checksum, header or length
    ///   mismatch, or a file that was not written as an object; `.decodingFailed` for an intact
    ///   object of another type or shape.
    public func downloadObject<T: Decodable>(_ type: T.Type, fileName: String, context: String) throws -> T {
        let target = try target(fileName, context, .downloadObject)
        return try runObject(.downloadObject, target) {
            guard let value = try engine.downloadObject(type, target, missingIsNil: false) else {
                throw SyscallError(syscall: .openat2, errno: .noSuchFile)
            }
            return value
        }
    }

    /// The value stored by `uploadObject`, or nil when there is no such file (one lookup, no
    /// error built on a miss).
    /// - Parameters:
    ///   - type: The type to decode.
    ///   - fileName: The stored name.
    ///   - context: The context; `""` is the root.
    /// - Returns: The value, or nil.
    /// - Throws: ``LocalStorageError``: `.corrupted`, `.decodingFailed` as
    ///   ``downloadObject(_:fileName:context:)-50913`` does.
    public func downloadObjectIfExists<T: Decodable>(_ type: T.Type, fileName: String, context: String) throws -> T? {
        let target = try target(fileName, context, .downloadObject)
        return try runObject(.downloadObject, target) { try engine.downloadObject(type, target, missingIsNil: true) }
    }

    /// Stores an array of `BitwiseCopyable` elements (embeddings, feature matrices) as one
    /// contiguous block after the header, with no per-element work: the bytes go from the
    /// array's storage to the kernel.
    /// - Parameters:
    ///   - array: The elements.
    ///   - fileName: The name to store them under.
    ///   - context: The context; `""` is the root.
    /// - Returns: The on-disk name.
    /// - Throws: `LocalStorageError`, as any upload.
    @discardableResult
    public func uploadArray<Element: BitwiseCopyable>(_ array: [Element], fileName: String, context: String) throws -> String {
        let target = try target(fileName, context, .uploadObject)
        return try runObject(.uploadObject, target) {
            try array.withUnsafeBufferPointer { elements in
                let header = ObjectHeader.array(elements).serialized()
                try engine.upload(header: header, payload: UnsafeRawBufferPointer(elements), as: target)
            }
            return target.name
        }
    }

    /// The elements stored by ``uploadArray(_:fileName:context:)-6m8go``, read straight into the
    /// array's storage and verified against the stored checksum.
    /// - Parameters:
    ///   - type: The element type; it must be the stored one (same type, size and byte order).
    ///   - fileName: The stored name.
    ///   - context: The context; `""` is the root.
    /// - Returns: The elements.
    /// - Throws: `LocalStorageError`: `.notFound`; `.corrupted` for a damaged or non-array file;
    ///   `.decodingFailed` when the stored element type or size differs from `type`.
    public func downloadArray<Element: BitwiseCopyable>(_ type: Element.Type, fileName: String, context: String) throws -> [Element] {
        let target = try target(fileName, context, .downloadObject)
        return try runObject(.downloadObject, target) { try engine.downloadArray(type, target) }
    }
}
