// The object format: CRC-32C, the header of stored objects and arrays, and the binary and JSON
// payload coders, attacked with corruption and fuzzing (see ObjectFormatFuzzTests for the fuzz).
import Foundation
import StorageTestSupport
import Testing

@testable import LocalStorage

// MARK: - Helpers

/// A stored object file: header then payload, as the public API writes it.
func objectFile<T: Encodable>(_ value: T, encoding: ObjectEncoding) throws -> [UInt8] {
    let payload = try encodeObjectPayload(value, encoding: encoding)
    let header = payload.withUnsafeBytes { ObjectHeader.object(payload: $0, encoding: encoding) }
    return header.serialized() + payload
}

/// Reads an object file as the public API will: header, checksum, then the payload.
func readObjectFile<T: Decodable>(_ type: T.Type, from file: [UInt8]) throws -> T {
    try file.withUnsafeBytes { bytes in
        let header = try ObjectHeader(parsing: bytes, fileSize: bytes.count)
        let payload = UnsafeRawBufferPointer(rebasing: bytes[ObjectHeader.size...])
        try header.verifyPayload(payload)
        return try decodeObjectPayload(type, from: payload, encoding: header.objectEncoding())
    }
}

/// Encodes then decodes `value` in `encoding`.
func roundTrip<T: Codable>(_ value: T, _ encoding: ObjectEncoding) throws -> T {
    let payload = try encodeObjectPayload(value, encoding: encoding)
    return try payload.withUnsafeBytes { try decodeObjectPayload(T.self, from: $0, encoding: encoding) }
}

/// Decodes `payload` (binary) as `T`.
func decodeBinary<T: Decodable>(_ type: T.Type, _ payload: [UInt8]) throws -> T {
    try payload.withUnsafeBytes { try decodeObjectPayload(type, from: $0, encoding: .binary) }
}

/// Asserts that `body` throws an `ObjectFormatError` of `kind`, and returns its message.
@discardableResult
func expectFormatError<R>(
    _ kind: ObjectFormatError.Kind, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> R
) -> String? {
    do {
        _ = try body()
        Issue.record("expected ObjectFormatError.\(kind), but the call succeeded", sourceLocation: sourceLocation)
    } catch let error as ObjectFormatError {
        #expect(error.kind == kind, "got \(error)", sourceLocation: sourceLocation)
        return error.message
    } catch {
        Issue.record("expected ObjectFormatError.\(kind), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// The 20-field object of the issue's measurement: a [Float] of 1,000 elements among scalars.
struct TwentyFieldRecord: Codable, Equatable {
    var id: Int
    var name: String
    var score: Double
    var count: Int32
    var flag: Bool
    var created: Date
    var tags: [String]
    var ratio: Float
    var version: UInt16
    var owner: String?
    var parent: Int?
    var weights: [Float]
    var checksum: UInt64
    var label: String
    var latitude: Double
    var longitude: Double
    var enabled: Bool
    var kind: Int8
    var note: String
    var updated: Date

    static let sample = TwentyFieldRecord(
        id: 123_456, name: "pipeline-stage-embedding", score: 0.876_543_21, count: 42, flag: true,
        created: Date(timeIntervalSinceReferenceDate: 765_432_100.123456), tags: ["alpha", "beta", "gamma"],
        ratio: 0.25, version: 3, owner: "team-ml", parent: nil,
        weights: (0..<1000).map { Float($0) * 0.001 + 0.5 }, checksum: 0xDEAD_BEEF_CAFE_F00D,
        label: "train/val split 80/20", latitude: 48.8566, longitude: 2.3522, enabled: false, kind: -3,
        note: "cached result of stage 4", updated: Date(timeIntervalSinceReferenceDate: 765_432_200.5))
}

struct Address: Codable, Equatable {
    var street: String
    var zip: String?
    var floors: [Int?]
}

enum Shape: Codable, Equatable {
    case circle(radius: Double)
    case rectangle(Double, Double)
    case polygon(points: [[Float]], label: String?)
    case empty
}

enum Color: String, Codable, Equatable { case red, green, blue }

struct Everything: Codable, Equatable {
    var int8: Int8 = .min, int16: Int16 = .max, int32: Int32 = -7, int64: Int64 = .min
    var uint8: UInt8 = .max, uint16: UInt16 = 1, uint32: UInt32 = .max, uint64: UInt64 = .max
    var int: Int = .min, uint: UInt = .max, int128: Int128 = .min, uint128: UInt128 = .max
    var float: Float = -.infinity, double: Double = .pi, half: Float16 = 1.5
    var bool = true, string = "héllo wörld 🌍\u{0}end", empty = ""
    var date = Date(timeIntervalSince1970: -1_234.567_890_123), data = Data([0, 1, 2, 255])
    var emptyData = Data(), nilInt: Int? = nil, someInt: Int? = 7, nestedOptional: Int?? = .some(3)
    var address = Address(street: "Rue", zip: nil, floors: [1, nil, 3, nil])
    var addresses: [Address] = [Address(street: "A", zip: "1", floors: []), Address(street: "B", zip: nil, floors: [nil])]
    var byName: [String: Int] = ["one": 1, "two": 2, "": 0, "ünï": 3]
    var byNumber: [Int: String] = [1: "one", -2: "minus two", 0: ""]
    var byColor: [Color: Double] = [.red: 1, .blue: 2]
    var shapes: [Shape] = [.circle(radius: 2), .rectangle(1, 2), .polygon(points: [[0, 0], [1, 1]], label: nil), .empty]
    var color = Color.green
    var nested: [[Int]] = [[], [1], [2, 3]]
    var set: Set<String> = ["x", "y"]
    var url = URL(string: "https://example.com/a?b=c")
    var uuid = UUID(uuidString: "E621E1F8-C36C-495A-93FC-0C247A3E6E5F")
    var emptyArray: [Double] = []
    var emptyDictionary: [String: [Int]] = [:]
    var emptyStruct = EmptyThing()
    var halves: [Float16] = [0.5, -2, .infinity]
    var contiguous: ContiguousArray<Int16> = [1, -1, .max]
    var strings: ContiguousArray<String> = ["a", "", "ç"]
    var bools = [true, false, true]
    var bigs: [Int128] = [0, .max, .min]
}

struct EmptyThing: Codable, Equatable {}

/// A superclass, and subclasses that use `superEncoder` or share the container.
class Animal: Codable, Equatable {
    var name: String
    var legs: Int

    init(name: String, legs: Int) {
        self.name = name
        self.legs = legs
    }

    static func == (lhs: Animal, rhs: Animal) -> Bool {
        type(of: lhs) == type(of: rhs) && lhs.name == rhs.name && lhs.legs == rhs.legs && lhs.isEqual(to: rhs)
    }

    func isEqual(to other: Animal) -> Bool { true }
}

/// Nests its superclass under `super`.
final class Dog: Animal {
    var breed: String
    enum CodingKeys: String, CodingKey { case breed }

    init(name: String, legs: Int, breed: String) {
        self.breed = breed
        super.init(name: name, legs: legs)
    }

    required init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        breed = try container.decode(String.self, forKey: .breed)
        try super.init(from: container.superDecoder())
    }

    override func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        // The super encoder is taken first and written after another key: Codable allows it.
        let superEncoder = container.superEncoder()
        try container.encode(breed, forKey: .breed)
        try super.encode(to: superEncoder)
    }

    override func isEqual(to other: Animal) -> Bool { (other as? Dog)?.breed == breed }
}

/// Shares its superclass's container, and writes `name` too: the last write wins, as in JSON.
final class Cat: Animal {
    var lives: Int
    enum CodingKeys: String, CodingKey { case lives, name }

    init(name: String, legs: Int, lives: Int) {
        self.lives = lives
        super.init(name: name, legs: legs)
    }

    required init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        lives = try container.decode(Int.self, forKey: .lives)
        try super.init(from: decoder)
    }

    override func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(lives, forKey: .lives)
        try container.encode("overwritten by the superclass", forKey: .name)
        try super.encode(to: encoder)
    }

    override func isEqual(to other: Animal) -> Bool { (other as? Cat)?.lives == lives }
}

/// Reads its keys in the reverse order, and checks `contains` and `allKeys` first.
struct PickyReader: Codable, Equatable {
    var first: Int
    var second: String
    var third: [Double]
    var missing: Int?

    enum CodingKeys: String, CodingKey { case first, second, third, missing }

    init(first: Int, second: String, third: [Double], missing: Int?) {
        self.first = first
        self.second = second
        self.third = third
        self.missing = missing
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard Set(container.allKeys.map(\.stringValue)) == ["first", "second", "third"] else {
            throw DecodingError.dataCorruptedError(forKey: .first, in: container, debugDescription: "allKeys \(container.allKeys)")
        }
        guard container.contains(.third), container.contains(.first), !container.contains(.missing) else {
            throw DecodingError.dataCorruptedError(forKey: .third, in: container, debugDescription: "contains")
        }
        missing = try container.decodeIfPresent(Int.self, forKey: .missing)
        third = try container.decode([Double].self, forKey: .third)
        second = try container.decode(String.self, forKey: .second)
        first = try container.decode(Int.self, forKey: .first)
    }
}

/// Records the coding paths its decoder and containers report.
struct PathRecorder: Decodable {
    var paths: [String] = []

    struct Inner: Decodable {
        var paths: [String]
        init(from decoder: any Decoder) throws {
            var container = try decoder.unkeyedContainer()
            paths = [describeCodingPath(decoder.codingPath), describeCodingPath(container.codingPath)]
            while !container.isAtEnd {
                let leaf = try container.decode(Leaf.self)
                paths.append(leaf.path)
            }
        }
    }

    struct Leaf: Decodable {
        var path: String
        init(from decoder: any Decoder) throws {
            path = describeCodingPath(decoder.codingPath)
            _ = try decoder.singleValueContainer().decode(Int.self)
        }
    }

    enum CodingKeys: String, CodingKey { case outer, list }
    enum OuterKeys: String, CodingKey { case inner }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        paths.append(describeCodingPath(container.codingPath))
        let outer = try container.nestedContainer(keyedBy: OuterKeys.self, forKey: .outer)
        paths.append(describeCodingPath(outer.codingPath))
        paths += try outer.decode(Inner.self, forKey: .inner).paths
        paths += try container.decode(Inner.self, forKey: .list).paths
    }
}

struct PathSource: Encodable {
    struct Outer: Encodable { var inner = [1, 2] }
    var outer = Outer()
    var list = [3]
}

/// A value whose encoding fails after writing part of itself.
struct FailsHalfway: Encodable {
    struct Failure: Error {}
    func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        try container.encode("partial")
        throw Failure()
    }
}

/// Catches the failure of nested values and goes on: the containers must stay well-formed, with
/// no trace of the failed values.
struct Forgiving: Codable, Equatable {
    var before: Int
    var after: String
    enum CodingKeys: String, CodingKey { case before, lost, list, after }

    init(before: Int, after: String) {
        self.before = before
        self.after = after
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        before = try container.decode(Int.self, forKey: .before)
        after = try container.decode(String.self, forKey: .after)
        let list = try container.decode([String].self, forKey: .list)
        guard !container.contains(.lost), list == ["kept"] else {
            throw DecodingError.dataCorruptedError(forKey: .lost, in: container, debugDescription: "a failed value left a trace")
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(before, forKey: .before)
        try? container.encode(FailsHalfway(), forKey: .lost)
        var list = container.nestedUnkeyedContainer(forKey: .list)
        try? list.encode(FailsHalfway())
        try list.encode("kept")
        try container.encode(after, forKey: .after)
    }
}

/// An array that codes itself element by element, like any collection but the coder's own.
struct ElementWise<Element: Codable & Equatable>: Codable, Equatable {
    var elements: [Element]

    init(_ elements: [Element]) { self.elements = elements }

    init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        var elements: [Element] = []
        while !container.isAtEnd { elements.append(try container.decode(Element.self)) }
        self.elements = elements
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        for element in elements { try container.encode(element) }
    }
}

/// Writes `count` keys, then writes some of them again with nested values: the last write wins,
/// as in JSONEncoder, both for a few keys (compared by hash) and for many (indexed).
struct Rewriter: Codable, Equatable {
    var count: Int
    var rewritten: [Int]

    init(count: Int, rewritten: [Int]) {
        self.count = count
        self.rewritten = rewritten
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: BinaryCodingKey.self)
        for index in 0..<count {
            var nested = container.nestedUnkeyedContainer(forKey: BinaryCodingKey(stringValue: "k\(index)"))
            try nested.encode("first \(index)")
        }
        for index in rewritten {
            let key = BinaryCodingKey(stringValue: "k\(index)")
            var nested = container.nestedContainer(keyedBy: BinaryCodingKey.self, forKey: key)
            try nested.encode("second \(index)", forKey: BinaryCodingKey(stringValue: "value"))
            // A super encoder used after its key was rewritten writes into a detached slot.
            if index.isMultiple(of: 2) {
                let stale = container.superEncoder(forKey: BinaryCodingKey(stringValue: "stale\(index)"))
                try container.encode("replaced", forKey: BinaryCodingKey(stringValue: "stale\(index)"))
                var slot = stale.singleValueContainer()
                try slot.encode("written too late")
            }
        }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: BinaryCodingKey.self)
        var rewritten: [Int] = []
        var count = 0
        for index in 0... {
            let key = BinaryCodingKey(stringValue: "k\(index)")
            guard container.contains(key) else { break }
            count += 1
            if let list = try? container.decode([String].self, forKey: key) {
                guard list == ["first \(index)"] else {
                    throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "\(list)")
                }
            } else {
                let nested = try container.nestedContainer(keyedBy: BinaryCodingKey.self, forKey: key)
                guard try nested.decode(String.self, forKey: BinaryCodingKey(stringValue: "value")) == "second \(index)" else {
                    throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "second")
                }
                rewritten.append(index)
                if index.isMultiple(of: 2) {
                    let staleKey = BinaryCodingKey(stringValue: "stale\(index)")
                    guard try container.decode(String.self, forKey: staleKey) == "replaced" else {
                        throw DecodingError.dataCorruptedError(forKey: staleKey, in: container, debugDescription: "stale")
                    }
                }
            }
        }
        let keys = container.allKeys.map(\.stringValue)
        guard Set(keys).count == keys.count else {
            throw DecodingError.dataCorruptedError(
                forKey: BinaryCodingKey(stringValue: "k0"), in: container, debugDescription: "duplicate keys \(keys)")
        }
        self.count = count
        self.rewritten = rewritten.sorted()
    }
}

/// Holds two nested keyed containers at the same depth and reads them alternately, so that
/// their lookup hints keep displacing each other.
struct Interleaved: Codable, Equatable {
    struct Pair: Codable, Equatable { var a, b, c: Int }
    var left: Pair
    var right: Pair
    enum CodingKeys: String, CodingKey { case left, right }
    enum PairKeys: String, CodingKey { case a, b, c }

    init(left: Pair, right: Pair) {
        self.left = left
        self.right = right
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let left = try container.nestedContainer(keyedBy: PairKeys.self, forKey: .left)
        let right = try container.nestedContainer(keyedBy: PairKeys.self, forKey: .right)
        // Each read asks the other container for the key after the one just read.
        let leftA = try left.decode(Int.self, forKey: .a)
        let rightB = try right.decode(Int.self, forKey: .b)
        let leftC = try left.decode(Int.self, forKey: .c)
        let rightA = try right.decode(Int.self, forKey: .a)
        let leftB = try left.decode(Int.self, forKey: .b)
        let rightC = try right.decode(Int.self, forKey: .c)
        self.left = Pair(a: leftA, b: leftB, c: leftC)
        self.right = Pair(a: rightA, b: rightB, c: rightC)
    }
}

/// Lists of lists of any depth, read through unkeyed containers.
struct NestedLists: Codable, Equatable {
    var children: [NestedLists]

    init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        var children: [NestedLists] = []
        while !container.isAtEnd { children.append(try container.decode(NestedLists.self)) }
        self.children = children
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        for child in children { try container.encode(child) }
    }
}

/// A recursive type, for nesting depth.
indirect enum Tree: Codable, Equatable {
    case leaf(Int)
    case node([Tree])

    static func deep(_ levels: Int) -> Tree {
        var tree = Tree.leaf(levels)
        for _ in 0..<levels { tree = .node([tree]) }
        return tree
    }
}

// MARK: - CRC-32C

@Suite struct ObjectFormatChecksumTests {
    /// The check value of the Castagnoli CRC, and the iSCSI test vectors of RFC 3720, B.4.
    @Test func knownVectors() {
        let vectors: [([UInt8], UInt32)] = [
            (Array("123456789".utf8), 0xE306_9283),
            ([], 0),
            ([UInt8](repeating: 0, count: 32), 0x8A91_36AA),
            ([UInt8](repeating: 0xFF, count: 32), 0x62A8_AB43),
            ((0..<32).map { UInt8($0) }, 0x46DD_794E),
            ((0..<32).map { UInt8(31 - $0) }, 0x113F_DB5C),
        ]
        for (bytes, expected) in vectors {
            #expect(CRC32C.checksum(bytes) == expected, "\(bytes.count) bytes")
            #expect(bytes.withUnsafeBytes { CRC32C.portableChecksum($0) } == expected, "\(bytes.count) bytes, portable")
        }
    }

    @Test func checksumsChainOverPieces() {
        var generator = SeededGenerator(seed: 0xC4C3)
        let bytes = (0..<70_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let whole = CRC32C.checksum(bytes)
        bytes.withUnsafeBytes { buffer in
            for cut in [0, 1, 7, 8, 9, 255, 256, 768, 769, 8192, 24_576, 24_577, 69_999, 70_000] {
                let first = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: buffer[..<cut]))
                let both = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: buffer[cut...]), continuing: first)
                #expect(both == whole, "cut at \(cut)")
            }
            var running: UInt32 = 0
            var offset = 0
            while offset < buffer.count {
                let piece = min(buffer.count - offset, Int.random(in: 1...5000, using: &generator))
                running = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + piece]), continuing: running)
                offset += piece
            }
            #expect(running == whole)
        }
    }

    /// Every alignment and many lengths, around the interleaved paths' block sizes (3 × 256 and
    /// 3 × 8192 bytes), on random input: the hardware path agrees with the portable one.
    @Test func hardwareAndPortablePathsAgree() {
        var generator = SeededGenerator(seed: 0x5EED)
        let bytes = (0..<(3 * 8192 * 3 + 64)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        var lengths = Array(0...300)
        lengths += [767, 768, 769, 1535, 1536, 1537, 24_575, 24_576, 24_577, 49_152, 49_159, 3 * 8192 * 3]
        lengths += (0..<40).map { _ in Int.random(in: 0...(3 * 8192 * 3), using: &generator) }
        bytes.withUnsafeBytes { buffer in
            for offset in 0..<16 {
                for length in lengths where offset + length <= buffer.count {
                    let piece = UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + length])
                    let seed = UInt32.random(in: 0...UInt32.max, using: &generator)
                    #expect(
                        CRC32C.checksum(piece, continuing: seed) == CRC32C.portableChecksum(piece, continuing: seed),
                        "offset \(offset), length \(length)")
                }
            }
        }
    }

    // Linux x86-64 with SSE4.2 (this machine): the runtime detection must pick the instructions.
    @Test(.enabled(if: cpuAdvertises("sse4_2"), "only on CPUs with SSE4.2"))
    func usesTheCRCInstructionsWhenTheCPUHasThem() {
        #expect(CRC32C.isHardwareAccelerated)
    }
}

/// Whether /proc/cpuinfo lists `flag`.
func cpuAdvertises(_ flag: String) -> Bool {
    #if arch(x86_64)
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return false }
    return info.split(separator: "\n").contains { $0.hasPrefix("flags") && $0.split(separator: " ").contains(Substring(flag)) }
    #else
    return false
    #endif
}

// MARK: - Header

@Suite struct ObjectFormatHeaderTests {
    @Test func headerSizeKeepsArrayPayloadsAligned() {
        #expect(ObjectHeader.size == 64)
        #expect(ObjectHeader.size % 16 == 0)
        #expect(ObjectHeader.magic.count == 8)
    }

    @Test(arguments: ObjectEncoding.allCases)
    func objectHeaderRoundTrips(_ encoding: ObjectEncoding) throws {
        let file = try objectFile(TwentyFieldRecord.sample, encoding: encoding)
        try file.withUnsafeBytes { bytes in
            let header = try ObjectHeader(parsing: bytes, fileSize: bytes.count)
            #expect(header.kind == .object)
            #expect(header.payloadLength == UInt64(bytes.count - ObjectHeader.size))
            #expect(try header.objectEncoding() == encoding)
            try header.verifyPayload(UnsafeRawBufferPointer(rebasing: bytes[ObjectHeader.size...]))
            expectFormatError(.decodingFailed) { try header.arrayCount(of: Float.self) }
        }
        #expect(try readObjectFile(TwentyFieldRecord.self, from: file) == TwentyFieldRecord.sample)
    }

    @Test func arrayHeaderDescribesItsElementType() throws {
        let values: [Float] = (0..<1000).map { Float($0) / 3 }
        let header = values.withUnsafeBufferPointer { ObjectHeader.array($0) }
        let file = header.serialized() + values.withUnsafeBytes { Array($0) }
        try file.withUnsafeBytes { bytes in
            let parsed = try ObjectHeader(parsing: bytes, fileSize: bytes.count)
            #expect(parsed == header)
            #expect(try parsed.arrayCount(of: Float.self) == 1000)
            try parsed.verifyPayload(UnsafeRawBufferPointer(rebasing: bytes[ObjectHeader.size...]))
            // Same size, other types; other sizes; an array read as an object.
            expectFormatError(.decodingFailed) { try parsed.arrayCount(of: UInt32.self) }
            expectFormatError(.decodingFailed) { try parsed.arrayCount(of: Int32.self) }
            expectFormatError(.decodingFailed) { try parsed.arrayCount(of: Double.self) }
            expectFormatError(.decodingFailed) { try parsed.arrayCount(of: SIMD2<Float>.self) }
            expectFormatError(.decodingFailed) { try parsed.objectEncoding() }
        }
        let empty = [Float]().withUnsafeBufferPointer { ObjectHeader.array($0) }
        let emptyCount = try empty.serialized().withUnsafeBytes { bytes throws in
            try ObjectHeader(parsing: bytes, fileSize: bytes.count).arrayCount(of: Float.self)
        }
        #expect(emptyCount == 0)
    }

    /// Int and Int64 share a layout but not a name; a piece-by-piece checksum gives the same header.
    @Test func elementIdentityIsTheTypeName() {
        #expect(ArrayElementType(Int.self) != ArrayElementType(Int64.self))
        #expect(ArrayElementType(Float.self).identity == ArrayElementType.fnv1a64("Swift.Float"))
        #expect(ArrayElementType.fnv1a64("a") == 0xAF63_DC4C_8601_EC8C)  // the FNV-1a 64 test vector
        let values: [Double] = [1, 2, 3]
        let whole = values.withUnsafeBufferPointer { ObjectHeader.array($0) }
        let checksum = values.withUnsafeBytes { bytes in
            CRC32C.checksum(
                UnsafeRawBufferPointer(rebasing: bytes[8...]), continuing: CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[..<8])))
        }
        #expect(ObjectHeader.array(of: Double.self, count: 3, payloadChecksum: checksum) == whole)
    }

    /// Private and local types print the address of their context, which changes from run to run.
    @Test func privateAndLocalTypeNamesCarryNoAddress() {
        struct LocalPoint { var x, y: Float }
        let local = ArrayElementType.name(of: LocalPoint.self)
        let privateName = ArrayElementType.name(of: PrivatePoint.self)
        #expect(!local.contains("$") && local.hasSuffix("(unknown context).LocalPoint"), "\(local)")
        #expect(!privateName.contains("$") && privateName.hasSuffix("(unknown context).PrivatePoint"), "\(privateName)")
        #expect(ArrayElementType(LocalPoint.self) == ArrayElementType(LocalPoint.self))
        #expect(ArrayElementType(LocalPoint.self).identity != ArrayElementType(PrivatePoint.self).identity)
    }

    @Test func shortAndRawFilesAreCorrupted() {
        for size in [0, 1, 8, 63] {
            let bytes = [UInt8](repeating: 0x41, count: size)
            let message = expectFormatError(.corrupted) {
                try bytes.withUnsafeBytes { try ObjectHeader(parsing: $0, fileSize: size) }
            }
            #expect(message?.contains("shorter") == true)
        }
        let raw = Array("a raw upload, not an object, long enough to hold a header and then some more".utf8)
        let message = expectFormatError(.corrupted) { try raw.withUnsafeBytes { try ObjectHeader(parsing: $0, fileSize: raw.count) } }
        #expect(message?.contains("raw") == true)
    }

    @Test func lengthMismatchesAreCorrupted() throws {
        let file = try objectFile(["a": 1], encoding: .binary)
        file.withUnsafeBytes { bytes in
            for size in [bytes.count - 1, bytes.count + 1, ObjectHeader.size] {
                expectFormatError(.corrupted) { try ObjectHeader(parsing: bytes, fileSize: size) }
            }
        }
        try file.withUnsafeBytes { bytes in
            let header = try ObjectHeader(parsing: bytes, fileSize: bytes.count)
            expectFormatError(.corrupted) { try header.verifyPayload(UnsafeRawBufferPointer(rebasing: bytes[(ObjectHeader.size + 1)...])) }
            expectFormatError(.corrupted) {
                try header.verifyPayload(length: bytes.count - ObjectHeader.size, checksum: header.payloadChecksum ^ 1)
            }
        }
    }

    /// Any change to one byte of the header is caught (CRC-32C catches every burst of up to 32 bits).
    @Test func everyHeaderByteChangeIsCaught() throws {
        let file = try objectFile(TwentyFieldRecord.sample, encoding: .binary)
        for index in 0..<ObjectHeader.size {
            for delta in 1...255 {
                var damaged = file
                damaged[index] = damaged[index] &+ UInt8(delta)
                expectFormatError(.corrupted) {
                    try damaged.withUnsafeBytes { try ObjectHeader(parsing: $0, fileSize: $0.count) }
                }
            }
        }
    }

    /// A flipped bit anywhere in a small object file: the header or the payload checksum catches it.
    @Test(arguments: ObjectEncoding.allCases)
    func everyBitFlipInASmallFileIsCaught(_ encoding: ObjectEncoding) throws {
        let file = try objectFile(Address(street: "Main", zip: "75001", floors: [0, nil, 2]), encoding: encoding)
        for index in file.indices {
            for bit in 0..<8 {
                var damaged = file
                damaged[index] ^= 1 << bit
                expectFormatError(.corrupted) { try readObjectFile(Address.self, from: damaged) }
            }
        }
    }

    /// Headers whose checksum is right but whose fields are impossible.
    @Test func impossibleFieldsAreCorrupted() throws {
        let values: [Int32] = [1, 2, 3, 4]
        let good = values.withUnsafeBufferPointer { ObjectHeader.array($0) }
        let payload = values.withUnsafeBytes { Array($0) }
        func check(_ change: (inout [UInt8]) -> Void, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
            var bytes = good.serialized()
            change(&bytes)
            let checksum = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<60])) }
            withUnsafeBytes(of: checksum.littleEndian) { bytes.replaceSubrange(60..<64, with: $0) }
            let file = bytes + payload
            expectFormatError(.corrupted, sourceLocation: sourceLocation) {
                try file.withUnsafeBytes { try ObjectHeader(parsing: $0, fileSize: $0.count) }
            }
        }
        func store<T: FixedWidthInteger>(_ value: T, at offset: Int, in bytes: inout [UInt8]) {
            withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<offset + MemoryLayout<T>.size, with: $0) }
        }
        check({ store(UInt16(2), at: 8, in: &$0) }, "version")
        check({ $0[10] = 3 }, "kind")
        check({ $0[11] = 9 }, "encoding")
        check({ $0[11] = ObjectHeader.Encoding.binary.rawValue }, "array with an object encoding")
        check({ $0[10] = ObjectHeader.Kind.object.rawValue }, "object with array fields")
        check({ store(UInt32(0), at: 16, in: &$0) }, "stride 0")
        check({ store(UInt32(8), at: 12, in: &$0) }, "size beyond stride")
        check({ store(UInt32(3), at: 20, in: &$0) }, "alignment 3")
        check({ store(UInt64(5), at: 32, in: &$0) }, "count × stride ≠ length")
        check({ store(UInt64.max / 2, at: 32, in: &$0) }, "count × stride overflows")
        check({ store(UInt64(1), at: 52, in: &$0) }, "reserved")
    }

    /// An array written on a machine of the other byte order is intact but unreadable here.
    @Test func otherByteOrderIsDecodingFailed() throws {
        var header = [Int32(1)].withUnsafeBufferPointer { ObjectHeader.array($0) }
        header.encoding = header.encoding == .rawLittleEndian ? .rawBigEndian : .rawLittleEndian
        let file = header.serialized() + [UInt8](repeating: 0, count: 4)
        try file.withUnsafeBytes { bytes in
            let parsed = try ObjectHeader(parsing: bytes, fileSize: bytes.count)
            expectFormatError(.decodingFailed) { try parsed.arrayCount(of: Int32.self) }
        }
    }

    @Test func errorsMapToPublicCodes() {
        let cases: [(ObjectFormatError, LocalStorageError.Code)] = [
            (.corrupted("x"), .corrupted), (.decodingFailed("x"), .decodingFailed),
            (.encodingFailed(FailsHalfway.Failure()), .invalidArgument),
        ]
        for (failure, code) in cases {
            let error = LocalStorageError(failure, operation: .download, path: "/p")
            #expect(error.code == code)
            #expect(error.path == "/p")
        }
    }
}

private struct PrivatePoint { var x, y: Float }

// MARK: - Coders

@Suite struct ObjectFormatCoderTests {
    @Test(arguments: ObjectEncoding.allCases)
    func everythingRoundTrips(_ encoding: ObjectEncoding) throws {
        #expect(try roundTrip(Everything(), encoding) == Everything())
        #expect(try roundTrip(TwentyFieldRecord.sample, encoding) == TwentyFieldRecord.sample)
        #expect(try roundTrip(EmptyThing(), encoding) == EmptyThing())
        #expect(try roundTrip([Address](), encoding) == [])
        #expect(try roundTrip([String: Int](), encoding) == [:])
        #expect(try roundTrip("top-level string", encoding) == "top-level string")
        #expect(try roundTrip(42, encoding) == 42)
        #expect(try roundTrip(Optional<Int>.none, encoding) == nil)
        #expect(try roundTrip([1, nil, 3] as [Int?], encoding) == [1, nil, 3])
        #expect(try roundTrip(Tree.deep(60), encoding) == Tree.deep(60))
    }

    @Test(arguments: ObjectEncoding.allCases)
    func classesRoundTripWithTheirSuperclass(_ encoding: ObjectEncoding) throws {
        let dog = Dog(name: "Rex", legs: 4, breed: "collie")
        #expect(try roundTrip(dog, encoding) == dog)
        // Cat writes `name` before its superclass does, in the same container: the superclass wins.
        let cat = try roundTrip(Cat(name: "Tom", legs: 4, lives: 9), encoding)
        #expect(cat == Cat(name: "Tom", legs: 4, lives: 9))
    }

    @Test func datesRoundTripExactly() throws {
        var generator = SeededGenerator(seed: 0xDA7E)
        var dates = [
            Date.distantPast, .distantFuture, Date(timeIntervalSinceReferenceDate: 0), Date(timeIntervalSinceReferenceDate: -0.000_001),
        ]
        dates += (0..<500).map { _ in
            Date(
                timeIntervalSinceReferenceDate: Double(
                    bitPattern: UInt64.random(in: 0...UInt64.max, using: &generator) & 0x41FF_FFFF_FFFF_FFFF))
        }
        dates += (0..<500).map { _ in Date(timeIntervalSinceReferenceDate: Double.random(in: -3e9...3e9, using: &generator)) }
        for encoding in ObjectEncoding.allCases {
            let decoded = try roundTrip(dates, encoding)
            for (date, back) in zip(dates, decoded) {
                #expect(
                    date.timeIntervalSinceReferenceDate.bitPattern == back.timeIntervalSinceReferenceDate.bitPattern, "\(encoding) \(date)")
            }
        }
    }

    /// The binary coder keeps every float bit pattern, NaN payloads included; JSON keeps the values.
    @Test func floatsRoundTripBitForBit() throws {
        let floats: [Float] = [
            .nan, -.nan, .signalingNaN, Float(bitPattern: 0x7FC0_1234), .infinity, -.infinity, -0.0, .leastNonzeroMagnitude,
            .greatestFiniteMagnitude,
        ]
        let decoded = try roundTrip(floats, .binary)
        #expect(decoded.map(\.bitPattern) == floats.map(\.bitPattern))
        let json = try roundTrip(floats, .json)
        #expect(json.count == floats.count && json[0].isNaN && json[4] == .infinity && json[5] == -.infinity)
    }

    /// [Float], [Double], [Int32], [UInt8] and ContiguousArray are one packed block: tag, element
    /// tag, count, then exactly the elements' bytes.
    @Test func numericArraysArePacked() throws {
        func expectPacked<T: Codable & Equatable & PackedScalar>(_ values: [T], sourceLocation: SourceLocation = #_sourceLocation) throws {
            let payload = try encodeObjectPayload(values, encoding: .binary)
            let expected = 3 + varintSize(values.count) + values.count * MemoryLayout<T>.size
            #expect(payload.count == expected, sourceLocation: sourceLocation)
            #expect(payload[1] == WireTag.packed.rawValue && payload[2] == T.wireTag.rawValue, sourceLocation: sourceLocation)
            #expect(
                Array(payload.suffix(values.count * MemoryLayout<T>.size)) == values.withUnsafeBytes { Array($0) },
                sourceLocation: sourceLocation)
            #expect(try decodeBinary([T].self, payload) == values, sourceLocation: sourceLocation)
            #expect(try decodeBinary(ContiguousArray<T>.self, payload) == ContiguousArray(values), sourceLocation: sourceLocation)
            #expect(try encodeObjectPayload(ContiguousArray(values), encoding: .binary) == payload, sourceLocation: sourceLocation)
        }
        try expectPacked((0..<1000).map { Float($0) * 0.5 })
        try expectPacked((0..<300).map { Double($0) - 0.25 })
        try expectPacked((0..<257).map { Int32($0) - 128 })
        try expectPacked((0..<4096).map { UInt8(truncatingIfNeeded: $0) })
        try expectPacked([Float16(1), -2, 0.5])
        try expectPacked([Int]())
        // Data is a packed UInt8 array: the two read each other.
        let bytes: [UInt8] = [9, 8, 7]
        #expect(try encodeObjectPayload(Data(bytes), encoding: .binary) == encodeObjectPayload(bytes, encoding: .binary))
        #expect(try decodeBinary(Data.self, encodeObjectPayload(bytes, encoding: .binary)) == Data(bytes))
    }

    /// Shapes that read each other as in JSON: a packed array read element by element (as
    /// `[Float?]`, a Set, a type of its own), an array written element by element read in one go.
    @Test func arraysReadAcrossShapes() throws {
        let floats: [Float] = [1, 2.5, -3]
        let packed = try encodeObjectPayload(floats, encoding: .binary)
        #expect(try decodeBinary([Float?].self, packed) == [1, 2.5, -3])
        #expect(try decodeBinary(Set<Float>.self, packed) == Set(floats))
        #expect(try decodeBinary(ElementWise<Float>.self, packed) == ElementWise(floats))
        let elementwise = try encodeObjectPayload(ElementWise(floats), encoding: .binary)
        #expect(elementwise[1] == WireTag.unkeyed.rawValue)
        #expect(try decodeBinary([Float].self, elementwise) == floats)
        #expect(try decodeBinary(ContiguousArray<Float>.self, elementwise) == ContiguousArray(floats))
        #expect(try decodeBinary(Data.self, encodeObjectPayload(ElementWise<UInt8>([1, 2]), encoding: .binary)) == Data([1, 2]))
    }

    @Test(arguments: [(3, [1]), (20, [0, 7, 19]), (40, [2, 3, 35, 39]), (100, Array(stride(from: 0, to: 100, by: 3)))])
    func rewrittenKeysKeepTheLastValue(_ count: Int, _ rewritten: [Int]) throws {
        let payload = try encodeObjectPayload(Rewriter(count: count, rewritten: rewritten), encoding: .binary)
        #expect(try decodeBinary(Rewriter.self, payload) == Rewriter(count: count, rewritten: rewritten))
    }

    @Test func containersAtTheSameDepthReadAlternately() throws {
        let value = Interleaved(left: .init(a: 1, b: 2, c: 3), right: .init(a: 4, b: 5, c: 6))
        #expect(try roundTrip(value, .binary) == value)
    }

    /// Encoders and decoders share nothing: many tasks at once get their own values back.
    @Test func concurrentCodingIsIndependent() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for round in 0..<200 {
                        var record = TwentyFieldRecord.sample
                        record.id = task * 1000 + round
                        record.weights[round] = Float(task)
                        let back = try roundTrip(record, .binary)
                        #expect(back == record)
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// The decoder handed to every nested `init(from:)` fits in an existential's inline buffer
    /// (three words), so passing it allocates nothing.
    @Test func valueDecoderFitsInAnExistential() {
        #expect(MemoryLayout<BinaryValueDecoder>.size <= 3 * MemoryLayout<Int>.size)
    }

    @Test func keysAreLookedUpByName() throws {
        let value = PickyReader(first: 1, second: "two", third: [3], missing: nil)
        for encoding in ObjectEncoding.allCases {
            #expect(try roundTrip(value, encoding) == value)
        }
    }

    /// A value whose nested encoding failed and was caught leaves no partial bytes behind.
    @Test func caughtEncodingFailuresLeaveNoTrace() throws {
        let value = Forgiving(before: 1, after: "ok")
        let payload = try encodeObjectPayload(value, encoding: .binary)
        #expect(try decodeBinary(Forgiving.self, payload) == value)
    }

    @Test func codingPathsMatchJSONDecoder() throws {
        let binary = try decodeBinary(PathRecorder.self, encodeObjectPayload(PathSource(), encoding: .binary)).paths
        let json = try JSONDecoder().decode(PathRecorder.self, from: JSONEncoder().encode(PathSource())).paths
        #expect(binary == json)
        #expect(binary.contains("outer.inner[1]"))
    }

    @Test func wrongTypesAreDecodingFailures() throws {
        struct Narrow: Codable { var count: Int32 }
        struct Wide: Codable { var count: Int64 }
        struct Named: Codable { var name: String }
        struct Numbers: Codable { var values: [Double] }
        struct Listed: Codable { var values: [Float] }
        struct Required: Codable { var owner: String }
        struct Optional: Codable { var owner: String? }
        struct Nested: Codable { var items: [Named] }
        struct NestedNumbers: Codable { var items: [Wide] }

        func payload<T: Encodable>(_ value: T) throws -> [UInt8] { try encodeObjectPayload(value, encoding: .binary) }
        let cases: [(String, () throws -> Void)] = [
            ("Int32 as Int64", { _ = try decodeBinary(Wide.self, payload(Narrow(count: 1))) }),
            ("String as Int", { _ = try decodeBinary(Wide.self, payload(["count": "x"])) }),
            ("[Float] as [Double]", { _ = try decodeBinary(Numbers.self, payload(Listed(values: [1]))) }),
            ("nil as String", { _ = try decodeBinary(Required.self, payload(Optional(owner: nil))) }),
            ("missing key", { _ = try decodeBinary(Named.self, payload(EmptyThing())) }),
            ("keyed as unkeyed", { _ = try decodeBinary([Int].self, payload(Narrow(count: 1))) }),
            ("unkeyed as keyed", { _ = try decodeBinary(Narrow.self, payload([1, 2])) }),
            ("Double as Date", { _ = try decodeBinary(Date.self, payload(1.5)) }),
            ("deep", { _ = try decodeBinary(NestedNumbers.self, payload(Nested(items: [Named(name: "a")]))) }),
        ]
        for (label, body) in cases {
            let message = expectFormatError(.decodingFailed, body)
            #expect(message != nil, "\(label)")
        }
        // The message says where and what.
        let deep = expectFormatError(.decodingFailed) {
            try decodeBinary(NestedNumbers.self, payload(Nested(items: [Named(name: "a"), Named(name: "b")])))
        }
        #expect(deep?.contains("items[0]") == true, "\(deep ?? "")")
        let typed = expectFormatError(.decodingFailed) { try decodeBinary(Numbers.self, payload(Listed(values: [1]))) }
        #expect(typed?.contains("values") == true && typed?.contains("Float") == true, "\(typed ?? "")")
        let element = expectFormatError(.decodingFailed) { try decodeBinary([String].self, payload(["a", nil, "c"] as [String?])) }
        #expect(element?.contains("[1]") == true, "\(element ?? "")")
    }

    @Test func malformedPayloadsAreDecodingFailures() throws {
        let good = try encodeObjectPayload(["key": 1], encoding: .binary)
        let cases: [(String, [UInt8])] = [
            ("empty", []),
            ("version only", [BinaryFormat.version]),
            ("unknown version", [2] + good.dropFirst()),
            ("trailing byte", good + [0]),
            ("trailing value", good + [WireTag.null.rawValue]),
            ("truncated", Array(good.dropLast())),
            ("unknown tag", [BinaryFormat.version, 0x7F]),
            ("overlong varint", [BinaryFormat.version, WireTag.string.rawValue, 0x80, 0x00]),
            ("huge string length", [BinaryFormat.version, WireTag.string.rawValue, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]),
            ("varint overflow", [BinaryFormat.version, WireTag.string.rawValue] + [UInt8](repeating: 0xFF, count: 9) + [0x02]),
            ("huge packed count", [BinaryFormat.version, WireTag.packed.rawValue, WireTag.float64.rawValue, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
            ("packed Bool", [BinaryFormat.version, WireTag.packed.rawValue, WireTag.trueValue.rawValue, 0]),
            ("invalid UTF-8", [BinaryFormat.version, WireTag.string.rawValue, 2, 0xC3, 0x28]),
            ("invalid UTF-8 key", [BinaryFormat.version, WireTag.keyed.rawValue, 3, 1, 0xFF, WireTag.null.rawValue]),
        ]
        for (label, bytes) in cases {
            for type in [String.self, Int.self, Data.self, [Double].self, [String: Int].self] as [any Decodable.Type] {
                let message = expectFormatError(.decodingFailed) { try decodeBinary(type, bytes) }
                #expect(message != nil, "\(label) as \(type)")
            }
        }
    }

    /// Every byte of a payload changed in turn, past the checksum (as if it had collided): the
    /// decoder returns a value or throws, and copies no more than the payload holds.
    @Test func everyPayloadByteChangeDecodesOrThrows() throws {
        for value in [
            try encodeObjectPayload(Everything(), encoding: .binary), try encodeObjectPayload(TwentyFieldRecord.sample, encoding: .binary),
        ] {
            // The record's 4,000 bytes of floats decode whatever their bits: only their first bytes.
            for index in value.indices.prefix(1200) {
                for change: UInt8 in [0x01, 0x80, 0xFF] {
                    var damaged = value
                    damaged[index] ^= change
                    for type in [Everything.self, TwentyFieldRecord.self] as [any Decodable.Type] {
                        var copied = 0
                        _ = try? damaged.withUnsafeBytes { try BinaryObjectDecoder.decode(type, from: $0, copiedBytes: &copied) }
                        #expect(copied <= damaged.count, "byte \(index) ^ \(change) as \(type)")
                    }
                }
            }
        }
    }

    /// Hostile nesting deeper than the limit throws instead of exhausting the stack; values
    /// within it decode.
    @Test func nestingDepthIsBounded() throws {
        #expect(try roundTrip(Tree.deep(150), .binary) == Tree.deep(150))
        let tooDeep = try encodeObjectPayload(Tree.deep(400), encoding: .binary)
        let message = expectFormatError(.decodingFailed) { try decodeBinary(Tree.self, tooDeep) }
        #expect(message?.contains("deeper") == true, "\(message ?? "")")
        // 200,000 nested unkeyed containers, built by hand from the inside out (reversed).
        var reversed: [UInt8] = [0, WireTag.unkeyed.rawValue]
        for _ in 0..<200_000 {
            var length: [UInt8] = []
            length.appendVarint(reversed.count)
            reversed += length.reversed()
            reversed.append(WireTag.unkeyed.rawValue)
        }
        let nested = [BinaryFormat.version] + reversed.reversed()
        expectFormatError(.decodingFailed) { try decodeBinary(Tree.self, nested) }
        expectFormatError(.decodingFailed) { try decodeBinary([[[[Int]]]].self, nested) }
        expectFormatError(.decodingFailed) { try decodeBinary(NestedLists.self, nested) }
    }

    @Test func containerMisuseIsAnEncodingFailure() {
        struct Confused: Encodable {
            func encode(to encoder: any Encoder) throws {
                _ = encoder.container(keyedBy: BinaryCodingKey.self)
                _ = encoder.unkeyedContainer()
            }
        }
        struct Twice: Encodable {
            func encode(to encoder: any Encoder) throws {
                var container = encoder.singleValueContainer()
                try container.encode(1)
                try container.encode(2)
            }
        }
        expectFormatError(.encodingFailed) { try encodeObjectPayload(Confused(), encoding: .binary) }
        expectFormatError(.encodingFailed) { try encodeObjectPayload(Twice(), encoding: .binary) }
        expectFormatError(.encodingFailed) { try encodeObjectPayload(FailsHalfway(), encoding: .binary) }
        expectFormatError(.encodingFailed) { try encodeObjectPayload(FailsHalfway(), encoding: .json) }
    }

    /// JSON payloads are readable: sorted keys, plain text.
    @Test func jsonPayloadIsSortedAndReadable() throws {
        let payload = try encodeObjectPayload(["b": 2, "a": 1, "c": 3], encoding: .json)
        #expect(String(decoding: payload, as: UTF8.self) == #"{"a":1,"b":2,"c":3}"#)
    }

    /// A value that encodes nothing is an empty keyed container, as in JSON.
    @Test func valueEncodingNothingIsAnEmptyContainer() throws {
        struct Nothing: Codable, Equatable {
            init() {}
            init(from decoder: any Decoder) throws { _ = try decoder.container(keyedBy: BinaryCodingKey.self) }
            func encode(to encoder: any Encoder) throws {}
        }
        #expect(try encodeObjectPayload(Nothing(), encoding: .binary) == [BinaryFormat.version, WireTag.keyed.rawValue, 0])
        #expect(try roundTrip([Nothing(), Nothing()], .binary) == [Nothing(), Nothing()])
    }
}
