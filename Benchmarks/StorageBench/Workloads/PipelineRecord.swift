#if Benchmark
import Foundation

/// The object of the pipeline-cache rows (issue 9): a step's result of 20 fields, one of them a
/// 1,000-element `[Float]` embedding. `PythonCacheScript` builds the same object in Python (a
/// dataclass whose embedding is a list of floats), so diskcache and the seed pickle what the
/// engine encodes.
struct PipelineRecord: Codable, Equatable, Sendable {
    var id: Int
    var name: String
    var step: String
    var inputHash: String
    var version: Int
    var createdAt: Date
    var durationSeconds: Double
    var rows: Int
    var columns: Int
    var learningRate: Double
    var epochs: Int
    var batchSize: Int
    var seed: UInt64
    var accuracy: Double
    var loss: Double
    var validated: Bool
    var tags: [String]
    var parameters: [String: Double]
    var note: String?
    var embedding: [Float]

    /// Elements of `embedding`.
    static let embeddingCount = 1_000

    /// The record numbered `id`; the same values as `make_record(id)` in the Python script.
    static func make(_ id: Int) -> PipelineRecord {
        PipelineRecord(
            id: id, name: "model-\(id)", step: "train",
            inputHash: String(repeating: String(format: "%016llx", UInt64(id) &* 0x9E37_79B9_7F4A_7C15), count: 4),
            version: 3, createdAt: Date(timeIntervalSince1970: 1_760_000_000 + Double(id)), durationSeconds: 12.5,
            rows: 100_000, columns: 1_000, learningRate: 0.001, epochs: 20, batchSize: 256, seed: 42,
            accuracy: 0.9731, loss: 0.0842, validated: true, tags: ["embedding", "v3", "production"],
            parameters: ["dropout": 0.1, "weightDecay": 0.0001, "momentum": 0.9, "warmupSteps": 500],
            note: "trained on shard \(id)",
            embedding: (0..<embeddingCount).map { Float(($0 * 7919 + id) % 1000) / 1000 })
    }
}
#endif
