// The binary object encoder: `Encodable` → the format of BinaryWireFormat.swift.
//
// Each keyed or unkeyed container collects its bytes in its own node, and a nested container is
// a child node spliced in at the offset where it was opened. Codable allows a type to keep
// writing to a container after opening a sibling (or to use a super encoder later), so a
// container's length is only known at the end: then one pass measures the nodes and another
// writes them into a single buffer. Scalars, packed arrays, Data and Date are appended in place.

/// Encodes `Encodable` values in the binary object format.
enum BinaryObjectEncoder {
    /// The payload for `value`: the format version, then the value.
    ///
    /// - Throws: `EncodingError` when a container is misused, or what the value's `encode(to:)`
    ///   throws.
    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let root = EncodedNode(kind: .value)
        root.bytes.append(BinaryFormat.version)
        let state = EncodingState()
        try state.encode(value, into: root, path: .root)
        if let misuse = state.misuse { throw misuse }
        return root.serialized()
    }
}

/// What one encoding shares: the first misuse of a container, which Codable's non-throwing
/// container accessors cannot report when it happens.
final class EncodingState {
    var misuse: EncodingError?

    func recordMisuse(_ message: String, value: Any, path: CodingPathNode) {
        guard misuse == nil else { return }
        misuse = .invalidValue(value, .init(codingPath: path.keys, debugDescription: message))
    }

    /// Appends exactly one value to `node`: directly for the types the format knows, else
    /// through the value's `encode(to:)`, and an empty keyed container if that writes nothing
    /// (as JSONEncoder does).
    func encode<T: Encodable>(_ value: T, into node: EncodedNode, path: @autoclosure () -> CodingPathNode) throws {
        if let direct = value as? any DirectlyCoded {
            direct.appendDirectly(to: &node.bytes)
            return
        }
        let encoder = BinaryValueEncoder(state: self, target: node, path: path())
        try value.encode(to: encoder)
        if case .nothing = encoder.produced { node.bytes.append(contentsOf: EncodedNode.emptyKeyed) }
    }
}

// MARK: Nodes

/// The bytes of one container (or of one deferred value) and the containers nested in it.
final class EncodedNode {
    enum Kind {
        /// One value with no header of its own: the top level, or what a super encoder writes.
        case value
        case keyed
        case unkeyed
    }

    /// An empty keyed container, written for a value that encodes nothing.
    static let emptyKeyed: [UInt8] = [WireTag.keyed.rawValue, 0]

    let kind: Kind
    // One encoding runs on one thread and never holds two accesses to a node's storage at once,
    // so the dynamic exclusivity checks (a sixth of the encoder's instructions) are left out.
    @exclusivity(unchecked) var bytes: [UInt8] = []
    /// Nested nodes and the offsets in `bytes` where they go, in increasing order.
    @exclusivity(unchecked) var children: [(offset: Int, node: EncodedNode)] = []
    /// Unkeyed: the elements so far.
    @exclusivity(unchecked) var count = 0
    /// Keyed: where each entry starts in `bytes`, its key, and the key's FNV-1a hash.
    struct Entry {
        var start: Int
        let key: String
        let hash: UInt64
    }
    @exclusivity(unchecked) var entries: [Entry] = []
    /// Keyed, past `indexThreshold` entries: the entry of each key, for finding duplicates.
    @exclusivity(unchecked) var entryIndex: [String: Int]?
    /// Up to this many entries, duplicates are found by comparing hashes, which is much cheaper
    /// than a Dictionary (most containers are structs of a few keys).
    static let indexThreshold = 32
    /// The bytes of the children's encodings plus `bytes`, set by `measure`.
    private var contentSize = 0

    init(kind: Kind) {
        self.kind = kind
        // Most containers hold a small struct: 64 bytes spare the first few reallocations.
        bytes.reserveCapacity(64)
    }

    /// Nests `child` at the current end of the bytes.
    func splice(_ child: EncodedNode) {
        children.append((bytes.count, child))
    }

    // MARK: Keyed entries

    /// What to restore if the entry's value fails to encode.
    struct EntryMark {
        let key: String
        let bytes: Int
        let children: Int
    }

    /// Starts the entry for `key`: appends the key, after removing any earlier entry with the
    /// same key, so the last write wins as in JSONEncoder (a subclass and its superclass may share
    /// one container and both write `id`).
    func beginEntry(_ key: String) -> EntryMark {
        var utf8Key = key
        return utf8Key.withUTF8 { utf8 in
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            for byte in utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
            if let earlier = entry(of: key, hash: hash) { removeEntry(earlier) }
            let mark = EntryMark(key: key, bytes: bytes.count, children: children.count)
            if entryIndex == nil && entries.count >= Self.indexThreshold {
                entryIndex = Self.index(of: entries)
            }
            entryIndex?[key] = entries.count
            entries.append(Entry(start: bytes.count, key: key, hash: hash))
            bytes.appendVarint(utf8.count)
            bytes.append(contentsOf: utf8)
            return mark
        }
    }

    private static func index(of entries: [Entry]) -> [String: Int] {
        // Keys are unique here; keeping the last of equal keys merely avoids a trap if they were not.
        Dictionary(entries.indices.map { (entries[$0].key, $0) }, uniquingKeysWith: { _, last in last })
    }

    private func entry(of key: String, hash: UInt64) -> Int? {
        if let entryIndex { return entryIndex[key] }
        for index in entries.indices where entries[index].hash == hash && entries[index].key == key {
            return index
        }
        return nil
    }

    /// Removes the entry begun at `mark`, whose value failed to encode, so that a caller that
    /// catches the error leaves a well-formed container behind.
    func rollBack(_ mark: EntryMark) {
        bytes.removeSubrange(mark.bytes...)
        children.removeSubrange(mark.children...)
        if kind == .keyed {
            entries.removeLast()
            entryIndex?[mark.key] = nil
        }
    }

    private func removeEntry(_ index: Int) {
        let start = entries[index].start
        let end = index + 1 < entries.count ? entries[index + 1].start : bytes.count
        let removed = end - start
        bytes.removeSubrange(start..<end)
        // The entry's own children sit after its key, so at offsets in start+1...end; the next
        // entry's children sit after the next key, so past end.
        children.removeAll { $0.offset > start && $0.offset <= end }
        for child in children.indices where children[child].offset > end {
            children[child].offset -= removed
        }
        entries.remove(at: index)
        for later in index..<entries.count { entries[later].start -= removed }
        if entryIndex != nil { entryIndex = Self.index(of: entries) }
    }

    // MARK: Serializing

    /// The encoding: for the top-level node (which starts with the version byte), its bytes with
    /// the children's encodings spliced in.
    func serialized() -> [UInt8] {
        if children.isEmpty { return bytes }
        let size = measure()
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            guard let start = buffer.baseAddress else { return }
            var cursor = start
            write(to: &cursor)
            initialized = cursor - start
        }
    }

    /// The size of this node's encoding; records each node's content size for `write`.
    private func measure() -> Int {
        var content = bytes.count
        for child in children { content += child.node.measure() }
        contentSize = content
        switch kind {
        case .value: return content == 0 ? Self.emptyKeyed.count : content
        case .keyed, .unkeyed: return 1 + varintSize(content) + content
        }
    }

    private func write(to cursor: inout UnsafeMutablePointer<UInt8>) {
        switch kind {
        case .value:
            if contentSize == 0 {
                for byte in Self.emptyKeyed {
                    cursor.initialize(to: byte)
                    cursor += 1
                }
                return
            }
        case .keyed, .unkeyed:
            cursor.initialize(to: (kind == .keyed ? WireTag.keyed : .unkeyed).rawValue)
            cursor += 1
            var rest = UInt64(contentSize)
            while rest >= 0x80 {
                cursor.initialize(to: UInt8(truncatingIfNeeded: rest) | 0x80)
                cursor += 1
                rest >>= 7
            }
            cursor.initialize(to: UInt8(rest))
            cursor += 1
        }
        bytes.withUnsafeBufferPointer { own in
            var from = 0
            for child in children {
                copy(own, from: from, to: child.offset, into: &cursor)
                child.node.write(to: &cursor)
                from = child.offset
            }
            copy(own, from: from, to: own.count, into: &cursor)
        }
    }

    private func copy(
        _ source: UnsafeBufferPointer<UInt8>, from: Int, to: Int, into cursor: inout UnsafeMutablePointer<UInt8>
    ) {
        guard to > from, let base = source.baseAddress else { return }
        cursor.initialize(from: base + from, count: to - from)
        cursor += to - from
    }
}

// MARK: Encoder

/// The encoder a value's `encode(to:)` receives. It writes one value into `target`: a scalar in
/// place, or a container spliced in. It is its own single-value container.
final class BinaryValueEncoder: Encoder, SingleValueEncodingContainer {
    enum Produced {
        case nothing, value
        case keyed(EncodedNode), unkeyed(EncodedNode)
    }

    let state: EncodingState
    let target: EncodedNode
    let path: CodingPathNode
    private(set) var produced = Produced.nothing

    init(state: EncodingState, target: EncodedNode, path: CodingPathNode) {
        self.state = state
        self.target = target
        self.path = path
    }

    var codingPath: [any CodingKey] { path.keys }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let node: EncodedNode
        switch produced {
        case .keyed(let existing):
            // A subclass and its superclass both asking for the keyed container share it.
            node = existing
        case .nothing:
            node = EncodedNode(kind: .keyed)
            target.splice(node)
            produced = .keyed(node)
        case .value, .unkeyed:
            state.recordMisuse("a keyed container was requested after another value was encoded here", value: type, path: path)
            node = EncodedNode(kind: .keyed)
        }
        return KeyedEncodingContainer(BinaryKeyedEncodingContainer<Key>(state: state, node: node, path: path))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let node: EncodedNode
        switch produced {
        case .unkeyed(let existing):
            node = existing
        case .nothing:
            node = EncodedNode(kind: .unkeyed)
            target.splice(node)
            produced = .unkeyed(node)
        case .value, .keyed:
            state.recordMisuse("an unkeyed container was requested after another value was encoded here", value: [Any].self, path: path)
            node = EncodedNode(kind: .unkeyed)
        }
        return BinaryUnkeyedEncodingContainer(state: state, node: node, path: path)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { self }

    // MARK: Single value

    private func claim(for value: Any) throws {
        guard case .nothing = produced else {
            throw EncodingError.invalidValue(
                value, .init(codingPath: path.keys, debugDescription: "a single-value container was asked to encode a second value"))
        }
        produced = .value
    }

    private func encodeScalar(_ value: some WireScalar) throws {
        try claim(for: value)
        value.append(to: &target.bytes)
    }

    func encodeNil() throws {
        try claim(for: Optional<Int>.none as Any)
        target.bytes.append(WireTag.null.rawValue)
    }
    func encode(_ value: Bool) throws { try encodeScalar(value) }
    func encode(_ value: String) throws { try encodeScalar(value) }
    func encode(_ value: Double) throws { try encodeScalar(value) }
    func encode(_ value: Float) throws { try encodeScalar(value) }
    func encode(_ value: Int) throws { try encodeScalar(value) }
    func encode(_ value: Int8) throws { try encodeScalar(value) }
    func encode(_ value: Int16) throws { try encodeScalar(value) }
    func encode(_ value: Int32) throws { try encodeScalar(value) }
    func encode(_ value: Int64) throws { try encodeScalar(value) }
    func encode(_ value: Int128) throws { try encodeScalar(value) }
    func encode(_ value: UInt) throws { try encodeScalar(value) }
    func encode(_ value: UInt8) throws { try encodeScalar(value) }
    func encode(_ value: UInt16) throws { try encodeScalar(value) }
    func encode(_ value: UInt32) throws { try encodeScalar(value) }
    func encode(_ value: UInt64) throws { try encodeScalar(value) }
    func encode(_ value: UInt128) throws { try encodeScalar(value) }

    func encode<T: Encodable>(_ value: T) throws {
        try claim(for: value)
        try state.encode(value, into: target, path: path)
    }
}

// MARK: Keyed container

struct BinaryKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let state: EncodingState
    let node: EncodedNode
    let path: CodingPathNode

    var codingPath: [any CodingKey] { path.keys }

    private func encodeScalar(_ value: some WireScalar, forKey key: Key) {
        _ = node.beginEntry(key.stringValue)
        value.append(to: &node.bytes)
    }

    mutating func encodeNil(forKey key: Key) throws {
        _ = node.beginEntry(key.stringValue)
        node.bytes.append(WireTag.null.rawValue)
    }
    mutating func encode(_ value: Bool, forKey key: Key) throws { encodeScalar(value, forKey: key) }
    mutating func encode(_ value: String, forKey key: Key) throws { encodeScalar(value, forKey: key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { encodeScalar(value, forKey: key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { encodeScalar(value, forKey: key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { encodeScalar(value, forKey: key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { encodeScalar(value, forKey: key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { encodeScalar(value, forKey: key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { encodeScalar(value, forKey: key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { encodeScalar(value, forKey: key) }
    mutating func encode(_ value: Int128, forKey key: Key) throws { encodeScalar(value, forKey: key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { encodeScalar(value, forKey: key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { encodeScalar(value, forKey: key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { encodeScalar(value, forKey: key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { encodeScalar(value, forKey: key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { encodeScalar(value, forKey: key) }
    mutating func encode(_ value: UInt128, forKey key: Key) throws { encodeScalar(value, forKey: key) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        let mark = node.beginEntry(key.stringValue)
        do {
            try state.encode(value, into: node, path: path.appending(key))
        } catch {
            node.rollBack(mark)
            throw error
        }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        _ = node.beginEntry(key.stringValue)
        let nested = EncodedNode(kind: .keyed)
        node.splice(nested)
        return KeyedEncodingContainer(BinaryKeyedEncodingContainer<NestedKey>(state: state, node: nested, path: path.appending(key)))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        _ = node.beginEntry(key.stringValue)
        let nested = EncodedNode(kind: .unkeyed)
        node.splice(nested)
        return BinaryUnkeyedEncodingContainer(state: state, node: nested, path: path.appending(key))
    }

    mutating func superEncoder() -> any Encoder { superEncoder(named: BinaryCodingKey.superKey) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { superEncoder(named: key) }

    private func superEncoder(named key: any CodingKey) -> any Encoder {
        _ = node.beginEntry(key.stringValue)
        let slot = EncodedNode(kind: .value)
        node.splice(slot)
        return BinaryValueEncoder(state: state, target: slot, path: path.appending(key))
    }
}

// MARK: Unkeyed container

struct BinaryUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    let state: EncodingState
    let node: EncodedNode
    let path: CodingPathNode

    var codingPath: [any CodingKey] { path.keys }
    var count: Int { node.count }

    private func encodeScalar(_ value: some WireScalar) {
        node.count += 1
        value.append(to: &node.bytes)
    }

    mutating func encodeNil() throws {
        node.count += 1
        node.bytes.append(WireTag.null.rawValue)
    }
    mutating func encode(_ value: Bool) throws { encodeScalar(value) }
    mutating func encode(_ value: String) throws { encodeScalar(value) }
    mutating func encode(_ value: Double) throws { encodeScalar(value) }
    mutating func encode(_ value: Float) throws { encodeScalar(value) }
    mutating func encode(_ value: Int) throws { encodeScalar(value) }
    mutating func encode(_ value: Int8) throws { encodeScalar(value) }
    mutating func encode(_ value: Int16) throws { encodeScalar(value) }
    mutating func encode(_ value: Int32) throws { encodeScalar(value) }
    mutating func encode(_ value: Int64) throws { encodeScalar(value) }
    mutating func encode(_ value: Int128) throws { encodeScalar(value) }
    mutating func encode(_ value: UInt) throws { encodeScalar(value) }
    mutating func encode(_ value: UInt8) throws { encodeScalar(value) }
    mutating func encode(_ value: UInt16) throws { encodeScalar(value) }
    mutating func encode(_ value: UInt32) throws { encodeScalar(value) }
    mutating func encode(_ value: UInt64) throws { encodeScalar(value) }
    mutating func encode(_ value: UInt128) throws { encodeScalar(value) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let mark = EncodedNode.EntryMark(key: "", bytes: node.bytes.count, children: node.children.count)
        let index = node.count
        node.count += 1
        do {
            try state.encode(value, into: node, path: path.appending(BinaryCodingKey(intValue: index)))
        } catch {
            node.rollBack(mark)
            node.count -= 1
            throw error
        }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let nested = EncodedNode(kind: .keyed)
        let elementPath = path.appending(BinaryCodingKey(intValue: node.count))
        node.count += 1
        node.splice(nested)
        return KeyedEncodingContainer(BinaryKeyedEncodingContainer<NestedKey>(state: state, node: nested, path: elementPath))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = EncodedNode(kind: .unkeyed)
        let elementPath = path.appending(BinaryCodingKey(intValue: node.count))
        node.count += 1
        node.splice(nested)
        return BinaryUnkeyedEncodingContainer(state: state, node: nested, path: elementPath)
    }

    mutating func superEncoder() -> any Encoder {
        let slot = EncodedNode(kind: .value)
        let elementPath = path.appending(BinaryCodingKey(intValue: node.count))
        node.count += 1
        node.splice(slot)
        return BinaryValueEncoder(state: state, target: slot, path: elementPath)
    }
}
