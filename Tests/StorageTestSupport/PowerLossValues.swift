/// The value the power-loss writer (StorageTestHelper) stores as an object, and the suite
/// (PowerLossTests) decodes. Everything in it follows from `seed` and `values.count`, so a
/// decoded value can be checked whole against the version the log names (length = count,
/// checksum = seed).
public struct PowerLossObject: Codable, Equatable, Sendable {
    public var seed: UInt64
    public var label: String
    public var values: [UInt64]

    /// The value the writer stores for the version (count, seed).
    public init(seed: UInt64, count: Int) {
        self.seed = seed
        label = "v" + String(seed, radix: 16)
        values = powerLossValues(seed: seed, count: count)
    }
}

/// An object's `values`: value `i` mixes the seed with `i`, so a block moved, repeated or taken
/// from another version shows. (Cheaper than a generator call per value in a debug build.)
public func powerLossValues(seed: UInt64, count: Int) -> [UInt64] {
    [UInt64](unsafeUninitializedCapacity: count) { buffer, initialized in
        for index in 0..<count { buffer[index] = powerLossValue(seed: seed, index: index) }
        initialized = count
    }
}

/// Value `index` of the version `seed`.
@inline(__always)
public func powerLossValue(seed: UInt64, index: Int) -> UInt64 {
    let mixed = seed &+ UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15
    return mixed ^ (mixed >> 29)
}
