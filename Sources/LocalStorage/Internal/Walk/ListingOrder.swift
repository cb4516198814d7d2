import Glibc

/// The names of a listing, collected as bytes in one buffer and put in the listings' order: by
/// UTF-8 bytes, like `ls` in the C locale. Deterministic, and far cheaper than sorting Strings
/// with their Unicode-aware `<` (which would also place canonically equivalent spellings
/// together; bytes do not). Strings are made once, in order, at the end.
struct ListedNames {
    private var bytes: [UInt8] = []
    /// Where each name is, and its first 8 bytes as a big-endian integer (zero-padded: names
    /// hold no NUL, so a shorter name's padding sorts it first, as bytes would).
    private var spans: [(start: Int, count: Int, prefix: UInt64)] = []

    var count: Int { spans.count }

    /// Adds a name (valid UTF-8: the scan checked it).
    mutating func append(_ name: UnsafeBufferPointer<UInt8>) {
        var prefix: UInt64 = 0
        for index in 0..<8 {
            prefix = prefix << 8 | UInt64(index < name.count ? name[index] : 0)
        }
        spans.append((bytes.count, name.count, prefix))
        bytes.append(contentsOf: name)
    }

    /// The indexes of the names in byte order (ties, which one directory cannot have, keep
    /// their scan order).
    func order() -> [Int] {
        var indexes = Array(spans.indices)
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            spans.withUnsafeBufferPointer { spans in
                indexes.sort { left, right in
                    let a = spans[left]
                    let b = spans[right]
                    if a.prefix != b.prefix { return a.prefix < b.prefix }
                    // The same first 8 bytes: both are at least that long (or equal).
                    let common = min(a.count, b.count)
                    if common > 8 {
                        let order = memcmp(base + a.start + 8, base + b.start + 8, common - 8)
                        if order != 0 { return order < 0 }
                    }
                    return a.count < b.count
                }
            }
        }
        return indexes
    }

    /// The name at `index` as a String.
    func name(at index: Int) -> String {
        let span = spans[index]
        return bytes.withUnsafeBufferPointer { buffer in
            String(decoding: UnsafeBufferPointer(rebasing: buffer[span.start..<(span.start + span.count)]), as: UTF8.self)
        }
    }

    /// Every name, in byte order.
    func sortedNames() -> [String] {
        order().map { name(at: $0) }
    }
}
