// Fuzzing the object format: random bytes and mutated valid encodings (bit flips, truncations,
// inserted and deleted bytes, huge length fields, spliced values) decoded as many types. Each
// decode either succeeds or throws; a trap would kill the test process. The decoder copies no
// more bytes out than the input holds (its own accounting), so no count in the input can make it
// allocate more than the input justifies. A decoded value re-encodes to a fixed point.
//
// LOCALSTORAGE_FUZZ_ITERATIONS sets the inputs per test (CI default below; soak with millions);
// LOCALSTORAGE_SEED replays a run.
import Foundation
import StorageTestSupport
import Testing

@testable import LocalStorage

@Suite struct ObjectFormatFuzzTests {
    static let iterations = soakCount("LOCALSTORAGE_FUZZ_ITERATIONS", default: 20_000)
    static let seed = testSeed("ObjectFormatFuzzTests")

    /// Valid encodings to mutate, each with the index of its type in `targets`.
    static let corpus: [(bytes: [UInt8], target: Int)] = {
        func encode<T: Encodable>(_ value: T, _ target: Int) -> ([UInt8], Int) {
            ((try? encodeObjectPayload(value, encoding: .binary)) ?? [], target)
        }
        return [
            encode(Everything(), 0),
            encode(TwentyFieldRecord.sample, 1),
            encode(Tree.deep(6), 2),
            encode(Tree.node([.leaf(1), .node([]), .leaf(-3)]), 2),
            encode(["a": [1, nil, 3], "": [], "long key with spaces": [Int?](repeating: 7, count: 5)] as [String: [Int?]], 3),
            encode([Shape.circle(radius: 1), .polygon(points: [[1, 2]], label: "p"), .empty], 4),
            encode(Dog(name: "Rex", legs: 4, breed: "collie"), 5),
            encode(Cat(name: "Tom", legs: 4, lives: 9), 6),
            encode(PickyReader(first: 1, second: "two", third: [3, 4], missing: nil), 7),
            encode((0..<40).map { Float($0) }, 8),
            encode(Data((0..<30).map { UInt8($0) }), 9),
            encode("a string ✓", 10),
            encode([1: "one", 2: "two"], 11),
            encode(ElementWise<Double>([1, 2, 3]), 12),
            encode(Set<Float>([1, 2]), 13),
            encode(Int128.min, 14),
            encode(Address(street: "Main", zip: nil, floors: [1, nil]), 15),
            encode([Float?]([1, nil, 2]), 17),
            encode(["x", "", "yz"], 18),
            encode(ContiguousArray<UInt16>([1, 2, 65535]), 19),
            encode(Date(timeIntervalSinceReferenceDate: 1.5), 20),
        ]
    }()

    /// A type to decode the inputs as: `decode` returns how many bytes the decoder copied out and
    /// the decoded value's re-encoding.
    struct Target: Sendable {
        let name: String
        /// Whether equal values encode to equal bytes (not so for dictionaries and sets, whose
        /// order varies from one instance to another).
        let stableEncoding: Bool
        let decode: @Sendable ([UInt8]) throws -> (copied: Int, reencoded: Result<[UInt8], any Error>)
    }

    static let targets: [Target] = [
        target(Everything.self, stable: false), target(TwentyFieldRecord.self), target(Tree.self),
        target([String: [Int?]].self, stable: false), target([Shape].self), target(Dog.self), target(Cat.self),
        target(PickyReader.self), target([Float].self), target(Data.self), target(String.self),
        target([Int: String].self, stable: false), target(ElementWise<Double>.self), target(Set<Float>.self, stable: false),
        target(Int128.self), target(Address.self), target(NestedLists.self), target([Float?].self), target([String].self),
        target(ContiguousArray<UInt16>.self), target(Date.self),
    ]

    static func target<T: Codable & SendableMetatype>(_ type: T.Type, stable: Bool = true) -> Target {
        Target(name: "\(type)", stableEncoding: stable) { bytes in
            var copied = 0
            let value = try bytes.withUnsafeBytes { try BinaryObjectDecoder.decode(T.self, from: $0, copiedBytes: &copied) }
            return (copied, Result { try BinaryObjectEncoder.encode(value) })
        }
    }

    /// Four shards, so both cores work.
    @Test(arguments: 0..<4)
    func randomAndMutatedPayloadsDecodeOrThrow(_ shard: Int) throws {
        var generator = SeededGenerator(seed: Self.seed &+ UInt64(shard))
        var decoded = 0
        var rejected = 0
        for index in 0..<(Self.iterations / 4) {
            let (input, own) = Self.mutatedInput(using: &generator)
            // As the type that wrote it (most mutations keep most of its shape), and as two others.
            for attempt in 0..<3 {
                let target = Self.targets[attempt == 0 ? own : Int.random(in: 0..<Self.targets.count, using: &generator)]
                let label = { "shard \(shard) input \(index) as \(target.name): \(input.prefix(48).map { String($0, radix: 16) })" }
                let copied: Int
                let reencoded: Result<[UInt8], any Error>
                do {
                    (copied, reencoded) = try target.decode(input)
                } catch let error as ObjectFormatError {
                    Issue.record("the coder threw a format error of its own: \(error): \(label())")
                    continue
                } catch {
                    rejected += 1
                    continue
                }
                decoded += 1
                #expect(copied <= input.count, "copied \(copied) bytes out of \(input.count): \(label())")
                // What decodes encodes again, and that encoding decodes to the same encoding.
                guard case .success(let encoding) = reencoded else {
                    Issue.record("a decoded value does not encode: \(reencoded): \(label())")
                    continue
                }
                let again = try target.decode(encoding)
                if target.stableEncoding, case .success(let encodingAgain) = again.reencoded {
                    #expect(encodingAgain == encoding, "not a fixed point: \(label())")
                }
            }
        }
        print("ObjectFormatFuzzTests shard \(shard): \(decoded) decoded, \(rejected) rejected")
        // Both outcomes happen, or the fuzz is not exploring.
        #expect(decoded > 0 && rejected > 0, "decoded \(decoded), rejected \(rejected)")
    }

    /// Damaged object files never read back as anything: the header or payload checksum, or a
    /// length, catches every change (a CRC-32C collision has odds of 2⁻³² per file).
    @Test func damagedFilesAreCorrupted() throws {
        var generator = SeededGenerator(seed: Self.seed ^ 0xF11E)
        let files = try [
            objectFile(TwentyFieldRecord.sample, encoding: .binary), objectFile(TwentyFieldRecord.sample, encoding: .json),
            objectFile(Address(street: "x", zip: nil, floors: []), encoding: .binary),
        ]
        for index in 0..<(Self.iterations / 4) {
            let original = files[index % files.count]
            var damaged = original
            Self.mutate(&damaged, using: &generator)
            guard damaged != original else { continue }
            do {
                if index % files.count == 2 {
                    _ = try readObjectFile(Address.self, from: damaged)
                } else {
                    _ = try readObjectFile(TwentyFieldRecord.self, from: damaged)
                }
                Issue.record("a damaged file read back: input \(index)")
            } catch let error as ObjectFormatError {
                #expect(error.kind == .corrupted, "\(error)")
            }
        }
    }

    // MARK: Inputs

    /// An input, and the index of the type that wrote it (random for random bytes).
    static func mutatedInput(using generator: inout SeededGenerator) -> ([UInt8], Int) {
        if Int.random(in: 0..<10, using: &generator) == 0 {
            // Random bytes, mostly behind the right version byte.
            var bytes = (0..<Int.random(in: 0...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if !bytes.isEmpty && Bool.random(using: &generator) { bytes[0] = BinaryFormat.version }
            if bytes.count > 1 && Bool.random(using: &generator) { bytes[1] = UInt8.random(in: 0...0x14, using: &generator) }
            return (bytes, Int.random(in: 0..<targets.count, using: &generator))
        }
        var (bytes, target) = corpus[Int.random(in: 0..<corpus.count, using: &generator)]
        // Mostly one mutation, so that many inputs keep most of their shape and decode.
        let mutations = [1, 1, 1, 1, 1, 1, 1, 2, 2, 3][Int.random(in: 0..<10, using: &generator)]
        for _ in 0..<mutations { mutate(&bytes, using: &generator) }
        return (bytes, target)
    }

    static func mutate(_ bytes: inout [UInt8], using generator: inout SeededGenerator) {
        func position(_ extra: Int = 0) -> Int { Int.random(in: 0...(max(bytes.count - 1, 0) + extra), using: &generator) }
        // Bit flips and byte changes most often.
        switch [0, 0, 0, 0, 1, 1, 2, 3, 4, 4, 5, 6, 7, 8][Int.random(in: 0..<14, using: &generator)] {
        case 0 where !bytes.isEmpty:
            bytes[position()] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
        case 1 where !bytes.isEmpty:
            bytes[position()] = UInt8.random(in: 0...255, using: &generator)
        case 2:
            bytes.removeLast(Int.random(in: 0...bytes.count, using: &generator))
        case 3:
            let insert = (0..<Int.random(in: 1...8, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            bytes.insert(contentsOf: insert, at: min(position(1), bytes.count))
        case 4 where !bytes.isEmpty:
            // A huge or overlong length field where a length or count may be.
            let huge: [[UInt8]] = [
                [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], [0xFF, 0xFF, 0xFF, 0xFF, 0x0F],
                [0x80, 0x80, 0x80, 0x00], [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], [0x80, 0x01],
            ]
            let at = position()
            let field = huge[Int.random(in: 0..<huge.count, using: &generator)]
            bytes.replaceSubrange(at..<min(at + Int.random(in: 0...2, using: &generator), bytes.count), with: field)
        case 5 where !bytes.isEmpty:
            let start = position()
            bytes.removeSubrange(start..<min(bytes.count, start + Int.random(in: 1...16, using: &generator)))
        case 6 where !bytes.isEmpty:
            let start = position()
            let slice = bytes[start..<min(bytes.count, start + Int.random(in: 1...32, using: &generator))]
            bytes.insert(contentsOf: slice, at: position(1))
        case 7:
            // Splice in a piece of another valid value.
            let other = corpus[Int.random(in: 0..<corpus.count, using: &generator)].bytes
            let start = Int.random(in: 1..<other.count, using: &generator)
            let piece = other[start..<min(other.count, start + Int.random(in: 1...64, using: &generator))]
            bytes.insert(contentsOf: piece, at: min(position(1), bytes.count))
        default:
            if !bytes.isEmpty { bytes[position()] = [0x00, 0x7F, 0x80, 0xFF, 0x13, 0x14, 0x12][Int.random(in: 0..<7, using: &generator)] }
        }
    }
}
