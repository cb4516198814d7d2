internal import CLocalStorage

/// CRC-32C (Castagnoli): the checksum of stored object and array headers and payloads.
///
/// The C target computes it with the CPU's CRC instructions when it has them (SSE4.2 on x86-64,
/// the CRC extension on aarch64) and with a portable table walk otherwise; both give the standard
/// CRC-32C (`crc32c("123456789") == 0xE3069283`). Checksums chain: the checksum of `a + b` is
/// `CRC32C.checksum(b, continuing: CRC32C.checksum(a))`.
enum CRC32C {
    /// The checksum of `bytes`, continuing from the checksum of the bytes before them (0 for none).
    static func checksum(_ bytes: UnsafeRawBufferPointer, continuing previous: UInt32 = 0) -> UInt32 {
        CLocalStorage_crc32c(previous, bytes.baseAddress, bytes.count)
    }

    /// The checksum of `bytes`, continuing from the checksum of the bytes before them (0 for none).
    static func checksum(_ bytes: [UInt8], continuing previous: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, continuing: previous) }
    }

    /// The same checksum by the portable path, whatever the CPU; tests compare it with `checksum`.
    static func portableChecksum(_ bytes: UnsafeRawBufferPointer, continuing previous: UInt32 = 0) -> UInt32 {
        CLocalStorage_crc32c_portable(previous, bytes.baseAddress, bytes.count)
    }

    /// Whether `checksum` runs on CPU instructions rather than the portable path.
    static var isHardwareAccelerated: Bool { CLocalStorage_crc32c_is_hardware_accelerated() != 0 }
}
