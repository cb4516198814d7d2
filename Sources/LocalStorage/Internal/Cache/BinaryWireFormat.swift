// The binary object coder's wire format, version 1.
//
//     payload  = version:u8 value                  (nothing may follow the value)
//     value    = tag:u8 body
//
//     tag   body
//     0x00  (none)                                 nil
//     0x01  (none) / 0x02 (none)                   false / true
//     0x03–0x0A  1, 2, 4, 8 bytes                  Int8…Int64, then UInt8…UInt64 (Int is Int64)
//     0x0B–0x0D  2, 4, 8 bytes                     Float16, Float, Double (IEEE bits)
//     0x0E, 0x0F 16 bytes                          Int128, UInt128
//     0x10  length:varint utf8[length]             String (valid UTF-8)
//     0x11  8 bytes                                Date (Double seconds since 2001, as Date stores it)
//     0x12  element:u8 count:varint raw[count×w]   packed array of a fixed-width number (element
//                                                  is its tag, w its width): [T], ContiguousArray<T>
//                                                  and Data (UInt8) as one block, no per-element work
//     0x13  length:varint entry*                   keyed container; entry = keyLength:varint
//                                                  key:utf8[keyLength] value; keys are unique
//     0x14  length:varint value*                   unkeyed container
//
// Fixed-width numbers are little-endian. varint is unsigned LEB128 in its shortest form (at most
// 10 bytes). A container's length counts the bytes after it, so a reader skips any value in O(1):
// a keyed container is checked whole when it is opened (every entry in bounds, keys valid UTF-8)
// and its keys are then looked up by name, whatever order a type asks for them in.

/// Constants of the binary object format.
enum BinaryFormat {
    /// The first byte of every binary payload.
    static let version: UInt8 = 1
    /// How deep values may nest when decoding, so that hostile input cannot exhaust the stack of a
    /// recursive type's decoder (JSONDecoder stops at the same depth).
    static let maximumDepth = 512
}

/// The first byte of every encoded value.
enum WireTag: UInt8, CustomStringConvertible {
    case null = 0x00, falseValue = 0x01, trueValue = 0x02
    case int8 = 0x03, int16 = 0x04, int32 = 0x05, int64 = 0x06
    case uint8 = 0x07, uint16 = 0x08, uint32 = 0x09, uint64 = 0x0A
    case float16 = 0x0B, float32 = 0x0C, float64 = 0x0D
    case int128 = 0x0E, uint128 = 0x0F
    case string = 0x10, date = 0x11, packed = 0x12, keyed = 0x13, unkeyed = 0x14

    /// The width of the body of a fixed-width number or a Date; nil for the other tags.
    var fixedWidth: Int? {
        switch self {
        case .int8, .uint8: 1
        case .int16, .uint16, .float16: 2
        case .int32, .uint32, .float32: 4
        case .int64, .uint64, .float64, .date: 8
        case .int128, .uint128: 16
        case .null, .falseValue, .trueValue, .string, .packed, .keyed, .unkeyed: nil
        }
    }

    /// Whether a packed array may hold elements of this tag.
    var isPackable: Bool {
        switch self {
        case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64: true
        case .float16, .float32, .float64: true
        default: false
        }
    }

    var description: String {
        switch self {
        case .null: "nil"
        case .falseValue, .trueValue: "Bool"
        case .int8: "Int8"
        case .int16: "Int16"
        case .int32: "Int32"
        case .int64: "Int64"
        case .uint8: "UInt8"
        case .uint16: "UInt16"
        case .uint32: "UInt32"
        case .uint64: "UInt64"
        case .float16: "Float16"
        case .float32: "Float"
        case .float64: "Double"
        case .int128: "Int128"
        case .uint128: "UInt128"
        case .string: "String"
        case .date: "Date"
        case .packed: "a packed array"
        case .keyed: "a keyed container"
        case .unkeyed: "an unkeyed container"
        }
    }
}

/// Why bytes do not decode, before the decoder adds the coding path.
enum WireError: Error {
    /// The bytes break the format: out of bounds, an unknown tag, invalid UTF-8...
    case malformed(String)
    /// A well-formed value of another kind than the one asked for (`element`: a packed array's).
    case mismatch(found: WireTag, element: WireTag? = nil)
    /// The error of element `index`, a `element`, of an array read directly.
    indirect case inElement(Int, element: String, WireError)
}

// MARK: Reading

/// The payload being decoded, with bounds-checked reads: every length is checked against a limit
/// (the end of the enclosing container) before anything uses it.
final class BinaryInput {
    let base: UnsafeRawPointer
    let count: Int
    /// Bytes copied out of the input into decoded Strings, arrays, Data and keys. Every such copy
    /// is of bytes that are there, so one pass over a value keeps this at most `count`; the fuzz
    /// tests check it.
    @exclusivity(unchecked) var copiedBytes = 0
    /// Where the next lookup in a keyed container probably is, per nesting depth: types ask for
    /// their keys in the order they wrote them, so most lookups cost one comparison.
    /// (Only one decoding runs over an input, on one thread: no exclusivity checks needed.)
    @exclusivity(unchecked) var keyedHints: [KeyedLookupHint] = []

    init(base: UnsafeRawPointer, count: Int) {
        self.base = base
        self.count = count
    }

    @inline(__always)
    func tag(at offset: Int, limit: Int) throws(WireError) -> WireTag {
        guard offset < limit else { throw .malformed("a value is cut off at byte \(offset)") }
        let byte = base.load(fromByteOffset: offset, as: UInt8.self)
        guard let tag = WireTag(rawValue: byte) else {
            throw .malformed("unknown tag 0x\(String(byte, radix: 16)) at byte \(offset)")
        }
        return tag
    }

    /// Reads a varint at `offset`, moves `offset` past it, and checks that it is at most the bytes
    /// left before `limit`: every varint is a length or a count of at least one byte each.
    @inline(__always)
    func length(at offset: inout Int, limit: Int) throws(WireError) -> Int {
        // Most lengths fit in one byte.
        if offset < limit {
            let byte = base.load(fromByteOffset: offset, as: UInt8.self)
            if byte < 0x80 && Int(byte) <= limit - offset - 1 {
                offset += 1
                return Int(byte)
            }
        }
        return try longLength(at: &offset, limit: limit)
    }

    private func longLength(at offset: inout Int, limit: Int) throws(WireError) -> Int {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        let start = offset
        while true {
            guard offset < limit else { throw .malformed("a length is cut off at byte \(start)") }
            let byte = base.load(fromByteOffset: offset, as: UInt8.self)
            offset += 1
            // The tenth byte may only hold the top bit of a UInt64.
            if shift == 63 && byte > 1 { throw .malformed("a length overflows 64 bits at byte \(start)") }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                if byte == 0 && shift > 0 { throw .malformed("a length is not in its shortest form at byte \(start)") }
                break
            }
            shift += 7
        }
        guard value <= UInt64(limit - offset) else {
            throw .malformed("a length of \(value) at byte \(start) runs past the \(limit - offset) bytes left")
        }
        return Int(value)
    }

    /// The offset just past the value at `offset`, which must end by `limit`. O(1): containers
    /// carry their length.
    func end(ofValueAt offset: Int, limit: Int) throws(WireError) -> Int {
        let tag = try tag(at: offset, limit: limit)
        var position = offset + 1
        if let width = tag.fixedWidth {
            guard width <= limit - position else { throw .malformed("a \(tag) at byte \(offset) is cut off") }
            return position + width
        }
        switch tag {
        case .null, .falseValue, .trueValue:
            return position
        case .string, .keyed, .unkeyed:
            let length = try length(at: &position, limit: limit)
            return position + length
        case .packed:
            let element = try self.tag(at: position, limit: limit)
            position += 1
            guard element.isPackable, let width = element.fixedWidth else {
                throw .malformed("a packed array at byte \(offset) holds \(element), which cannot be packed")
            }
            let count = try length(at: &position, limit: limit)
            guard count <= (limit - position) / width else {
                throw .malformed("a packed array of \(count) \(element) at byte \(offset) runs past the \(limit - position) bytes left")
            }
            return position + count * width
        default:
            throw .malformed("a \(tag) at byte \(offset) has no fixed width")
        }
    }

    func load<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    /// The first element and count of the packed array whose tag is at `offset`, after checking
    /// that its elements are `Element`; the elements' bytes count as copied out.
    func packedElements<Element: PackedScalar>(
        of _: Element.Type, at offset: Int
    ) throws(WireError) -> (source: UnsafeRawPointer, count: Int) {
        let found = try tag(at: offset, limit: count)
        guard found == .packed else { throw .mismatch(found: found) }
        var position = offset + 1
        let element = try tag(at: position, limit: count)
        guard element == Element.wireTag else { throw .mismatch(found: .packed, element: element) }
        position += 1
        let elements = try length(at: &position, limit: count)
        guard elements <= (count - position) / MemoryLayout<Element>.size else {
            throw .malformed("a packed array of \(elements) \(element) at byte \(offset) runs past the end")
        }
        copiedBytes += elements * MemoryLayout<Element>.size
        return (base + position, elements)
    }

    func bytes(at offset: Int, count: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: (base + offset).assumingMemoryBound(to: UInt8.self), count: count)
    }

    /// Whether `count` bytes at `offset` are valid UTF-8, allocating only for non-ASCII text.
    func isValidUTF8(at offset: Int, count: Int) -> Bool {
        let text = bytes(at: offset, count: count)
        return isASCII(text) || String(validating: text, as: UTF8.self) != nil
    }

    /// The String of `count` bytes at `offset`, or nil if they are not valid UTF-8.
    func string(at offset: Int, count: Int) -> String? {
        let text = bytes(at: offset, count: count)
        // ASCII is valid UTF-8, and String(decoding:) is much cheaper than String(validating:).
        if isASCII(text) { return String(decoding: text, as: UTF8.self) }
        return String(validating: text, as: UTF8.self)
    }

    private func isASCII(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let start = text.baseAddress else { return true }
        var index = 0
        // Eight bytes at a time: no byte has its top bit set.
        while index + 8 <= text.count {
            if UnsafeRawPointer(start + index).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 != 0 {
                return false
            }
            index += 8
        }
        while index < text.count {
            if text[index] >= 0x80 { return false }
            index += 1
        }
        return true
    }
}

// MARK: Writing

extension Array where Element == UInt8 {
    mutating func appendVarint(_ value: Int) {
        var rest = UInt64(value)
        while rest >= 0x80 {
            append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        append(UInt8(rest))
    }
}

/// The bytes a varint of `value` takes.
func varintSize(_ value: Int) -> Int {
    var size = 1
    var rest = UInt64(value) >> 7
    while rest != 0 {
        size += 1
        rest >>= 7
    }
    return size
}

/// The last entry a keyed container matched and the entry after it, for the container starting at
/// `container`; lookups try these two before scanning.
struct KeyedLookupHint {
    var container = -1
    var last = -1
    var next = -1
}
