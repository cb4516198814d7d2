import Glibc

/// The process umask, read from /proc/self/status ("Umask:" line, Linux 4.7+) because umask(2)
/// can only be read by setting it, which would race with other threads. 022 if unreadable.
func currentUmask() -> mode_t {
    let fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return 0o022 }
    defer { _ = close(fd) }
    var bytes = [UInt8](repeating: 0, count: 8192)
    let count = bytes.withUnsafeMutableBytes { buffer in
        guard let base = buffer.baseAddress else { return 0 }
        return (try? readFully(fd, base, buffer.count)) ?? 0
    }
    let text = String(decoding: bytes[..<count], as: UTF8.self)
    for line in text.split(separator: "\n") where line.hasPrefix("Umask:") {
        let digits = line.dropFirst("Umask:".count).trimmingCharacters(in: " \t")
        if let value = mode_t(digits, radix: 8) { return value }
    }
    return 0o022
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> Substring {
        var view = self
        while let first = view.first, set.contains(first) { view = view.dropFirst() }
        while let last = view.last, set.contains(last) { view = view.dropLast() }
        return view
    }
}
