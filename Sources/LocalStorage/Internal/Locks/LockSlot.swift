import Glibc

/// What a lock stands for. The domains are apart, so a lock a caller named like a cache entry
/// never delays that entry's computation, nor the reverse.
enum LockDomain: UInt8, Sendable {
    /// `withLock`, `tryLock`: a name the caller chose.
    case named = 1
    /// `cachedObject`, `cachedData`: the stored name being computed.
    case cacheEntry = 2
}

/// The byte of the lock file that stands for the lock on (`domain`, `context`, `name`): a 64-bit
/// hash of the three, in [0, 2^62) (within off_t's range on any 64-bit system, and far from it).
///
/// Byte-range locks need no data behind them, so the file stays empty whatever the number of
/// names ever locked. Two locks whose names hash to one byte only wait for each other; with
/// 2^62 bytes that takes about 2^31 locks held at once to become likely.
///
/// The hash is part of the on-disk format: every process using a root must map a name to the
/// same byte, so it is FNV-1a (fixed, unseeded), finished with MurmurHash3's 64-bit mixer to
/// spread nearby names across the whole range. Never change it without renaming the lock file.
func lockSlot(_ domain: LockDomain, context: String, name: String) -> off_t {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    func mix(_ byte: UInt8) {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01b3
    }
    mix(domain.rawValue)
    for byte in context.utf8 { mix(byte) }
    // NUL never occurs in a valid context or name, so (context, name) pairs cannot run together.
    mix(0)
    for byte in name.utf8 { mix(byte) }
    hash ^= hash >> 33
    hash = hash &* 0xff51_afd7_ed55_8ccd
    hash ^= hash >> 33
    hash = hash &* 0xc4ce_b9fe_1a85_ec53
    hash ^= hash >> 33
    return off_t(truncatingIfNeeded: hash & (UInt64(off_t.max) >> 1))
}
