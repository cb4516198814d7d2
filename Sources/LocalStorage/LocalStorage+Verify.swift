extension LocalStorage {
    /// Checks a stored file's integrity as an object or array, without knowing its type: the
    /// header's fields and checksum, the payload's length, and the payload's CRC-32C, read in
    /// pieces with memory bounded whatever the size. Nothing is decoded.
    ///
    /// ```swift
    /// for name in try storage.listStoredFiles("features") {
    ///     if case .corrupted(let reason) = try storage.verifyStoredObject(name, context: "features") {
    ///         print("\(name): \(reason)")
    ///     }
    /// }
    /// ```
    ///
    /// A file stored with `uploadFile`, `withFileWriter` or a move has no header and is reported
    /// as `.notAnObject`. A file whose first bytes are the header's magic with one or two of its
    /// 8 bytes changed still counts as an object with a damaged header (`.corrupted`).
    ///
    /// The check is not a use: it does not mark the file used for `CacheLimits`, and asks the
    /// kernel not to update its access time (which it grants to the file's owner).
    ///
    /// - Parameters:
    ///   - fileName: The stored name (after `fileName(for:)`).
    ///   - context: The context; `""` is the root.
    /// - Returns: What the file holds: `.object` or `.array` when intact, `.notAnObject` for a
    ///   raw file, `.corrupted` with the reason when a check fails.
    /// - Throws: `LocalStorageError`: `.notFound`; `.notARegularFile`; `.invalidName`; an I/O
    ///   code when the file cannot be read. A damaged file is a result, not an error.
    public func verifyStoredObject(_ fileName: String, context: String) throws -> ObjectVerification {
        let target = try target(fileName, context, .verify)
        return try run(.verify, target) { try engine.verifyObject(target) }
    }
}

/// What `LocalStorage.verifyStoredObject(_:context:)` found in a stored file.
public enum ObjectVerification: Sendable, Equatable, CustomStringConvertible {
    /// An intact object stored by `uploadObject`: its header and payload checksums match.
    /// - Parameters:
    ///   - encoding: How the value was encoded.
    ///   - payloadBytes: The size of the encoded value after the 64-byte header.
    case object(encoding: ObjectEncoding, payloadBytes: Int64)
    /// An intact array stored by `uploadArray`: its header and payload checksums match.
    case array(StoredArrayLayout)
    /// A file that does not start with an object header: raw bytes, which carry no checksum.
    case notAnObject
    /// An object or array that fails a check: a damaged or truncated header, a payload of the
    /// wrong length, or a payload checksum mismatch (the bytes changed after they were written).
    /// `downloadObject` and `downloadArray` throw `.corrupted` for it.
    case corrupted(reason: String)

    /// Whether the file is an object or array that passed every check.
    public var isIntact: Bool {
        switch self {
        case .object, .array: true
        case .notAnObject, .corrupted: false
        }
    }

    /// One line: "object (binary, 120 bytes)", "array of 1000 elements of 4 bytes
    /// (little-endian)", "not an object", or "corrupted: " and the reason.
    public var description: String {
        switch self {
        case .object(let encoding, let payloadBytes):
            "object (\(encoding == .json ? "JSON" : "binary"), \(payloadBytes) bytes)"
        case .array(let layout):
            "array of \(layout.elementCount) elements of \(layout.elementStride) bytes ("
                + (layout.isLittleEndian ? "little" : "big") + "-endian)"
        case .notAnObject:
            "not an object"
        case .corrupted(let reason):
            "corrupted: \(reason)"
        }
    }
}

/// The layout of a stored array's elements, as its header records it.
public struct StoredArrayLayout: Sendable, Equatable {
    /// The number of elements.
    public var elementCount: Int64
    /// `MemoryLayout<Element>.size` of the writer's element type.
    public var elementSize: Int
    /// `MemoryLayout<Element>.stride`: the bytes each element takes in the payload.
    public var elementStride: Int
    /// `MemoryLayout<Element>.alignment`.
    public var elementAlignment: Int
    /// The byte order of the machine that wrote the elements.
    public var isLittleEndian: Bool
    /// A 64-bit FNV-1a hash of the element type's fully qualified name, which
    /// `downloadArray` compares with the requested type's.
    public var elementTypeHash: UInt64

    /// Creates a layout description.
    /// - Parameters:
    ///   - elementCount: The number of elements.
    ///   - elementSize: `MemoryLayout<Element>.size`.
    ///   - elementStride: `MemoryLayout<Element>.stride`.
    ///   - elementAlignment: `MemoryLayout<Element>.alignment`.
    ///   - isLittleEndian: Whether the writer was little-endian.
    ///   - elementTypeHash: The hash of the element type's fully qualified name.
    public init(
        elementCount: Int64, elementSize: Int, elementStride: Int, elementAlignment: Int, isLittleEndian: Bool,
        elementTypeHash: UInt64
    ) {
        self.elementCount = elementCount
        self.elementSize = elementSize
        self.elementStride = elementStride
        self.elementAlignment = elementAlignment
        self.isLittleEndian = isLittleEndian
        self.elementTypeHash = elementTypeHash
    }
}

extension LocalStorageError.Operation {
    /// ``LocalStorage/verifyStoredObject(_:context:)``.
    public static let verify = LocalStorageError.Operation("verify")
}
