// Objects and arrays through the storage: round trips, every kind of corruption on disk, and the
// one-lookup reads (`downloadFileIfExists`, `downloadObjectIfExists`).
import Foundation
import Glibc
import Testing

@testable import LocalStorage

struct PipelineStep: Codable, Equatable {
    struct Stage: Codable, Equatable {
        var name: String
        var weights: [Float]
        var parameters: [String: Double]
    }

    enum Status: Codable, Equatable {
        case pending
        case done(at: Date, score: Double?)
    }

    var id: Int
    var label: String?
    var created: Date
    var blob: Data
    var stages: [Stage]
    var tags: [String: [Int32]]
    var status: Status
    var nested: [[UInt8]?]
}

struct Vector3: BitwiseCopyable, Equatable {
    var x: Float
    var y: Float
    var z: Float
}

@Suite struct ObjectStorageTests {
    static let step = PipelineStep(
        id: 42, label: nil, created: Date(timeIntervalSinceReferenceDate: 812_345_678.123_456),
        blob: Data([0, 1, 2, 255]),
        stages: [
            .init(name: "embed", weights: (0..<1_000).map { Float($0) * 0.5 }, parameters: ["lr": 0.001, "decay": 0.9]),
            .init(name: "é/∂", weights: [], parameters: [:]),
        ],
        tags: ["a": [1, -2, 3], "": []], status: .done(at: Date(timeIntervalSince1970: 0), score: nil),
        nested: [[1, 2], nil, []])

    @Test(arguments: ObjectEncoding.allCases)
    func nestedValuesRoundTrip(_ encoding: ObjectEncoding) throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.noSync)
        #expect(try storage.uploadObject(Self.step, fileName: "step", context: "run/1", encoding: encoding) == "step")
        #expect(try storage.downloadObject(PipelineStep.self, fileName: "step", context: "run/1") == Self.step)
        #expect(try storage.downloadObjectIfExists(PipelineStep.self, fileName: "step", context: "run/1") == Self.step)
        #expect(try storage.downloadObjectIfExists(PipelineStep.self, fileName: "none", context: "run/1") == nil)
        #expect(try storage.downloadObjectIfExists(PipelineStep.self, fileName: "none", context: "no/context") == nil)
        // Plain values, and optionals at the top.
        try storage.uploadObject(["x": 1.5, "y": -0.0], fileName: "dict", context: "")
        #expect(try storage.downloadObject([String: Double].self, fileName: "dict", context: "") == ["x": 1.5, "y": -0.0])
        try storage.uploadObject(Optional<Int>.none, fileName: "nil", context: "")
        #expect(try storage.downloadObject(Int?.self, fileName: "nil", context: "") == nil)
    }

    @Test func arraysRoundTripAsOneBlock() throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.noSync)
        let floats = (0..<100_000).map { Float($0).squareRoot() }
        let doubles = (0..<1_000).map { Double($0) / 3 }
        let ints: [Int32] = [Int32.min, -1, 0, 1, Int32.max]
        let vectors = (0..<50).map { Vector3(x: Float($0), y: -Float($0), z: 0.25) }
        try storage.uploadArray(floats, fileName: "f", context: "a")
        try storage.uploadArray(doubles, fileName: "d", context: "a")
        try storage.uploadArray(ints, fileName: "i", context: "a")
        try storage.uploadArray(vectors, fileName: "v", context: "a")
        try storage.uploadArray([Float](), fileName: "empty", context: "a")
        #expect(try storage.downloadArray(Float.self, fileName: "f", context: "a") == floats)
        #expect(try storage.downloadArray(Double.self, fileName: "d", context: "a") == doubles)
        #expect(try storage.downloadArray(Int32.self, fileName: "i", context: "a") == ints)
        #expect(try storage.downloadArray(Vector3.self, fileName: "v", context: "a") == vectors)
        #expect(try storage.downloadArray(Float.self, fileName: "empty", context: "a") == [])
        // The payload is the elements' bytes, right after the 64-byte header.
        let file = try #require(contents(of: scratch.at("root/a/f")))
        #expect(file.count == ObjectHeader.size + floats.count * 4)
        #expect(file.dropFirst(ObjectHeader.size).prefix(4) == floats.withUnsafeBytes { Data($0.prefix(4)) })
    }

    @Test func wrongTypeOrShapeIsDecodingFailed() throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.noSync)
        try storage.uploadObject(Self.step, fileName: "step", context: "")
        try storage.uploadArray([Float](repeating: 1, count: 10), fileName: "floats", context: "")
        expectError(.decodingFailed) { try storage.downloadObject([String].self, fileName: "step", context: "") }
        expectError(.decodingFailed) { try storage.downloadArray(Double.self, fileName: "floats", context: "") }
        expectError(.decodingFailed) { try storage.downloadArray(Int32.self, fileName: "floats", context: "") }
        expectError(.decodingFailed) { try storage.downloadObject(PipelineStep.self, fileName: "floats", context: "") }
        expectError(.decodingFailed) { try storage.downloadArray(Float.self, fileName: "step", context: "") }
    }

    /// Every kind of damage on disk: a flipped payload byte, a flipped header byte, a truncated
    /// file, a file extended, a raw upload read as an object, an empty file.
    @Test(arguments: ["payload", "header", "truncated", "extended", "raw", "empty"])
    func corruptionIsDetected(_ damage: String) throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.noSync)
        try storage.uploadObject(Self.step, fileName: "o", context: "")
        try storage.uploadArray((0..<1_000).map { Double($0) }, fileName: "a", context: "")
        for name in ["o", "a"] {
            let path = scratch.at("root/" + name)
            var bytes = try #require(contents(of: path))
            switch damage {
            case "payload": bytes[bytes.count - 7] ^= 0x10
            case "header": bytes[9] ^= 0x01
            case "truncated": bytes = bytes.prefix(bytes.count - 1)
            case "extended": bytes.append(0)
            case "raw": bytes = Data("just some text that is not an object at all, but long enough to hold a header......".utf8)
            default: bytes = Data()
            }
            #expect(FileManager.default.createFile(atPath: path, contents: bytes))
        }
        expectError(.corrupted) { try storage.downloadObject(PipelineStep.self, fileName: "o", context: "") }
        expectError(.corrupted) { try storage.downloadArray(Double.self, fileName: "a", context: "") }
    }

    @Test func downloadFileIfExistsIsOneLookup() throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.noSync)
        try storage.uploadFile(file: "hit", fileName: "f", context: "c")
        #expect(try storage.downloadFileIfExists("f", context: "c") == Data("hit".utf8))
        #expect(try storage.downloadFileIfExists("g", context: "c") == nil)
        #expect(try storage.downloadFileIfExists("f", context: "no/such/context") == nil)
        #expect(mkdir(scratch.at("root/c/dir"), 0o755) == 0)
        expectError(.notARegularFile) { try storage.downloadFileIfExists("dir", context: "c") }
        expectError(.invalidName) { try storage.downloadFileIfExists("..", context: "c") }
        #if ENABLE_MOCKING
        // A miss is one confined open and nothing else.
        let injector = FaultInjector()
        #expect(try injector.run { try storage.downloadFileIfExists("g", context: "c") } == nil)
        #expect(Syscall.allCases.map { injector.calls(to: $0) }.reduce(0, +) == 1)
        #endif
        #if ENABLE_MOCKING
        // A failing fstat in a batch is an error, not a silent "missing".
        let failing = FaultInjector([.init(syscall: .fstat, call: 1, repeats: false, fault: .fail(EIO))])
        failing.run { expectError(.ioError) { try storage.downloadFiles(["f"], context: "c") } }
        #endif
        let batch = try storage.downloadFiles(["f", "g", "dir"], context: "c")
        #expect(batch == [Data("hit".utf8), nil, nil])
        #expect(try storage.checkIfExists(["f", "g", "dir"], context: "c") == [true, false, false])
        #expect(try storage.checkIfExists(["f"], context: "missing") == [false])
        expectError(.invalidName) { try storage.checkIfExists(["ok", "a/b"], context: "c") }
    }
}
