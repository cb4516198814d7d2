// The header in front of every stored object and array: it says what the file holds, so that a
// reader can refuse what it cannot read, and it checksums itself and the payload, so that a
// reader never decodes torn or bit-rotten bytes.
//
// 64 bytes, little-endian; the payload follows at offset 64 (a multiple of 16, so an array read
// right after the header, or mapped with it, is aligned for any standard element type).
//
//     offset size  field
//      0     8     magic 89 'L' 'S' 'O' 'B' 'J' 0D 0A: a high byte (not text), then CR LF (a
//                  file mangled by newline conversion fails here, not later)
//      8     2     header format version (1)
//     10     1     kind: 1 object, 2 array
//     11     1     encoding: 1 binary, 2 JSON (objects); 3 raw little-endian, 4 raw big-endian
//                  (arrays: the elements' bytes as in memory, in the writer's byte order)
//     12     4     element size    (arrays; 0 for objects)
//     16     4     element stride  (arrays; 0 for objects)
//     20     4     element alignment (arrays; 0 for objects)
//     24     8     element type identity (arrays; 0 for objects), see ArrayElementType
//     32     8     element count   (arrays; 0 for objects)
//     40     8     payload length in bytes
//     48     4     payload CRC-32C
//     52     8     reserved, zero
//     60     4     CRC-32C of bytes 0..<60

/// The header of a stored object or array.
struct ObjectHeader: Equatable, Sendable {
    /// The header's size, and the payload's offset in the file.
    static let size = 64
    static let magic: [UInt8] = [0x89, 0x4C, 0x53, 0x4F, 0x42, 0x4A, 0x0D, 0x0A]
    static let currentVersion: UInt16 = 1

    enum Kind: UInt8, Sendable {
        case object = 1
        case array = 2
    }

    enum Encoding: UInt8, Sendable {
        case binary = 1
        case json = 2
        case rawLittleEndian = 3
        case rawBigEndian = 4

        /// How this machine lays out an array's elements.
        static var nativeRaw: Encoding {
            #if _endian(little)
            .rawLittleEndian
            #else
            .rawBigEndian
            #endif
        }
    }

    var kind: Kind
    var encoding: Encoding
    /// `.none` for objects.
    var element: ArrayElementType
    /// 0 for objects.
    var elementCount: UInt64
    var payloadLength: UInt64
    var payloadChecksum: UInt32

    init(
        kind: Kind, encoding: Encoding, element: ArrayElementType, elementCount: UInt64, payloadLength: UInt64,
        payloadChecksum: UInt32
    ) {
        self.kind = kind
        self.encoding = encoding
        self.element = element
        self.elementCount = elementCount
        self.payloadLength = payloadLength
        self.payloadChecksum = payloadChecksum
    }

    // MARK: Building

    /// The header for an object whose encoded payload is `payload`.
    static func object(payload: UnsafeRawBufferPointer, encoding: ObjectEncoding) -> ObjectHeader {
        ObjectHeader(
            kind: .object, encoding: encoding == .binary ? .binary : .json, element: .none, elementCount: 0,
            payloadLength: UInt64(payload.count), payloadChecksum: CRC32C.checksum(payload))
    }

    /// The header for an array whose payload is the bytes of `elements`, as they are in memory.
    static func array<Element: BitwiseCopyable>(_ elements: UnsafeBufferPointer<Element>) -> ObjectHeader {
        array(of: Element.self, count: elements.count, payloadChecksum: CRC32C.checksum(UnsafeRawBufferPointer(elements)))
    }

    /// The header for an array of `count` elements whose bytes have the CRC-32C `payloadChecksum`
    /// (for a writer that checksums the elements piece by piece as it writes them).
    static func array<Element: BitwiseCopyable>(of type: Element.Type, count: Int, payloadChecksum: UInt32) -> ObjectHeader {
        // An array in memory has at most Int.max bytes, so the length cannot overflow.
        let count = UInt64(clamping: count)
        let (length, overflow) = count.multipliedReportingOverflow(by: UInt64(MemoryLayout<Element>.stride))
        return ObjectHeader(
            kind: .array, encoding: .nativeRaw, element: ArrayElementType(type), elementCount: count,
            payloadLength: overflow ? .max : length, payloadChecksum: payloadChecksum)
    }

    /// The header's 64 bytes.
    func serialized() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.size)
        bytes.withUnsafeMutableBytes { header in
            header.copyBytes(from: Self.magic)
            header.storeBytes(of: Self.currentVersion.littleEndian, toByteOffset: 8, as: UInt16.self)
            header.storeBytes(of: kind.rawValue, toByteOffset: 10, as: UInt8.self)
            header.storeBytes(of: encoding.rawValue, toByteOffset: 11, as: UInt8.self)
            header.storeBytes(of: element.size.littleEndian, toByteOffset: 12, as: UInt32.self)
            header.storeBytes(of: element.stride.littleEndian, toByteOffset: 16, as: UInt32.self)
            header.storeBytes(of: element.alignment.littleEndian, toByteOffset: 20, as: UInt32.self)
            header.storeBytes(of: element.identity.littleEndian, toByteOffset: 24, as: UInt64.self)
            header.storeBytes(of: elementCount.littleEndian, toByteOffset: 32, as: UInt64.self)
            header.storeBytes(of: payloadLength.littleEndian, toByteOffset: 40, as: UInt64.self)
            header.storeBytes(of: payloadChecksum.littleEndian, toByteOffset: 48, as: UInt32.self)
            header.storeBytes(of: UInt64(0), toByteOffset: 52, as: UInt64.self)
            let checksum = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: header[0..<60]))
            header.storeBytes(of: checksum.littleEndian, toByteOffset: 60, as: UInt32.self)
        }
        return bytes
    }

    // MARK: Reading

    /// Parses and checks the header at the start of a file of `fileSize` bytes, of which `bytes`
    /// holds the first `min(fileSize, ObjectHeader.size)` or more.
    ///
    /// - Throws: `ObjectFormatError` of kind `.corrupted` when the file is shorter than a header
    ///   or does not start with one (a raw upload), or when the version, the header checksum, a
    ///   field, or the payload length (against `fileSize`) is wrong.
    init(parsing bytes: UnsafeRawBufferPointer, fileSize: Int) throws(ObjectFormatError) {
        guard fileSize >= Self.size, bytes.count >= Self.size else {
            throw .corrupted(
                "the file is \(fileSize) bytes, shorter than the \(Self.size)-byte header of a stored object or array (was it stored as raw bytes?)"
            )
        }
        let header = UnsafeRawBufferPointer(rebasing: bytes[0..<Self.size])
        guard header[0..<8].elementsEqual(Self.magic) else {
            throw .corrupted("the file does not start with an object header (was it stored as raw bytes?)")
        }
        func load<T: FixedWidthInteger>(_ offset: Int, as _: T.Type) -> T {
            T(littleEndian: header.loadUnaligned(fromByteOffset: offset, as: T.self))
        }
        let version = load(8, as: UInt16.self)
        guard version == Self.currentVersion else {
            throw .corrupted("object header version \(version) is not supported (this build reads version \(Self.currentVersion))")
        }
        let storedHeaderChecksum = load(60, as: UInt32.self)
        let headerChecksum = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: header[0..<60]))
        guard storedHeaderChecksum == headerChecksum else {
            throw .corrupted(
                "the object header's checksum does not match (stored \(hex(storedHeaderChecksum)), computed \(hex(headerChecksum)))")
        }
        guard let kind = Kind(rawValue: header[10]) else { throw .corrupted("unknown object kind \(header[10]) in the header") }
        guard let encoding = Encoding(rawValue: header[11]) else {
            throw .corrupted("unknown payload encoding \(header[11]) in the header")
        }
        guard load(52, as: UInt64.self) == 0 else { throw .corrupted("reserved header bytes are not zero") }
        let element = ArrayElementType(
            size: load(12, as: UInt32.self), stride: load(16, as: UInt32.self), alignment: load(20, as: UInt32.self),
            identity: load(24, as: UInt64.self))
        let elementCount = load(32, as: UInt64.self)
        let payloadLength = load(40, as: UInt64.self)

        switch kind {
        case .object:
            guard encoding == .binary || encoding == .json else {
                throw .corrupted("an object header names the array encoding \(encoding)")
            }
            guard element == .none, elementCount == 0 else { throw .corrupted("an object header carries array fields") }
        case .array:
            guard encoding == .rawLittleEndian || encoding == .rawBigEndian else {
                throw .corrupted("an array header names the object encoding \(encoding)")
            }
            guard element.isPossibleLayout else {
                throw .corrupted(
                    "an array header names an impossible element layout (size \(element.size), stride \(element.stride), alignment \(element.alignment))"
                )
            }
            let (length, overflow) = elementCount.multipliedReportingOverflow(by: UInt64(element.stride))
            guard !overflow, length == payloadLength else {
                throw .corrupted(
                    "an array header's \(elementCount) elements of stride \(element.stride) do not make its \(payloadLength)-byte payload")
            }
        }
        guard payloadLength == UInt64(fileSize - Self.size) else {
            throw .corrupted(
                "the header announces a \(payloadLength)-byte payload but the file holds \(fileSize - Self.size) bytes after it")
        }
        self.init(
            kind: kind, encoding: encoding, element: element, elementCount: elementCount, payloadLength: payloadLength,
            payloadChecksum: load(48, as: UInt32.self))
    }

    /// Checks the payload that followed this header against the length and checksum it records.
    ///
    /// - Throws: `ObjectFormatError` of kind `.corrupted` on a mismatch.
    func verifyPayload(_ payload: UnsafeRawBufferPointer) throws(ObjectFormatError) {
        try verifyPayload(length: payload.count, checksum: CRC32C.checksum(payload))
    }

    /// Checks a payload's length and CRC-32C (computed piece by piece by the caller) against the
    /// ones this header records.
    ///
    /// - Throws: `ObjectFormatError` of kind `.corrupted` on a mismatch.
    func verifyPayload(length: Int, checksum: UInt32) throws(ObjectFormatError) {
        guard UInt64(length) == payloadLength else {
            throw .corrupted("the payload is \(length) bytes, the header announces \(payloadLength)")
        }
        guard checksum == payloadChecksum else {
            throw .corrupted(
                "the payload's checksum does not match (stored \(hex(payloadChecksum)), computed \(hex(checksum))): the bytes changed after they were written"
            )
        }
    }

    /// The encoding of the object this header describes.
    ///
    /// - Throws: `ObjectFormatError` of kind `.decodingFailed` when it describes an array.
    func objectEncoding() throws(ObjectFormatError) -> ObjectEncoding {
        switch encoding {
        case .binary: return .binary
        case .json: return .json
        case .rawLittleEndian, .rawBigEndian:
            throw .decodingFailed("the file holds an array of \(elementCount) elements, not an object")
        }
    }

    /// The element count of the array of `Element` this header describes.
    ///
    /// - Throws: `ObjectFormatError` of kind `.decodingFailed` when it describes an object, or an
    ///   array of another element type, size, stride or alignment, or of another byte order.
    func arrayCount<Element: BitwiseCopyable>(of type: Element.Type) throws(ObjectFormatError) -> Int {
        guard kind == .array else { throw .decodingFailed("the file holds an object, not an array") }
        let requested = ArrayElementType(type)
        guard element == requested else {
            throw .decodingFailed(
                "the array's elements are not \(ArrayElementType.name(of: type)): stored \(element), requested \(requested)")
        }
        guard encoding == .nativeRaw else {
            throw .decodingFailed("the array was written on a machine of the other byte order")
        }
        // The parser checked count × stride == payloadLength == the file's size less the header,
        // and stride ≥ 1, so the count fits in Int.
        guard let count = Int(exactly: elementCount) else {
            throw .decodingFailed("the array's \(elementCount) elements are more than this machine can address")
        }
        return count
    }
}

/// What identifies an array's element type in a header: its layout, and a 64-bit FNV-1a hash of
/// its fully qualified name (`String(reflecting:)`, e.g. `Swift.SIMD4<Swift.Float>`).
///
/// A name, unlike a metadata pointer or `ObjectIdentifier`, is the same in every process and
/// build; a hash of it keeps the header fixed-size whatever the generic arguments. The layout
/// catches a type that kept its name but changed its fields' sizes. Renaming a type or its module
/// makes its arrays unreadable (`.decodingFailed`), the safe side. Private and local types carry
/// an address in their names, which is dropped, so they are told apart by name and layout only.
struct ArrayElementType: Equatable, Sendable, CustomStringConvertible {
    var size: UInt32
    var stride: UInt32
    var alignment: UInt32
    var identity: UInt64

    /// The fields of an object header.
    static let none = ArrayElementType(size: 0, stride: 0, alignment: 0, identity: 0)

    init(size: UInt32, stride: UInt32, alignment: UInt32, identity: UInt64) {
        self.size = size
        self.stride = stride
        self.alignment = alignment
        self.identity = identity
    }

    init<Element: BitwiseCopyable>(_ type: Element.Type) {
        size = UInt32(clamping: MemoryLayout<Element>.size)
        stride = UInt32(clamping: MemoryLayout<Element>.stride)
        alignment = UInt32(clamping: MemoryLayout<Element>.alignment)
        identity = Self.fnv1a64(Self.name(of: type))
    }

    /// Whether a Swift type could have this layout.
    var isPossibleLayout: Bool {
        stride >= 1 && size <= stride && alignment >= 1 && alignment & (alignment - 1) == 0 && stride % alignment == 0
    }

    /// The type's name with the addresses of private and local contexts left out: they change
    /// from one run to the next (`Module.(unknown context at $55d0c0a8).Point`).
    static func name(of type: Any.Type) -> String {
        let full = String(reflecting: type)
        let marker = "(unknown context at $"
        guard full.contains(marker) else { return full }
        var name = ""
        var rest = Substring(full)
        while let range = rest.range(of: marker) {
            name += rest[..<range.lowerBound]
            name += "(unknown context)"
            rest = rest[range.upperBound...]
            if let close = rest.firstIndex(of: ")") { rest = rest[rest.index(after: close)...] }
        }
        return name + rest
    }

    static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    var description: String { "size \(size), stride \(stride), alignment \(alignment), type hash \(hex(identity))" }
}

private func hex(_ value: some FixedWidthInteger) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, value.bitWidth / 4 - digits.count)) + digits
}
