import Foundation

// How each value the binary coder handles itself (without Codable's containers) is written and
// read: the numbers, Bool, String, Date, Data, and arrays of fixed-width numbers.

/// A type the binary coder writes and reads itself, without going through `Codable`: scalars,
/// arrays of scalars, Data and Date.
protocol DirectlyCoded {
    /// Reads the value whose tag is at `offset`; the value's extent was checked by the caller.
    static func readDirectly(from input: BinaryInput, at offset: Int) throws(WireError) -> Self
    /// Appends the value's tag and body.
    func appendDirectly(to bytes: inout [UInt8])
}

/// A value stored as a tag and a body: the numbers, Bool and String. Arrays of them are read and
/// written directly too: packed for fixed-width numbers, else as unkeyed containers of scalars.
protocol WireScalar: DirectlyCoded {
    /// Reads the value whose tag is at `offset`; the caller checked the value's extent.
    static func read(from input: BinaryInput, at offset: Int) throws(WireError) -> Self
    /// Appends the tag and body.
    func append(to bytes: inout [UInt8])
    /// The number of bytes `append` writes.
    var wireSize: Int { get }

    /// Appends `elements` as one array value.
    static func appendArray(_ elements: UnsafeBufferPointer<Self>, to bytes: inout [UInt8])
    /// Replaces `array` with the packed array whose tag is at `offset` and returns true, or
    /// returns false when arrays of this type are never packed.
    static func readPackedArray(from input: BinaryInput, at offset: Int, into array: inout [Self]) throws(WireError) -> Bool
    /// `readPackedArray` for a ContiguousArray.
    static func readPackedArray(
        from input: BinaryInput, at offset: Int, into array: inout ContiguousArray<Self>
    ) throws(WireError) -> Bool
}

extension WireScalar {
    static func readDirectly(from input: BinaryInput, at offset: Int) throws(WireError) -> Self {
        try read(from: input, at: offset)
    }
    func appendDirectly(to bytes: inout [UInt8]) { append(to: &bytes) }

    // Arrays of scalars that are not fixed-width numbers: an unkeyed container of scalars.
    static func appendArray(_ elements: UnsafeBufferPointer<Self>, to bytes: inout [UInt8]) {
        var length = 0
        for element in elements { length += element.wireSize }
        bytes.append(WireTag.unkeyed.rawValue)
        bytes.appendVarint(length)
        for element in elements { element.append(to: &bytes) }
    }
    static func readPackedArray(from input: BinaryInput, at offset: Int, into array: inout [Self]) throws(WireError) -> Bool {
        false
    }
    static func readPackedArray(
        from input: BinaryInput, at offset: Int, into array: inout ContiguousArray<Self>
    ) throws(WireError) -> Bool {
        false
    }

    /// Reads an array of this type, packed or as an unkeyed container of scalars.
    static func readArray(from input: BinaryInput, at offset: Int) throws(WireError) -> [Self] {
        var array: [Self] = []
        if try input.tag(at: offset, limit: input.count) == .packed {
            guard try readPackedArray(from: input, at: offset, into: &array) else {
                throw .mismatch(found: .packed, element: try input.tag(at: offset + 1, limit: input.count))
            }
            return array
        }
        let content = try input.containerContent(at: offset, tag: .unkeyed)
        // Count first, so that the array is allocated once: every element takes at least a byte.
        var count = 0
        var position = content.lowerBound
        while position < content.upperBound {
            position = try input.end(ofValueAt: position, limit: content.upperBound)
            count += 1
        }
        array.reserveCapacity(count)
        position = content.lowerBound
        while position < content.upperBound {
            do {
                array.append(try read(from: input, at: position))
            } catch {
                throw .inElement(array.count, element: String(describing: Self.self), error)
            }
            position = try input.end(ofValueAt: position, limit: content.upperBound)
        }
        return array
    }
}

// MARK: Fixed-width numbers

/// A fixed-width number: a scalar is its tag and little-endian bytes, and a packed array holds
/// the little-endian bytes of its elements back to back.
protocol PackedScalar: WireScalar, BitwiseCopyable {
    static var wireTag: WireTag { get }
    /// The value from its little-endian bytes at `pointer`, at any alignment.
    static func loadLittleEndian(from pointer: UnsafeRawPointer) -> Self
    /// The value with its bytes in little-endian order (itself on little-endian machines).
    var littleEndianRepresentation: Self { get }
}

extension PackedScalar {
    static func read(from input: BinaryInput, at offset: Int) throws(WireError) -> Self {
        let tag = try input.tag(at: offset, limit: input.count)
        guard tag == wireTag else { throw .mismatch(found: tag) }
        return loadLittleEndian(from: input.base + offset + 1)
    }

    func append(to bytes: inout [UInt8]) {
        bytes.append(Self.wireTag.rawValue)
        withUnsafeBytes(of: littleEndianRepresentation) { bytes.append(contentsOf: $0) }
    }

    var wireSize: Int { 1 + MemoryLayout<Self>.size }

    static func appendArray(_ elements: UnsafeBufferPointer<Self>, to bytes: inout [UInt8]) {
        bytes.appendPacked(elements)
    }

    static func readPackedArray(from input: BinaryInput, at offset: Int, into array: inout [Self]) throws(WireError) -> Bool {
        let (source, count) = try input.packedElements(of: Self.self, at: offset)
        array = [Self](unsafeUninitializedCapacity: count) { buffer, initialized in
            UnsafeMutableBufferPointer(rebasing: buffer[0..<count]).initialize(fromPacked: source)
            initialized = count
        }
        return true
    }

    static func readPackedArray(
        from input: BinaryInput, at offset: Int, into array: inout ContiguousArray<Self>
    ) throws(WireError) -> Bool {
        let (source, count) = try input.packedElements(of: Self.self, at: offset)
        array = ContiguousArray<Self>(unsafeUninitializedCapacity: count) { buffer, initialized in
            UnsafeMutableBufferPointer(rebasing: buffer[0..<count]).initialize(fromPacked: source)
            initialized = count
        }
        return true
    }
}

extension PackedScalar where Self: FixedWidthInteger {
    static func loadLittleEndian(from pointer: UnsafeRawPointer) -> Self {
        Self(littleEndian: pointer.loadUnaligned(as: Self.self))
    }
    var littleEndianRepresentation: Self { littleEndian }
}

extension Int8: PackedScalar { static var wireTag: WireTag { .int8 } }
extension Int16: PackedScalar { static var wireTag: WireTag { .int16 } }
extension Int32: PackedScalar { static var wireTag: WireTag { .int32 } }
extension Int64: PackedScalar { static var wireTag: WireTag { .int64 } }
extension UInt8: PackedScalar { static var wireTag: WireTag { .uint8 } }
extension UInt16: PackedScalar { static var wireTag: WireTag { .uint16 } }
extension UInt32: PackedScalar { static var wireTag: WireTag { .uint32 } }
extension UInt64: PackedScalar { static var wireTag: WireTag { .uint64 } }

#if _pointerBitWidth(_64)
// Int and UInt have the layout of Int64 and UInt64, so [Int] is stored exactly like [Int64].
extension Int: PackedScalar { static var wireTag: WireTag { .int64 } }
extension UInt: PackedScalar { static var wireTag: WireTag { .uint64 } }
#else
extension Int: WireScalar {
    static func read(from input: BinaryInput, at offset: Int) throws(WireError) -> Int {
        let wide = try Int64.read(from: input, at: offset)
        guard let value = Int(exactly: wide) else { throw .malformed("\(wide) does not fit in Int") }
        return value
    }
    func append(to bytes: inout [UInt8]) { Int64(self).append(to: &bytes) }
    var wireSize: Int { 9 }
}
extension UInt: WireScalar {
    static func read(from input: BinaryInput, at offset: Int) throws(WireError) -> UInt {
        let wide = try UInt64.read(from: input, at: offset)
        guard let value = UInt(exactly: wide) else { throw .malformed("\(wide) does not fit in UInt") }
        return value
    }
    func append(to bytes: inout [UInt8]) { UInt64(self).append(to: &bytes) }
    var wireSize: Int { 9 }
}
#endif

extension Float: PackedScalar {
    static var wireTag: WireTag { .float32 }
    static func loadLittleEndian(from pointer: UnsafeRawPointer) -> Float {
        Float(bitPattern: UInt32(littleEndian: pointer.loadUnaligned(as: UInt32.self)))
    }
    var littleEndianRepresentation: Float { Float(bitPattern: bitPattern.littleEndian) }
}

extension Double: PackedScalar {
    static var wireTag: WireTag { .float64 }
    static func loadLittleEndian(from pointer: UnsafeRawPointer) -> Double {
        Double(bitPattern: UInt64(littleEndian: pointer.loadUnaligned(as: UInt64.self)))
    }
    var littleEndianRepresentation: Double { Double(bitPattern: bitPattern.littleEndian) }
}

#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
extension Float16: PackedScalar {
    static var wireTag: WireTag { .float16 }
    static func loadLittleEndian(from pointer: UnsafeRawPointer) -> Float16 {
        Float16(bitPattern: UInt16(littleEndian: pointer.loadUnaligned(as: UInt16.self)))
    }
    var littleEndianRepresentation: Float16 { Float16(bitPattern: bitPattern.littleEndian) }
}
#endif

// Int128 and UInt128 are scalars but never packed: their alignment differs between platforms.
extension Int128: WireScalar {
    static func read(from input: BinaryInput, at offset: Int) throws(WireError) -> Int128 {
        let tag = try input.tag(at: offset, limit: input.count)
        guard tag == .int128 else { throw .mismatch(found: tag) }
        let low = input.load(UInt64.self, at: offset + 1)
        let high = input.load(Int64.self, at: offset + 9)
        return Int128(high) << 64 | Int128(low)
    }
    func append(to bytes: inout [UInt8]) {
        bytes.append(WireTag.int128.rawValue)
        withUnsafeBytes(of: UInt64(truncatingIfNeeded: self).littleEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: Int64(truncatingIfNeeded: self >> 64).littleEndian) { bytes.append(contentsOf: $0) }
    }
    var wireSize: Int { 17 }
}

extension UInt128: WireScalar {
    static func read(from input: BinaryInput, at offset: Int) throws(WireError) -> UInt128 {
        let tag = try input.tag(at: offset, limit: input.count)
        guard tag == .uint128 else { throw .mismatch(found: tag) }
        let low = input.load(UInt64.self, at: offset + 1)
        let high = input.load(UInt64.self, at: offset + 9)
        return UInt128(high) << 64 | UInt128(low)
    }
    func append(to bytes: inout [UInt8]) {
        bytes.append(WireTag.uint128.rawValue)
        withUnsafeBytes(of: UInt64(truncatingIfNeeded: self).littleEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(truncatingIfNeeded: self >> 64).littleEndian) { bytes.append(contentsOf: $0) }
    }
    var wireSize: Int { 17 }
}

// MARK: Bool and String

extension Bool: WireScalar {
    static func read(from input: BinaryInput, at offset: Int) throws(WireError) -> Bool {
        switch try input.tag(at: offset, limit: input.count) {
        case .trueValue: return true
        case .falseValue: return false
        case let other: throw .mismatch(found: other)
        }
    }
    func append(to bytes: inout [UInt8]) { bytes.append((self ? WireTag.trueValue : .falseValue).rawValue) }
    var wireSize: Int { 1 }
}

extension String: WireScalar {
    static func read(from input: BinaryInput, at offset: Int) throws(WireError) -> String {
        let tag = try input.tag(at: offset, limit: input.count)
        guard tag == .string else { throw .mismatch(found: tag) }
        var position = offset + 1
        let length = try input.length(at: &position, limit: input.count)
        guard let text = input.string(at: position, count: length) else {
            throw .malformed("the String at byte \(offset) is not valid UTF-8")
        }
        input.copiedBytes += length
        return text
    }
    func append(to bytes: inout [UInt8]) {
        var text = self
        text.withUTF8 { utf8 in
            bytes.append(WireTag.string.rawValue)
            bytes.appendVarint(utf8.count)
            bytes.append(contentsOf: utf8)
        }
    }
    var wireSize: Int {
        let length = utf8.count
        return 1 + varintSize(length) + length
    }
}

// MARK: Packed arrays, Data, Date

extension UnsafeMutableBufferPointer where Element: PackedScalar {
    /// Fills the buffer from packed little-endian elements: one copy on little-endian machines.
    func initialize(fromPacked source: UnsafeRawPointer) {
        #if _endian(little)
        if let destination = baseAddress, count > 0 {
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * MemoryLayout<Element>.size)
        }
        #else
        for index in 0..<count {
            initializeElement(at: index, to: Element.loadLittleEndian(from: source + index * MemoryLayout<Element>.size))
        }
        #endif
    }
}

extension Array where Element == UInt8 {
    /// Appends a packed array of `elements`, in one block on little-endian machines.
    mutating func appendPacked<Scalar: PackedScalar>(_ elements: UnsafeBufferPointer<Scalar>) {
        append(WireTag.packed.rawValue)
        append(Scalar.wireTag.rawValue)
        appendVarint(elements.count)
        #if _endian(little)
        append(contentsOf: UnsafeRawBufferPointer(elements))
        #else
        for element in elements {
            withUnsafeBytes(of: element.littleEndianRepresentation) { append(contentsOf: $0) }
        }
        #endif
    }
}

extension Array: DirectlyCoded where Element: WireScalar {
    static func readDirectly(from input: BinaryInput, at offset: Int) throws(WireError) -> [Element] {
        try Element.readArray(from: input, at: offset)
    }
    func appendDirectly(to bytes: inout [UInt8]) {
        withUnsafeBufferPointer { Element.appendArray($0, to: &bytes) }
    }
}

extension ContiguousArray: DirectlyCoded where Element: WireScalar {
    static func readDirectly(from input: BinaryInput, at offset: Int) throws(WireError) -> ContiguousArray<Element> {
        var array = ContiguousArray<Element>()
        if try input.tag(at: offset, limit: input.count) == .packed,
            try Element.readPackedArray(from: input, at: offset, into: &array)
        {
            return array
        }
        return ContiguousArray(try Element.readArray(from: input, at: offset))
    }
    func appendDirectly(to bytes: inout [UInt8]) {
        withUnsafeBufferPointer { Element.appendArray($0, to: &bytes) }
    }
}

// Data is stored as a packed array of UInt8, so Data and [UInt8] read each other, as in JSON.
extension Data: DirectlyCoded {
    static func readDirectly(from input: BinaryInput, at offset: Int) throws(WireError) -> Data {
        if try input.tag(at: offset, limit: input.count) == .packed {
            let (source, count) = try input.packedElements(of: UInt8.self, at: offset)
            return Data(bytes: source, count: count)
        }
        return Data(try UInt8.readArray(from: input, at: offset))
    }
    func appendDirectly(to bytes: inout [UInt8]) {
        withUnsafeBytes { raw in bytes.appendPacked(raw.assumingMemoryBound(to: UInt8.self)) }
    }
}

// A Date is the Double it stores, under its own tag: it round-trips exactly, and is never taken
// for a number.
extension Date: DirectlyCoded {
    static func readDirectly(from input: BinaryInput, at offset: Int) throws(WireError) -> Date {
        let tag = try input.tag(at: offset, limit: input.count)
        guard tag == .date else { throw .mismatch(found: tag) }
        return Date(timeIntervalSinceReferenceDate: Double.loadLittleEndian(from: input.base + offset + 1))
    }
    func appendDirectly(to bytes: inout [UInt8]) {
        bytes.append(WireTag.date.rawValue)
        withUnsafeBytes(of: timeIntervalSinceReferenceDate.littleEndianRepresentation) { bytes.append(contentsOf: $0) }
    }
}
