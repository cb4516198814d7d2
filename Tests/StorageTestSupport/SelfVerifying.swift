import Foundation

/// A file format that proves its own completeness: a 20-byte header (magic, payload length,
/// payload checksum) and a pseudo-random payload. A torn, truncated or mixed file fails `check`.
public enum SelfVerifying {
    static let magic: UInt32 = 0x4C53_5631  // "LSV1"
    public static let headerSize = 20

    /// A complete version with `length` payload bytes derived from `seed`.
    public static func make(seed: UInt64, length: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: headerSize + length)
        bytes.withUnsafeMutableBytes { buffer in
            var state = seed | 1
            var offset = headerSize
            while offset + 8 <= buffer.count {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                buffer.storeBytes(of: state, toByteOffset: offset, as: UInt64.self)
                offset += 8
            }
            while offset < buffer.count {
                buffer[offset] = UInt8(truncatingIfNeeded: state >> 11 &+ UInt64(offset))
                offset += 1
            }
            let sum = checksum(UnsafeRawBufferPointer(rebasing: buffer[headerSize...]))
            buffer.storeBytes(of: magic.littleEndian, toByteOffset: 0, as: UInt32.self)
            buffer.storeBytes(of: UInt64(length).littleEndian, toByteOffset: 4, as: UInt64.self)
            buffer.storeBytes(of: sum.littleEndian, toByteOffset: 12, as: UInt64.self)
        }
        return bytes
    }

    /// True if `data` is one complete version.
    public static func check(_ data: Data) -> Bool {
        guard data.count >= headerSize else { return false }
        return data.withUnsafeBytes { buffer in
            guard UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: 0, as: UInt32.self)) == magic else { return false }
            let length = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: 4, as: UInt64.self))
            let sum = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: 12, as: UInt64.self))
            guard length == UInt64(buffer.count - headerSize) else { return false }
            return checksum(UnsafeRawBufferPointer(rebasing: buffer[headerSize...])) == sum
        }
    }

    /// FNV-1a over 64-bit words, then the tail bytes.
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var offset = 0
        while offset + 8 <= bytes.count {
            hash = (hash ^ bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0x100_0000_01b3
            offset += 8
        }
        while offset < bytes.count {
            hash = (hash ^ UInt64(bytes[offset])) &* 0x100_0000_01b3
            offset += 1
        }
        return hash
    }

    /// The names the crash writer and the hammer use, in context `context`.
    public static let names = ["alpha", "beta", "gamma", "delta"]
    public static let context = "crash"

    /// What a directory of self-verifying files holds: complete versions, torn ones, temp files.
    public struct Census: Sendable {
        public var complete = 0
        public var torn: [String] = []
        public var temps: [String] = []
    }

    /// Reads every file in `directory` (bypassing the engine).
    public static func census(of directory: String) -> Census {
        var census = Census()
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for entry in entries {
            if entry.hasPrefix(".ls-tmp-") {
                census.temps.append(entry)
            } else if let data = FileManager.default.contents(atPath: directory + "/" + entry), check(data) {
                census.complete += 1
            } else {
                census.torn.append(entry)
            }
        }
        return census
    }
}

/// A small deterministic generator (splitmix64), so a failing run can be replayed from its seed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
