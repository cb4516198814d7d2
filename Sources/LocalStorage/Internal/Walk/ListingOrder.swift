import Glibc

/// The names of a listing, collected as bytes in one buffer and put in the listings' order: by
/// UTF-8 bytes, like `ls` in the C locale. Deterministic, and far cheaper than sorting Strings
/// with their Unicode-aware `<` (which would also place canonically equivalent spellings
/// together; bytes do not). Each String is made as its entry is read, while the directory
/// buffer is still in cache, then put in order.
struct ListedNames {
    /// One name as the sort sees it: its first 16 bytes as two big-endian integers
    /// (zero-padded: names hold no NUL, so a shorter name's padding sorts it first, as its bytes
    /// would) and its position in the scan. Sorting these compares integers; only names that
    /// share their first 16 bytes reach the buffer.
    private struct Key {
        var head: UInt64
        var tail: UInt64
        var index: UInt32
    }

    private var bytes: [UInt8] = []
    private var keys: [Key] = []
    private var names: [String] = []
    /// Where each name's bytes are in `bytes`, by scan position.
    private var spans: [(start: Int, count: Int)] = []

    /// Adds a name (valid UTF-8: the scan checked it).
    mutating func append(_ name: UnsafeBufferPointer<UInt8>) {
        var head: UInt64 = 0
        var tail: UInt64 = 0
        for offset in 0..<8 {
            head = head << 8 | UInt64(offset < name.count ? name[offset] : 0)
            tail = tail << 8 | UInt64(offset + 8 < name.count ? name[offset + 8] : 0)
        }
        keys.append(Key(head: head, tail: tail, index: UInt32(truncatingIfNeeded: keys.count)))
        spans.append((bytes.count, name.count))
        bytes.append(contentsOf: name)
        names.append(String(decoding: name, as: UTF8.self))
    }

    /// The names in byte order, each with its position in the scan.
    func sorted() -> [(name: String, index: Int)] {
        var order = keys
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            spans.withUnsafeBufferPointer { spans in
                order.sort { a, b in
                    if a.head != b.head { return a.head < b.head }
                    if a.tail != b.tail { return a.tail < b.tail }
                    // The same first 16 bytes: both are at least that long (or equal).
                    let left = spans[Int(a.index)]
                    let right = spans[Int(b.index)]
                    let common = min(left.count, right.count)
                    if common > 16 {
                        let order = memcmp(base + left.start + 16, base + right.start + 16, common - 16)
                        if order != 0 { return order < 0 }
                    }
                    return left.count < right.count
                }
            }
        }
        return order.map { (names[Int($0.index)], Int($0.index)) }
    }
}
