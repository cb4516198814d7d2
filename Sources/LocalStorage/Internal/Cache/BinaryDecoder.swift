// The binary object decoder: the format of BinaryWireFormat.swift → `Decodable`.
//
// Decoding reads the caller's buffer in place. The whole value's extent is checked first; a
// container is checked when it is opened (every entry or element in bounds, so its count is
// real); every length is checked against the bytes that remain before anything is allocated.
// Errors are `DecodingError`s with the coding path, as `init(from:)` implementations expect
// (`keyNotFound` for an absent key, `valueNotFound` for nil, `typeMismatch` for another type,
// `dataCorrupted` for bytes that break the format).
import Glibc

/// Decodes `Decodable` values from the binary object format.
enum BinaryObjectDecoder {
    /// The value of type `T` in `payload`, which must hold exactly one value after the version.
    ///
    /// - Throws: `DecodingError`, or what the type's `init(from:)` throws.
    static func decode<T: Decodable>(_ type: T.Type, from payload: UnsafeRawBufferPointer) throws -> T {
        var copiedBytes = 0
        return try decode(type, from: payload, copiedBytes: &copiedBytes)
    }

    /// `decode(_:from:)`, reporting how many bytes the decoder copied out of the payload into
    /// Strings, arrays, Data and keys (so tests can check that it never exceeds the payload).
    static func decode<T: Decodable>(
        _ type: T.Type, from payload: UnsafeRawBufferPointer, copiedBytes: inout Int
    ) throws -> T {
        guard let base = payload.baseAddress, !payload.isEmpty else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "the payload is empty"))
        }
        guard payload[0] == BinaryFormat.version else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: [],
                    debugDescription: "binary format version \(payload[0]); this build reads version \(BinaryFormat.version)"))
        }
        let input = BinaryInput(base: base, count: payload.count)
        defer { copiedBytes = input.copiedBytes }
        let end: Int
        do {
            end = try input.end(ofValueAt: 1, limit: input.count)
        } catch {
            throw input.decodingError(error, expected: type, path: .root)
        }
        guard end == input.count else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: [], debugDescription: "\(input.count - end) bytes follow the top-level value"))
        }
        return try input.decodeValue(type, at: 1, path: .root)
    }
}

extension BinaryInput {
    /// Decodes the value whose tag is at `offset` (its extent already checked): directly for the
    /// types the format knows, else through the type's `init(from:)`.
    func decodeValue<T: Decodable>(_ type: T.Type, at offset: Int, path: @autoclosure () -> CodingPathNode) throws -> T {
        if let direct = type as? any DirectlyCoded.Type {
            do {
                return try readDirectly(direct, as: type, at: offset)
            } catch {
                throw decodingError(error, expected: type, path: path())
            }
        }
        let path = path()
        guard path.depth <= BinaryFormat.maximumDepth else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: path.keys, debugDescription: "values nest deeper than \(BinaryFormat.maximumDepth) levels"))
        }
        return try T(from: BinaryValueDecoder(input: self, start: offset, path: path))
    }

    /// Reads a `T` that is directly coded as `Direct`, the same type: going through `Direct`
    /// spares the cast of the result, whose `Optional<T>` costs a metadata lookup per value in
    /// unspecialized code.
    private func readDirectly<Direct: DirectlyCoded, T>(
        _ direct: Direct.Type, as type: T.Type, at offset: Int
    ) throws(WireError) -> T {
        guard Direct.self == T.self else { throw .malformed("\(Direct.self) is not \(T.self)") }
        return unsafeBitCast(try Direct.readDirectly(from: self, at: offset), to: T.self)
    }

    /// The `DecodingError` for a format error met while decoding a `expected` at `path`.
    func decodingError(_ error: WireError, expected: Any.Type, path: CodingPathNode) -> DecodingError {
        switch error {
        case .inElement(let index, let element, let inner):
            let elementPath = path.appending(BinaryCodingKey(intValue: index))
            switch inner {
            case .mismatch(found: .null, _):
                return .valueNotFound(expected, .init(codingPath: elementPath.keys, debugDescription: "expected \(element), found nil"))
            case .mismatch(let found, _):
                return .typeMismatch(expected, .init(codingPath: elementPath.keys, debugDescription: "expected \(element), found \(found)"))
            default:
                return decodingError(inner, expected: expected, path: elementPath)
            }
        case .malformed(let reason):
            return .dataCorrupted(.init(codingPath: path.keys, debugDescription: reason))
        case .mismatch(found: .null, _):
            return .valueNotFound(expected, .init(codingPath: path.keys, debugDescription: "expected \(expected), found nil"))
        case .mismatch(let found, let element):
            let what = element.map { "\(found) of \($0)" } ?? found.description
            return .typeMismatch(expected, .init(codingPath: path.keys, debugDescription: "expected \(expected), found \(what)"))
        }
    }

    /// The content range of the container of kind `tag` whose tag is at `offset`.
    func containerContent(at offset: Int, tag wanted: WireTag) throws(WireError) -> Range<Int> {
        let found = try tag(at: offset, limit: count)
        guard found == wanted else { throw .mismatch(found: found) }
        var position = offset + 1
        let length = try length(at: &position, limit: count)
        return position..<(position + length)
    }
}

// MARK: Decoder

/// The decoder an `init(from:)` receives, over one value; also its single-value container.
/// Three words, so it fits in an existential without an allocation.
struct BinaryValueDecoder: Decoder, SingleValueDecodingContainer {
    let input: BinaryInput
    let start: Int
    let path: CodingPathNode

    var codingPath: [any CodingKey] { path.keys }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(try BinaryKeyedDecodingContainer<Key>(input: input, valueAt: start, path: path))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try BinaryUnkeyedDecodingContainer(input: input, valueAt: start, path: path)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    // MARK: Single value

    func decodeNil() -> Bool {
        (try? input.tag(at: start, limit: input.count)) == .null
    }

    private func read<S: WireScalar>(_ type: S.Type) throws -> S {
        do {
            return try S.read(from: input, at: start)
        } catch {
            throw input.decodingError(error, expected: type, path: path)
        }
    }

    func decode(_ type: Bool.Type) throws -> Bool { try read(type) }
    func decode(_ type: String.Type) throws -> String { try read(type) }
    func decode(_ type: Double.Type) throws -> Double { try read(type) }
    func decode(_ type: Float.Type) throws -> Float { try read(type) }
    func decode(_ type: Int.Type) throws -> Int { try read(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try read(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try read(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try read(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try read(type) }
    func decode(_ type: Int128.Type) throws -> Int128 { try read(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try read(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try read(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try read(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try read(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try read(type) }
    func decode(_ type: UInt128.Type) throws -> UInt128 { try read(type) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try input.decodeValue(type, at: start, path: path)
    }
}

// MARK: Keyed container

/// The entries of a keyed container: checked whole when opened, then looked up by key. Lookups
/// first try the entry after the last one matched (types read their keys in the order they
/// wrote them) and that last entry again (`decodeIfPresent`'s default asks `contains`, then
/// `decodeNil`, then `decode`); an absent key is usually ruled out by a Bloom filter of the keys;
/// otherwise lookups scan the entries. None of it allocates.
///
/// Not generic, unlike the container that wraps it: Codable calls the container's methods from
/// unspecialized code, where every call into a generic type costs a metadata lookup.
struct KeyedEntries {
    let input: BinaryInput
    let path: CodingPathNode
    /// The entries, after the container's tag and length.
    let start: Int
    let end: Int
    /// Two bits per key in 128, so that asking for an absent key (as `decodeIfPresent` does for
    /// every nil optional) rarely scans the entries.
    private let keyFilter: (UInt64, UInt64)

    init(input: BinaryInput, valueAt offset: Int, path: CodingPathNode) throws {
        self.input = input
        self.path = path
        var filter: (UInt64, UInt64) = (0, 0)
        do throws(WireError) {
            let content = try input.containerContent(at: offset, tag: .keyed)
            start = content.lowerBound
            end = content.upperBound
            var position = start
            while position < end {
                let keyLength = try input.length(at: &position, limit: end)
                guard input.isValidUTF8(at: position, count: keyLength) else {
                    throw WireError.malformed("the key at byte \(position) is not valid UTF-8")
                }
                let bits = Self.filterBits(input.bytes(at: position, count: keyLength))
                filter.0 |= bits.0
                filter.1 |= bits.1
                position = try input.end(ofValueAt: position + keyLength, limit: end)
            }
        } catch {
            throw input.decodingError(error, expected: [String: Any].self, path: path)
        }
        keyFilter = filter
        let depth = path.depth
        while input.keyedHints.count <= depth { input.keyedHints.append(KeyedLookupHint()) }
        // A container opened again (a subclass and its superclass share one) keeps its hint.
        if input.keyedHints[depth].container != start {
            input.keyedHints[depth] = KeyedLookupHint(container: start, last: -1, next: start)
        }
    }

    /// The key's two filter bits, from its FNV-1a hash.
    private static func filterBits(_ key: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64) {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in key { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        let first = hash & 127
        let second = (hash >> 7) & 127
        return (
            (first < 64 ? 1 << first : 0) | (second < 64 ? 1 << second : 0),
            (first >= 64 ? 1 << (first - 64) : 0) | (second >= 64 ? 1 << (second - 64) : 0)
        )
    }

    /// The entry at `offset`, which the container's check made sure is well-formed.
    private func entry(at offset: Int) -> (key: UnsafeBufferPointer<UInt8>, value: Int, next: Int)? {
        var position = offset
        guard let keyLength = try? input.length(at: &position, limit: end) else { return nil }
        let value = position + keyLength
        guard let next = try? input.end(ofValueAt: value, limit: end) else { return nil }
        return (input.bytes(at: position, count: keyLength), value, next)
    }

    private func matches(_ stored: UnsafeBufferPointer<UInt8>, _ wanted: UnsafeBufferPointer<UInt8>) -> Bool {
        guard stored.count == wanted.count else { return false }
        guard let storedBase = stored.baseAddress, let wantedBase = wanted.baseAddress else { return true }
        return memcmp(storedBase, wantedBase, stored.count) == 0
    }

    /// The offset of the value stored under `key`, or nil when there is none.
    func valueOffset(for key: String) -> Int? {
        var key = key
        return key.withUTF8 { wanted -> Int? in
            let depth = path.depth
            let hint = input.keyedHints[depth]
            if hint.container == start {
                if hint.next < end, let found = entry(at: hint.next), matches(found.key, wanted) {
                    input.keyedHints[depth] = KeyedLookupHint(container: start, last: hint.next, next: found.next)
                    return found.value
                }
                if hint.last >= start, let found = entry(at: hint.last), matches(found.key, wanted) {
                    return found.value
                }
            }
            let bits = Self.filterBits(wanted)
            guard keyFilter.0 & bits.0 == bits.0, keyFilter.1 & bits.1 == bits.1 else { return nil }
            var position = start
            while position < end, let found = entry(at: position) {
                if matches(found.key, wanted) {
                    input.keyedHints[depth] = KeyedLookupHint(container: start, last: position, next: found.next)
                    return found.value
                }
                position = found.next
            }
            return nil
        }
    }

    /// The keys, in the order they are stored.
    func keys() -> [String] {
        var keys: [String] = []
        var position = start
        while position < end, let found = entry(at: position) {
            input.copiedBytes += found.key.count
            keys.append(String(decoding: found.key, as: UTF8.self))
            position = found.next
        }
        return keys
    }

    func isNil(at offset: Int) -> Bool {
        (try? input.tag(at: offset, limit: end)) == .null
    }

    /// The scalar at `offset`, the value of `key`.
    func read<S: WireScalar>(_ type: S.Type, at offset: Int, key: any CodingKey) throws -> S {
        do {
            return try S.read(from: input, at: offset)
        } catch {
            throw input.decodingError(error, expected: type, path: path.appending(key))
        }
    }

    /// The scalar under `key`, or nil when the key is absent or its value is nil.
    func readIfPresent<S: WireScalar>(_ type: S.Type, key: any CodingKey) throws -> S? {
        guard let offset = valueOffset(for: key.stringValue), !isNil(at: offset) else { return nil }
        return try read(type, at: offset, key: key)
    }
}

/// A keyed container over `KeyedEntries`.
struct BinaryKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let entries: KeyedEntries

    init(input: BinaryInput, valueAt offset: Int, path: CodingPathNode) throws {
        entries = try KeyedEntries(input: input, valueAt: offset, path: path)
    }

    var codingPath: [any CodingKey] { entries.path.keys }

    private func offset(of key: Key) throws -> Int {
        guard let offset = entries.valueOffset(for: key.stringValue) else {
            throw DecodingError.keyNotFound(
                key, .init(codingPath: entries.path.keys, debugDescription: "no value for key '\(key.stringValue)'"))
        }
        return offset
    }

    private func read<S: WireScalar>(_ type: S.Type, forKey key: Key) throws -> S {
        try entries.read(type, at: try offset(of: key), key: key)
    }

    var allKeys: [Key] { entries.keys().compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { entries.valueOffset(for: key.stringValue) != nil }

    func decodeNil(forKey key: Key) throws -> Bool { entries.isNil(at: try offset(of: key)) }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try read(type, forKey: key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try read(type, forKey: key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try read(type, forKey: key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try read(type, forKey: key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try read(type, forKey: key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try read(type, forKey: key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try read(type, forKey: key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try read(type, forKey: key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try read(type, forKey: key) }
    func decode(_ type: Int128.Type, forKey key: Key) throws -> Int128 { try read(type, forKey: key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try read(type, forKey: key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try read(type, forKey: key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try read(type, forKey: key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try read(type, forKey: key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try read(type, forKey: key) }
    func decode(_ type: UInt128.Type, forKey key: Key) throws -> UInt128 { try read(type, forKey: key) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try entries.input.decodeValue(type, at: try offset(of: key), path: entries.path.appending(key))
    }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try entries.readIfPresent(type, key: key) }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try entries.readIfPresent(type, key: key) }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try entries.readIfPresent(type, key: key) }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try entries.readIfPresent(type, key: key) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try entries.readIfPresent(type, key: key) }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try entries.readIfPresent(type, key: key) }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try entries.readIfPresent(type, key: key) }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try entries.readIfPresent(type, key: key) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try entries.readIfPresent(type, key: key) }
    func decodeIfPresent(_ type: Int128.Type, forKey key: Key) throws -> Int128? { try entries.readIfPresent(type, key: key) }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try entries.readIfPresent(type, key: key) }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try entries.readIfPresent(type, key: key) }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try entries.readIfPresent(type, key: key) }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try entries.readIfPresent(type, key: key) }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try entries.readIfPresent(type, key: key) }
    func decodeIfPresent(_ type: UInt128.Type, forKey key: Key) throws -> UInt128? { try entries.readIfPresent(type, key: key) }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let offset = entries.valueOffset(for: key.stringValue), !entries.isNil(at: offset) else { return nil }
        return try entries.input.decodeValue(type, at: offset, path: entries.path.appending(key))
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let offset = try offset(of: key)
        return KeyedDecodingContainer(
            try BinaryKeyedDecodingContainer<NestedKey>(
                input: entries.input, valueAt: offset, path: try checkedDepth(entries.path.appending(key))))
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        let offset = try offset(of: key)
        return try BinaryUnkeyedDecodingContainer(
            input: entries.input, valueAt: offset, path: try checkedDepth(entries.path.appending(key)))
    }

    func superDecoder() throws -> any Decoder {
        let key = BinaryCodingKey.superKey
        guard let offset = entries.valueOffset(for: key.stringValue) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: entries.path.keys, debugDescription: "no value for key 'super'"))
        }
        return BinaryValueDecoder(input: entries.input, start: offset, path: try checkedDepth(entries.path.appending(key)))
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        let offset = try offset(of: key)
        return BinaryValueDecoder(input: entries.input, start: offset, path: try checkedDepth(entries.path.appending(key)))
    }
}

/// `path`, unless it is deeper than the format allows.
private func checkedDepth(_ path: CodingPathNode) throws -> CodingPathNode {
    guard path.depth <= BinaryFormat.maximumDepth else {
        throw DecodingError.dataCorrupted(
            .init(
                codingPath: path.keys, debugDescription: "values nest deeper than \(BinaryFormat.maximumDepth) levels"))
    }
    return path
}

// MARK: Unkeyed container

/// An unkeyed container, or a packed array read element by element (by a type other than the
/// array types that read it in one block, such as `Set<Float>`).
struct BinaryUnkeyedDecodingContainer: UnkeyedDecodingContainer {
    let input: BinaryInput
    let path: CodingPathNode
    /// For a packed array, its elements' tag; they are stored without tags.
    private let packedElement: WireTag?
    private let packedWidth: Int
    private var position: Int
    private let elementCount: Int
    private(set) var currentIndex = 0

    init(input: BinaryInput, valueAt offset: Int, path: CodingPathNode) throws {
        self.input = input
        self.path = path
        do throws(WireError) {
            let tag = try input.tag(at: offset, limit: input.count)
            if tag == .packed {
                var header = offset + 1
                let element = try input.tag(at: header, limit: input.count)
                header += 1
                let count = try input.length(at: &header, limit: input.count)
                guard let width = element.fixedWidth, element.isPackable, count <= (input.count - header) / width else {
                    throw WireError.malformed("a malformed packed array at byte \(offset)")
                }
                packedElement = element
                packedWidth = width
                position = header
                elementCount = count
            } else {
                let content = try input.containerContent(at: offset, tag: .unkeyed)
                var count = 0
                var element = content.lowerBound
                while element < content.upperBound {
                    element = try input.end(ofValueAt: element, limit: content.upperBound)
                    count += 1
                }
                packedElement = nil
                packedWidth = 0
                position = content.lowerBound
                elementCount = count
            }
        } catch {
            throw input.decodingError(error, expected: [Any].self, path: path)
        }
    }

    var codingPath: [any CodingKey] { path.keys }
    var count: Int? { elementCount }
    var isAtEnd: Bool { currentIndex >= elementCount }

    private var elementPath: CodingPathNode { path.appending(BinaryCodingKey(intValue: currentIndex)) }

    private func checkNotAtEnd(_ type: Any.Type) throws {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                type,
                .init(
                    codingPath: path.keys, debugDescription: "expected \(type), but the unkeyed container has no element \(currentIndex)"))
        }
    }

    private mutating func advance() throws {
        if packedElement != nil {
            position += packedWidth
        } else {
            do {
                position = try input.end(ofValueAt: position, limit: input.count)
            } catch {
                throw input.decodingError(error, expected: Any.self, path: elementPath)
            }
        }
        currentIndex += 1
    }

    /// The element at the current position, as `type`, if it is a packed element of that type.
    private func packedValue<T>(_ type: T.Type, element: WireTag) throws -> T {
        guard let scalar = type as? any PackedScalar.Type, scalar.wireTag == element,
            let value = scalar.loadLittleEndian(from: input.base + position) as? T
        else {
            throw DecodingError.typeMismatch(
                type,
                .init(
                    codingPath: elementPath.keys, debugDescription: "expected \(type), found an element of a packed array of \(element)"))
        }
        return value
    }

    mutating func decodeNil() throws -> Bool {
        try checkNotAtEnd(Optional<Any>.self)
        guard packedElement == nil, (try? input.tag(at: position, limit: input.count)) == .null else { return false }
        try advance()
        return true
    }

    private mutating func read<S: WireScalar>(_ type: S.Type) throws -> S {
        try checkNotAtEnd(type)
        let value: S
        if let element = packedElement {
            value = try packedValue(type, element: element)
        } else {
            do {
                value = try S.read(from: input, at: position)
            } catch {
                throw input.decodingError(error, expected: type, path: elementPath)
            }
        }
        try advance()
        return value
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try read(type) }
    mutating func decode(_ type: String.Type) throws -> String { try read(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try read(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { try read(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { try read(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try read(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try read(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try read(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try read(type) }
    mutating func decode(_ type: Int128.Type) throws -> Int128 { try read(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try read(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try read(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try read(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try read(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try read(type) }
    mutating func decode(_ type: UInt128.Type) throws -> UInt128 { try read(type) }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try checkNotAtEnd(type)
        let value: T
        if let element = packedElement {
            if type is any PackedScalar.Type {
                value = try packedValue(type, element: element)
            } else {
                // An Optional or a single-value wrapper of the element type.
                value = try T(
                    from: PackedElementDecoder(
                        input: input, offset: position, element: element, path: try checkedDepth(elementPath)))
            }
        } else {
            value = try input.decodeValue(type, at: position, path: elementPath)
        }
        try advance()
        return value
    }

    /// Packed elements are bare numbers: no container or decoder can be opened on one.
    private func checkNotPacked(_ type: Any.Type) throws {
        guard let element = packedElement else { return }
        throw DecodingError.typeMismatch(
            type,
            .init(
                codingPath: elementPath.keys, debugDescription: "expected \(type), found an element of a packed array of \(element)"))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try checkNotAtEnd(KeyedDecodingContainer<NestedKey>.self)
        try checkNotPacked(KeyedDecodingContainer<NestedKey>.self)
        let container = try BinaryKeyedDecodingContainer<NestedKey>(
            input: input, valueAt: position, path: try checkedDepth(elementPath))
        try advance()
        return KeyedDecodingContainer(container)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try checkNotAtEnd((any UnkeyedDecodingContainer).self)
        try checkNotPacked((any UnkeyedDecodingContainer).self)
        let container = try BinaryUnkeyedDecodingContainer(input: input, valueAt: position, path: try checkedDepth(elementPath))
        try advance()
        return container
    }

    mutating func superDecoder() throws -> any Decoder {
        try checkNotAtEnd((any Decoder).self)
        try checkNotPacked((any Decoder).self)
        let decoder = BinaryValueDecoder(input: input, start: position, path: try checkedDepth(elementPath))
        try advance()
        return decoder
    }
}

// MARK: Packed element

/// The decoder of one element of a packed array, for a type that reads it through a single-value
/// container (`Optional<Float>` in `[Float?]`, a wrapper struct): packed elements have no tag,
/// so nothing else can be read from them.
struct PackedElementDecoder: Decoder, SingleValueDecodingContainer {
    let input: BinaryInput
    let offset: Int
    let element: WireTag
    let path: CodingPathNode

    var codingPath: [any CodingKey] { path.keys }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    private func mismatch(_ type: Any.Type) -> DecodingError {
        .typeMismatch(
            type,
            .init(
                codingPath: path.keys, debugDescription: "expected \(type), found an element of a packed array of \(element)"))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        throw mismatch(KeyedDecodingContainer<Key>.self)
    }
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw mismatch([Any].self) }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func decodeNil() -> Bool { false }

    private func read<S: WireScalar>(_ type: S.Type) throws -> S {
        guard let scalar = type as? any PackedScalar.Type, scalar.wireTag == element,
            let value = scalar.loadLittleEndian(from: input.base + offset) as? S
        else { throw mismatch(type) }
        return value
    }

    func decode(_ type: Bool.Type) throws -> Bool { try read(type) }
    func decode(_ type: String.Type) throws -> String { try read(type) }
    func decode(_ type: Double.Type) throws -> Double { try read(type) }
    func decode(_ type: Float.Type) throws -> Float { try read(type) }
    func decode(_ type: Int.Type) throws -> Int { try read(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try read(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try read(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try read(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try read(type) }
    func decode(_ type: Int128.Type) throws -> Int128 { try read(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try read(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try read(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try read(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try read(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try read(type) }
    func decode(_ type: UInt128.Type) throws -> UInt128 { try read(type) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if let scalar = type as? any PackedScalar.Type {
            guard scalar.wireTag == element, let value = scalar.loadLittleEndian(from: input.base + offset) as? T else {
                throw mismatch(type)
            }
            return value
        }
        return try T(from: PackedElementDecoder(input: input, offset: offset, element: element, path: try checkedDepth(path)))
    }
}
